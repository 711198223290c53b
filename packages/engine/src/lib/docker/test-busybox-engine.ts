// What the docker driver's per-engine test files share: an engine started for the file, the driver
// connected to it, and the busybox test image loaded into it as a docker-archive (skopeo writes it
// from the layout, so no registry is needed); all of it stopped and removed after the file.
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningEngine } from '@ocikit/test-engines';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll } from 'vitest';
import type { Driver } from '../contract.ts';
import { Engine } from '../engine.ts';

const run = promisify(execFile);

/**
 * Builds the busybox test image in `dir` and loads it into the engine as `image`, through a
 * docker-archive skopeo writes from the layout (no registry needed).
 */
export async function loadBusybox(engine: Engine, dir: string, image: string): Promise<void> {
  buildBusyboxImage(join(dir, 'layout'), 'busybox');
  await run('skopeo', [
    ...['copy', '--quiet'],
    `oci:${join(dir, 'layout')}:busybox`,
    `docker-archive:${join(dir, 'busybox.tar')}:${image}`,
  ]);
  await engine.images.load(createReadStream(join(dir, 'busybox.tar')), {});
}

/**
 * Registers, in the calling `describe` (or file), a `beforeAll` that starts the engine `start` gives,
 * connects `driver` to it and loads busybox as `image`, and an `afterAll` that closes and stops it
 * all. A later `beforeAll` of the caller runs after it; a later `afterAll` before it.
 */
export function useBusyboxEngine(
  driver: Driver,
  start: () => Promise<RunningEngine>,
  image: string,
): { engine(): Engine } {
  let running: RunningEngine | undefined;
  let engine: Engine | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    running = await start();
    engine = await Engine.connect(driver, running.host, { env: running.env });
    dir = mkdtempSync(join(tmpdir(), 'ocikit-driver-busybox-'));
    await loadBusybox(engine, dir, image);
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await running?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  return {
    engine: () => {
      if (!engine) throw new Error('the engine is not started yet (use it inside a case)');
      return engine;
    },
  };
}
