// The same failures give the same error kind (`code`) and standard reason from the podman driver
// (libpod over a real `podman system service`) as from the docker driver (a real dockerd): images
// and containers that are not there, names in use, containers in the wrong state, images in use,
// bad input, a dead socket. The engine's own message differs, and is kept in the details.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcikitError } from '@ocikit/errors';
import { type RunningEngine, startDockerd, startPodmanService } from '@ocikit/test-engines';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../contract.ts';
import { dockerDriver } from '../docker/driver.ts';
import { Engine } from '../engine.ts';
import type { EngineErrorReason } from '../errors.ts';
import { podmanDriver } from './driver.ts';
import { type PushedTestImages, pushTestImages } from './test-images.ts';

interface Side {
  name: string;
  driver: Driver;
  service: RunningEngine;
  engine: Engine;
}

let registry: RunningRegistry;
let images: PushedTestImages;
let work: string;
const sides: Side[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ocikit-parity-'));
  registry = await startRegistry();
  images = await pushTestImages(join(work, 'layout'), registry.host);
  const [dockerd, podman] = await Promise.all([
    startDockerd({ insecureRegistries: [registry.host] }),
    startPodmanService(),
  ]);
  for (const [name, driver, service] of [
    ['docker', dockerDriver, dockerd],
    ['podman', podmanDriver, podman],
  ] as const) {
    const engine = await Engine.connect(driver, service.host);
    // dockerd reaches the plain-HTTP registry through --insecure-registry, podman through tlsVerify
    await engine.images.pull(images.busybox, { tlsVerify: false });
    sides.push({ name, driver, service, engine });
  }
});

afterAll(async () => {
  for (const side of sides) {
    await side.engine.close();
    await side.service.stop();
  }
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** What a failure gave: the error kind and standard reason, or `resolved` when it did not fail. */
async function outcome(
  run: () => Promise<unknown>,
): Promise<{ code: string; reason: unknown; message: string }> {
  try {
    await run();
    return { code: 'resolved', reason: undefined, message: '' };
  } catch (e) {
    if (!isOcikitError(e))
      return { code: `not an ocikit error: ${String(e)}`, reason: undefined, message: '' };
    return { code: e.code, reason: e.details['reason'], message: e.message };
  }
}

let serial = 0;
const unique = (what: string) => `parity-${what}-${process.pid}-${++serial}`;

/** A container of `image` (busybox by default) running `cmd`, no network, its image never pulled. */
const make = (e: Engine, cmd: string[], more: { name?: string; image?: string } = {}) =>
  e.containers.create({ image: images.busybox, cmd, network: 'none', ...more }, { pull: 'never' });

/** A failure to cause on each engine: `fail` makes the state, then makes the call that must fail. */
const cases: readonly {
  title: string;
  reason: EngineErrorReason;
  fail: (engine: Engine) => Promise<unknown>;
}[] = [
  {
    title: 'inspect of an image that is not there',
    reason: 'image-not-found',
    fail: (e) => e.images.inspect('absent/image:1'),
  },
  {
    title: 'remove of an image that is not there',
    reason: 'image-not-found',
    fail: (e) => e.images.remove('absent/image:1'),
  },
  {
    title: 'tag of an image that is not there',
    reason: 'image-not-found',
    fail: (e) => e.images.tag('absent/image:1', `${registry.host}/x:1`),
  },
  {
    title: 'pull of a repository the registry lacks',
    reason: 'image-not-found',
    fail: (e) => e.images.pull(`${registry.host}/absent:1`, { tlsVerify: false }),
  },
  {
    title: 'tag with a bad target name',
    reason: 'bad-argument',
    fail: (e) => e.images.tag(images.busybox, 'Bad..Name'),
  },
  {
    title: 'inspect of a container that is not there',
    reason: 'container-not-found',
    fail: (e) => e.containers.inspect('absent'),
  },
  {
    title: 'start of a container that is not there',
    reason: 'container-not-found',
    fail: (e) => e.containers.start('absent'),
  },
  {
    title: 'remove of a container that is not there',
    reason: 'container-not-found',
    fail: (e) => e.containers.remove('absent'),
  },
  {
    title: 'create from an image the engine lacks, pull never',
    reason: 'image-not-found',
    fail: (e) => make(e, ['true'], { image: `${registry.host}/absent:1` }),
  },
  {
    title: 'create with a name in use',
    reason: 'name-in-use',
    fail: async (e) => {
      const name = unique('name');
      await make(e, ['true'], { name });
      await make(e, ['true'], { name });
    },
  },
  {
    title: 'kill of a container that is not running',
    reason: 'container-not-running',
    fail: async (e) => {
      const { id } = await make(e, ['true']);
      await e.containers.kill(id, 'SIGKILL');
    },
  },
  {
    title: 'exec in a container that is not running',
    reason: 'container-not-running',
    fail: async (e) => {
      const { id } = await make(e, ['true']);
      await e.containers.exec(id, { cmd: ['true'] });
    },
  },
  {
    title: 'remove of a running container without force',
    reason: 'container-running',
    fail: async (e) => {
      const { id } = await make(e, ['sleep', '60']);
      await e.containers.start(id);
      try {
        await e.containers.remove(id);
      } finally {
        await e.containers.remove(id, { force: true }).catch(() => {});
      }
    },
  },
  {
    title: 'remove of an image a container uses, without force',
    reason: 'image-in-use',
    fail: async (e) => {
      const tag = `${registry.host}/in-use:${unique('tag')}`;
      await e.images.tag(images.busybox, tag);
      const { id } = await make(e, ['true'], { image: tag });
      try {
        // by id: the image has other names, and removing one name only untags
        await e.images.remove((await e.images.inspect(tag)).id);
      } finally {
        await e.containers.remove(id, { force: true }).catch(() => {});
      }
    },
  },
  {
    title: 'a socket nobody listens on',
    reason: 'engine-unreachable',
    fail: async (e) => {
      const driver = e.engine === 'podman' ? podmanDriver : dockerDriver;
      await Engine.connect(driver, `unix://${work}/nobody-${e.engine}.sock`);
    },
  },
];

describe('the same failure, the same error from docker and podman', () => {
  for (const c of cases) {
    it(`${c.title}: ${c.reason}`, async () => {
      const got: Record<string, { code: string; reason: unknown; message: string }> = {};
      for (const side of sides) got[side.name] = await outcome(() => c.fail(side.engine));
      const podman = got['podman'];
      const docker = got['docker'];
      expect({ code: podman?.code, reason: podman?.reason }, `podman: ${podman?.message}`).toEqual({
        code: docker?.code,
        reason: docker?.reason,
      });
      expect(docker?.reason, `docker: ${docker?.message}`).toBe(c.reason);
      expect(podman?.message).toMatch(/^podman: /);
    });
  }
});
