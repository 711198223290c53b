// The local state's volumes (issue 15): `diskUsage`'s Local Volumes row and `pruneLocal`'s `volumes`,
// with real volumes used by real containers (runc) — the numbers podman 4.3 gives for the same
// scenario (`podman system df`: 4 volumes, 2 active, 15.35kB, 12.35kB reclaimable; decision 196).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { Engine } from '@ocikit/engine';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDriver } from './driver.ts';
import { diskUsage, pruneLocal } from './system.ts';

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-local-system-'));
  made.push(dir);
  return dir;
};
let root: string;
let engine: Engine;
let host: string;
const volumeRow = async () => (await diskUsage({ root })).find((r) => r.type === 'Local Volumes');
const volumeNames = async () => (await engine.volumes.list()).map((v) => v.name);

beforeAll(async () => {
  root = tmp();
  const layout = join(tmp(), 'layout');
  buildBusyboxImage(layout, 'busybox');
  const store = await openLayout(join(root, 'content'), { create: true });
  await copy(await openLayout(layout), 'busybox', store, 'docker.io/library/busybox:latest');
  engine = await Engine.connect(localDriver(), `local:${root}`);
  // an exited container that wrote 3000 bytes to its named volume
  const { exitCode } = await engine.containers.run({
    image: 'busybox',
    name: 'writer',
    cmd: ['busybox', 'dd', 'if=/dev/zero', 'of=/data/f', 'bs=1000', 'count=3'],
    mounts: [{ type: 'volume', source: 'v-used', target: '/data' }],
  });
  expect(exitCode).toBe(0);
  // an unused volume with 12345 bytes (in a subdirectory), a tmpfs and a bind volume: theirs is 0
  const unused = await engine.volumes.create({ name: 'v-unused' });
  mkdirSync(join(unused.mountpoint, 'sub'));
  writeFileSync(join(unused.mountpoint, 'sub', 'x'), Buffer.alloc(12345, 1));
  await engine.volumes.create({ name: 'v-tmp', driverOpts: { type: 'tmpfs', o: 'size=1m' } });
  host = tmp();
  writeFileSync(join(host, 'f'), Buffer.alloc(5000, 2));
  await engine.volumes.create({ name: 'v-bind', driverOpts: { type: 'none', o: 'bind', device: host } });
}, 60_000);

afterAll(async () => {
  for (const c of await engine.containers.list({ all: true }))
    await engine.containers.remove(c.id, { force: true }).catch(() => {});
  await engine.close();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('the local state with volumes', () => {
  it('diskUsage: a volume is active while any container mounts it; its size is the bytes of its data', async () => {
    const rows = await diskUsage({ root });
    expect(rows.map((r) => r.type)).toEqual(['Images', 'Containers', 'Local Volumes', 'Snapshots']);
    expect(rows[2]).toEqual({ type: 'Local Volumes', total: 4, active: 1, size: 15345, reclaimable: 12345 });
    // a created (never started) container makes its volume active too
    await engine.containers.create({
      image: 'busybox',
      name: 'idle',
      cmd: ['true'],
      mounts: [{ type: 'volume', source: 'v-unused', target: '/data' }],
    });
    expect(await volumeRow()).toEqual({
      type: 'Local Volumes',
      total: 4,
      active: 2,
      size: 15345,
      reclaimable: 0,
    });
    await engine.containers.remove('idle');
    expect(await volumeRow()).toMatchObject({ active: 1, reclaimable: 12345 });
  });

  it('pruneLocal leaves volumes alone without `volumes`; with it, removes those no container uses', async () => {
    // a running container's volume is never removed
    const { id } = await engine.containers.create({
      image: 'busybox',
      name: 'runner',
      cmd: ['sleep', '60'],
      mounts: [{ type: 'volume', source: 'v-running', target: '/data' }],
    });
    await engine.containers.start(id);
    const plain = await pruneLocal({ root });
    expect(plain.containers).toHaveLength(1); // the exited writer
    expect(plain.volumes).toEqual([]);
    expect(await volumeNames()).toEqual(['v-bind', 'v-running', 'v-tmp', 'v-unused', 'v-used']);
    // an exited container's volume goes in the same prune: the container first, as podman
    const late = await engine.containers.run({
      image: 'busybox',
      cmd: ['sh', '-c', 'echo hello > /late/f'],
      mounts: [{ type: 'volume', source: 'v-late', target: '/late' }],
    });
    expect(late.exitCode).toBe(0);
    const pruned = await pruneLocal({ root, volumes: true });
    expect(pruned.containers).toHaveLength(1);
    expect(pruned.volumes).toEqual(['v-bind', 'v-late', 'v-tmp', 'v-unused', 'v-used']);
    expect(pruned.reclaimed).toBeGreaterThanOrEqual(12345 + 3000 + 6);
    expect(await volumeNames()).toEqual(['v-running']);
    // a bind volume's device is the host's: it stays
    expect(readFileSync(join(host, 'f'))).toHaveLength(5000);
    expect(existsSync(join(root, 'volumes', 'v-used'))).toBe(false);
    await engine.containers.kill(id);
    await engine.containers.wait(id);
  });
});
