// The cached uncompressed layer sizes (decisions 213, 215) go with the last image that has their
// diff: `ocikit gc` and `system prune` drop them as they drop unused snapshots (decision 215).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

let dir: string;
const cli = (args: readonly string[]) => runCli(['--root', join(dir, 'root'), ...args]);
const cached = () => readdirSync(join(dir, 'root', 'layer-sizes')).sort();

/** The diffIDs of `ref`'s layers, as the cache names them (`sha256-…`). */
async function diffIds(ref: string): Promise<string[]> {
  const r = await cli(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as string[]).map((d) => d.replace(':', '-'));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocikit-layer-sizes-gc-'));
  buildBusyboxImage(join(dir, 'layout'), 'busybox');
  const copied = await cli(['copy', `oci:${join(dir, 'layout')}:busybox`, 'local:busybox']);
  expect(copied.code, copied.stderr).toBe(0);
  for (const n of ['1', '2']) {
    mkdirSync(join(dir, `ctx${n}`));
    writeFileSync(join(dir, `ctx${n}`, 'Containerfile'), `FROM busybox\nRUN echo ${n} > /f\n`);
    const built = await cli(['build', '-q', '-t', `sized:${n}`, join(dir, `ctx${n}`)]);
    expect(built.code, built.stderr).toBe(0);
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the layer-sizes cache and the gc', () => {
  it('rmi then gc drops the sizes of the diffs only the removed image had; system prune -a those of unused images', async () => {
    const [base, own1] = await diffIds('sized:1');
    const [, own2] = await diffIds('sized:2');
    expect((await cli(['images'])).code).toBe(0); // measures every layer
    expect(cached()).toEqual([base, own1, own2].sort());

    expect((await cli(['rmi', 'sized:1'])).code).toBe(0);
    const gc = await cli(['gc']);
    expect(gc.code, gc.stderr).toBe(0);
    // busybox's layer is still sized:2's and busybox's own
    expect(cached()).toEqual([base, own2].sort());

    expect((await cli(['rmi', 'busybox'])).code).toBe(0);
    const pruned = await cli(['system', 'prune', '-a', '-f']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(cached()).toEqual([]);
  }, 120_000);
});
