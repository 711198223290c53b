import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { Engine, type OutputChunk } from '@ocikit/engine';
import { isOcikitError } from '@ocikit/errors';
import { buildVolumeImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDriver } from './driver.ts';

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-local-vol-'));
  made.push(dir);
  return dir;
};
let root: string;
let engine: Engine;

beforeAll(async () => {
  root = tmp();
  const layout = join(tmp(), 'layout');
  buildVolumeImage(layout, 'vol');
  const store = await openLayout(join(root, 'content'), { create: true });
  await copy(await openLayout(layout), 'vol', store, 'docker.io/library/vol:latest');
  engine = await Engine.connect(localDriver(), `local:${root}`);
});

afterAll(async () => {
  for (const c of await engine.containers.list({ all: true }))
    await engine.containers.remove(c.id, { force: true }).catch(() => {});
  await engine.close();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A foreground run's output and exit code. */
async function run(spec: Parameters<Engine['containers']['run']>[0]): Promise<{ out: string; code: number }> {
  let out = '';
  const { exitCode } = await engine.containers.run(spec, {
    onOutput: (c: OutputChunk) => {
      out += Buffer.from(c.data).toString('utf8');
    },
  });
  return { out, code: exitCode };
}

/** The standard reason of a failed call. */
async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return isOcikitError(e) ? e.details.reason : e;
  }
  return 'no error';
}

const names = async () => (await engine.volumes.list()).map((v) => v.name);

describe('local engine volumes', () => {
  it('create, inspect, list, remove; bad names and options refused', async () => {
    const v = await engine.volumes.create({ name: 'v-basic', labels: { a: 'b' } });
    expect(v).toMatchObject({ name: 'v-basic', driver: 'local', scope: 'local', labels: { a: 'b' } });
    expect(v.mountpoint).toBe(join(root, 'volumes', 'v-basic', '_data'));
    expect(existsSync(v.mountpoint)).toBe(true);
    // a name already there gives the volume that is there
    expect((await engine.volumes.create({ name: 'v-basic' })).createdAt).toBe(v.createdAt);
    expect(await names()).toContain('v-basic');
    expect(await reasonOf(engine.volumes.create({ name: '../x' }))).toBe('bad-argument');
    expect(await reasonOf(engine.volumes.create({ name: 'a/b' }))).toBe('bad-argument');
    expect(await reasonOf(engine.volumes.create({ name: 'x1', driverOpts: { type: 'nfs' } }))).toBe(
      'bad-argument',
    );
    expect(await reasonOf(engine.volumes.create({ name: 'x1', driverOpts: { type: 'bind' } }))).toBe(
      'bad-argument',
    );
    const since = Date.now() - 60_000;
    await engine.volumes.remove('v-basic');
    expect(await reasonOf(engine.volumes.inspect('v-basic'))).toBe('volume-not-found');
    const seen: string[] = [];
    for await (const e of engine.system.events({ since, until: Date.now() + 1 }))
      if (e.type === 'volume' && e.id === 'v-basic') seen.push(`${e.action} ${e.attributes.driver}`);
    expect(seen).toEqual(['create local', 'destroy local']);
    expect(await reasonOf(engine.volumes.remove('v-basic'))).toBe('volume-not-found');
  });

  it('a volume half-removed (its record gone, its directory left) is no volume, and its name can be made again', async () => {
    mkdirSync(join(root, 'volumes', 'v-half', '_data'), { recursive: true });
    writeFileSync(join(root, 'volumes', 'v-half', '_data', 'old'), 'x');
    expect(await names()).not.toContain('v-half');
    expect(await reasonOf(engine.volumes.inspect('v-half'))).toBe('volume-not-found');
    const v = await engine.volumes.create({ name: 'v-half' });
    expect(existsSync(join(v.mountpoint, 'old'))).toBe(false);
    await engine.volumes.remove('v-half');
  });

  it('a named volume keeps its data across two containers and their removal; copy-up from the image', async () => {
    const first = await run({
      image: 'vol',
      name: 'v-writer',
      user: '1234:2345',
      cmd: ['sh', '-c', 'cat /data/sub/file; stat -c "%u:%g %a" /data /data/sub/file; echo kept > /data/new'],
      mounts: [{ type: 'volume', source: 'v-keep', target: '/data' }],
    });
    expect(first).toEqual({ out: 'from the image\n1234:2345 751\n1234:2345 640\n', code: 0 });
    await engine.containers.remove('v-writer');
    const second = await run({
      image: 'vol',
      autoRemove: true,
      cmd: ['sh', '-c', 'cat /data/new'],
      mounts: [{ type: 'volume', source: 'v-keep', target: '/data' }],
    });
    expect(second).toEqual({ out: 'kept\n', code: 0 });
    expect(await names()).toContain('v-keep');
    // copied up once only: what a container removed stays removed
    await run({
      image: 'vol',
      autoRemove: true,
      user: '1234:2345',
      cmd: ['sh', '-c', 'rm /data/sub/file'],
      mounts: [{ type: 'volume', source: 'v-keep', target: '/data' }],
    });
    const third = await run({
      image: 'vol',
      autoRemove: true,
      cmd: ['ls', '/data/sub'],
      mounts: [{ type: 'volume', source: 'v-keep', target: '/data' }],
    });
    expect(third).toEqual({ out: '', code: 0 });
    await engine.volumes.remove('v-keep');
  });

  it('--rm removes anonymous volumes (the image Volumes and -v /path), never named ones', async () => {
    const before = await names();
    const r = await run({
      image: 'vol',
      autoRemove: true,
      user: '1234:2345',
      cmd: ['sh', '-c', 'cat /data/sub/file /seed/hello; ls /anon'],
      mounts: [
        { type: 'volume', target: '/anon' },
        { type: 'volume', source: 'v-named', target: '/named' },
      ],
    });
    expect(r).toEqual({ out: 'from the image\nseeded\n', code: 0 });
    expect((await names()).sort()).toEqual([...before, 'v-named'].sort());
    // a detached container keeps its anonymous volumes until `rm -v`
    const { id } = await engine.containers.create({ image: 'vol', cmd: ['true'] });
    const anon = (await names()).filter((n) => !before.includes(n) && n !== 'v-named');
    expect(anon).toHaveLength(1);
    expect(anon[0]).toMatch(/^[0-9a-f]{64}$/);
    await engine.containers.remove(id, { volumes: true });
    expect((await names()).sort()).toEqual([...before, 'v-named'].sort());
    await engine.volumes.remove('v-named');
  });

  it('a volume in use is not removed; -f removes it with its stopped containers, never a running one', async () => {
    const { id } = await engine.containers.create({
      image: 'vol',
      name: 'v-user',
      cmd: ['sleep', '30'],
      mounts: [{ type: 'volume', source: 'v-used', target: '/x' }],
    });
    expect(await reasonOf(engine.volumes.remove('v-used'))).toBe('volume-in-use');
    expect((await engine.containers.inspect(id)).mounts).toEqual([
      {
        type: 'volume',
        name: 'v-used',
        source: join(root, 'volumes', 'v-used', '_data'),
        destination: '/x',
        readOnly: false,
      },
      // the image's Volumes: an anonymous one
      expect.objectContaining({
        type: 'volume',
        name: expect.stringMatching(/^[0-9a-f]{64}$/),
        destination: '/data',
      }),
    ]);
    await engine.containers.start(id);
    expect(await reasonOf(engine.volumes.remove('v-used', { force: true }))).toBe('volume-in-use');
    expect((await engine.volumes.prune()).removed).not.toContain('v-used');
    await engine.containers.kill(id);
    await engine.containers.wait(id);
    await engine.volumes.remove('v-used', { force: true });
    expect(await reasonOf(engine.containers.inspect('v-user'))).toBe('container-not-found');
    expect(await names()).not.toContain('v-used');
  });

  it('volumesFrom mounts the other container’s volumes and binds, with a mode; tmpfs and bind volumes', async () => {
    const host = tmp();
    writeFileSync(join(host, 'f'), 'host file\n');
    await engine.volumes.create({ name: 'v-bind', driverOpts: { type: 'none', o: 'bind', device: host } });
    await engine.volumes.create({ name: 'v-tmp', driverOpts: { type: 'tmpfs', o: 'size=1m' } });
    await engine.containers.create({
      image: 'vol',
      name: 'v-source',
      cmd: ['true'],
      mounts: [
        { type: 'volume', source: 'v-from', target: '/from' },
        { type: 'bind', source: host, target: '/hostdir' },
      ],
    });
    const r = await run({
      image: 'vol',
      autoRemove: true,
      volumesFrom: ['v-source:ro'],
      cmd: [
        'sh',
        '-c',
        'cat /hostdir/f /b/f; (echo x > /from/y) 2>/dev/null || echo ro; grep " /t " /proc/mounts | cut -d" " -f3',
      ],
      mounts: [
        { type: 'volume', source: 'v-bind', target: '/b' },
        { type: 'volume', source: 'v-tmp', target: '/t' },
      ],
    });
    expect(r.out).toMatch(/^host file\nhost file\nro\ntmpfs\n$/);
    await engine.containers.remove('v-source', { volumes: true });
    // named volumes stay even with rm -v
    expect(await names()).toEqual(expect.arrayContaining(['v-from', 'v-bind', 'v-tmp']));
    const pruned = await engine.volumes.prune();
    expect(pruned.removed).toEqual(expect.arrayContaining(['v-from', 'v-bind', 'v-tmp']));
    expect(statSync(join(host, 'f')).isFile()).toBe(true);
  });
});
