// The local engine's image and system operations against the real test registry (CNCF distribution
// on loopback) and a busybox image built without Docker: pull with progress, list, inspect, tag,
// remove (and its refusal while a container uses the image), push, the events journal, and
// concurrent pulls of one image converging.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { Engine, type EngineEvent, type ProgressEvent } from '@ocikit/engine';
import { isFailedPrecondition, isInvalidArgument, isNotFound } from '@ocikit/errors';
import { openRepository, Transport } from '@ocikit/registry';
import { Containers } from '@ocikit/shim';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDriver } from './driver.ts';
import { recordEvent } from './events.ts';
import { diskUsage, pruneLocal } from './system.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ocikit-local-images-'));
  dirs.push(d);
  return d;
};

let registry: RunningRegistry;
let image: BuiltImage;
let env: Record<string, string>;
let name: string;

/** A local engine on a fresh state root (or the one given), in the test's environment. */
async function engineOn(root = tmp()): Promise<{ engine: Engine; root: string }> {
  return { engine: await Engine.connect(localDriver(), `local:${root}`, { env }), root };
}

beforeAll(async () => {
  registry = await startRegistry();
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  const conf = join(tmp(), 'registries.conf');
  writeFileSync(conf, '');
  // no credentials, no registries.conf of the host's
  env = {
    HOME: tmp(),
    DOCKER_CONFIG: tmp(),
    REGISTRY_AUTH_FILE: join(tmp(), 'none.json'),
    CONTAINERS_REGISTRIES_CONF: conf,
    XDG_RUNTIME_DIR: tmp(),
  };
  name = `${registry.host}/lib/busybox:1`;
  const transport = new Transport();
  try {
    const layout = await openLayout(image.layout);
    await copy(layout, 'busybox', openRepository(name, { transport }), '1');
  } finally {
    await transport.close();
  }
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('images of the local engine', () => {
  let engine: Engine;
  let root: string;
  let id: string;

  beforeAll(async () => {
    ({ engine, root } = await engineOn());
  });

  it('pulls with Docker-worded progress, under the full name', async () => {
    const events: ProgressEvent[] = [];
    const pulled = await engine.images.pull(name, { onProgress: (e) => events.push(e) });
    expect(pulled.name).toBe(name);
    expect(pulled.digest).toBe(image.manifest);
    expect(pulled.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    id = pulled.id;
    const layer = image.layers[0] ?? '';
    expect(events.find((e) => e.id === layer && e.status === 'Pulling fs layer')?.total).toBeGreaterThan(0);
    expect(events.some((e) => e.id === layer && e.status === 'Download complete')).toBe(true);
    expect(events.at(-2)).toEqual({ status: `Digest: ${image.manifest}` });
    expect(events.at(-1)).toEqual({ status: `Status: Downloaded newer image for ${name}` });
    // again: every blob is there already
    const again: ProgressEvent[] = [];
    await engine.images.pull(name, { onProgress: (e) => again.push(e) });
    expect(again.filter((e) => e.id !== undefined).every((e) => e.status === 'Already exists')).toBe(true);
  });

  it('lists and inspects it by name, id and id prefix', async () => {
    const [summary, ...rest] = await engine.images.list();
    expect(rest).toEqual([]);
    expect(summary).toMatchObject({
      id,
      repoTags: [name],
      repoDigests: [`${registry.host}/lib/busybox@${image.manifest}`],
    });
    expect(summary?.size).toBeGreaterThan(500_000);
    expect(summary?.platform).toMatch(/^linux\//);
    for (const ref of [name, id, id.slice(7, 19)]) {
      const details = await engine.images.inspect(ref);
      expect(details.id, ref).toBe(id);
      expect(details.os).toBe('linux');
      expect(details.diffIds).toEqual(image.diffIds);
    }
    // pulled by digest: listed under that name too, found by it
    const byDigest = `${registry.host}/lib/busybox@${image.manifest}`;
    await engine.images.pull(byDigest);
    expect((await engine.images.list())[0]?.repoTags.sort()).toEqual([byDigest, name].sort());
    expect((await engine.images.inspect(byDigest)).id).toBe(id);
    await engine.images.remove(byDigest);
    const missing = await engine.images.inspect('nosuch:1').catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect(missing).toMatchObject({
      details: { engine: 'local', operation: 'images.inspect', reason: 'image-not-found' },
    });
  });

  it('tags, and removes a name (untag) apart from the image (delete)', async () => {
    await engine.images.tag(name, 'mine:2');
    expect((await engine.images.list())[0]?.repoTags.sort()).toEqual(
      [name, 'docker.io/library/mine:2'].sort(),
    );
    expect(await engine.images.list({ reference: 'mine' })).toHaveLength(1);
    expect(await engine.images.list({ reference: 'other' })).toHaveLength(0);
    expect(await engine.images.remove('mine:2')).toEqual([{ untagged: 'docker.io/library/mine:2' }]);
    const digestRef = await engine.images.tag(name, 'x@sha256:abc').catch((e: unknown) => e);
    expect(isInvalidArgument(digestRef)).toBe(true);
  });

  it('pushes a stored image to its registry', async () => {
    const target = `${registry.host}/pushed/busybox:2`;
    await engine.images.tag(name, target);
    const pushed = await engine.images.push(target);
    expect(pushed.digest).toBe(image.manifest);
    // the registry has it: a fresh engine pulls it
    const { engine: other } = await engineOn();
    expect((await other.images.pull(target)).digest).toBe(image.manifest);
    await engine.images.remove(target);
  });

  it('refuses to remove an image a container uses; force keeps it for the container', async () => {
    const containers = new Containers({ root });
    const record = await containers.prepare({ image: name, command: ['true'], name: 'user1' });
    const refused = await engine.images.remove(name).catch((e: unknown) => e);
    expect(isFailedPrecondition(refused)).toBe(true);
    expect(refused).toMatchObject({
      details: { engine: 'local', reason: 'image-in-use', image: name, container: record.id, name: 'user1' },
    });
    // the name the container uses may go while another keeps the image: the container still holds it
    await engine.images.tag(name, 'alias:1');
    expect(await engine.images.remove(name)).toEqual([{ untagged: name }]);
    const stillUsed = await engine.images.remove('alias:1').catch((e: unknown) => e);
    expect(stillUsed).toMatchObject({ details: { reason: 'image-in-use', container: record.id } });
    await engine.images.tag('alias:1', name);
    await engine.images.remove('alias:1');
    expect(await engine.images.remove(name, { force: true })).toEqual([{ untagged: name }]);
    expect(await engine.images.list()).toEqual([]);
    // kept under no name for the container: a dangling image, as `images -a` shows
    const [dangling] = await engine.images.list({ all: true });
    expect(dangling).toMatchObject({ id, repoTags: [] });
    await containers.remove(record.id);
  });
});

describe('save and load', () => {
  it('saves a docker-archive that another engine loads under the same name and id', async () => {
    const { engine } = await engineOn();
    const { id } = await engine.images.pull(name);
    await engine.images.tag(name, 'saved:1');
    const chunks: Uint8Array[] = [];
    for await (const chunk of engine.images.save(['saved:1'])) chunks.push(chunk);
    const tar = Buffer.concat(chunks);
    // a tar whose manifest.json names the image as docker save does
    expect(tar.includes(Buffer.from('manifest.json'))).toBe(true);
    expect(tar.includes(Buffer.from('saved:1"'))).toBe(true);
    const { engine: other } = await engineOn();
    const loaded = await other.images.load(
      (async function* () {
        yield tar;
      })(),
    );
    expect(loaded).toEqual(['docker.io/library/saved:1']);
    expect((await other.images.inspect('saved:1')).id).toBe(id);
    const missing = await engine.images
      .save(['nosuch:1'])
      [Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
  });
});

describe('credentials and TLS', () => {
  it('bad-credentials for refused credentials; a pull with the right ones; tlsVerify false for a self-signed registry', async () => {
    const [basic, tls] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry({ tls: true })]);
    try {
      const { username, password } = basic.credentials;
      const layout = await openLayout(image.layout);
      for (const [registry, auth] of [
        [basic, { username, password }],
        [tls, undefined],
      ] as const) {
        const transport = new Transport({ ...(auth ? { credentials: auth } : {}), insecure: true });
        try {
          await copy(layout, 'busybox', openRepository(`${registry.host}/sec/busybox:1`, { transport }), '1');
        } finally {
          await transport.close();
        }
      }
      const { engine } = await engineOn();
      const refused = await engine.images
        .pull(`${basic.host}/sec/busybox:1`, { auth: { username, password: 'wrong' } })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({
        details: { engine: 'local', reason: 'bad-credentials', registry: basic.host },
      });
      expect(String(refused)).not.toContain(password);
      const pulled = await engine.images.pull(`${basic.host}/sec/busybox:1`, {
        auth: { username, password },
      });
      expect(pulled.digest).toBe(image.manifest);
      const unverified = await engine.images.pull(`${tls.host}/sec/busybox:1`).catch((e: unknown) => e);
      expect(unverified).toBeInstanceOf(Error);
      expect((await engine.images.pull(`${tls.host}/sec/busybox:1`, { tlsVerify: false })).digest).toBe(
        image.manifest,
      );
    } finally {
      await Promise.all([basic.stop(), tls.stop()]);
    }
  }, 60_000);
});

describe('pull policies and errors', () => {
  it('never: image-not-found when missing; missing: from the store without the registry', async () => {
    const { engine } = await engineOn();
    const never = await engine.images.pull(name, { policy: 'never' }).catch((e: unknown) => e);
    expect(never).toMatchObject({ details: { engine: 'local', reason: 'image-not-found' } });
    await engine.images.pull(name);
    const events: ProgressEvent[] = [];
    const kept = await engine.images.pull(name, { policy: 'missing', onProgress: (e) => events.push(e) });
    expect(kept.digest).toBe(image.manifest);
    expect(events).toEqual([]);
    // newer: asks the registry, copies nothing when its digest is the stored one
    const newer: ProgressEvent[] = [];
    await engine.images.pull(name, { policy: 'newer', onProgress: (e) => newer.push(e) });
    expect(newer.at(-1)).toEqual({ status: `Status: Image is up to date for ${name}` });
    expect(newer.some((e) => e.id !== undefined)).toBe(false);
    const bad = await engine.images.pull('no such image!', {}).catch((e: unknown) => e);
    expect(bad).toMatchObject({ details: { engine: 'local', reason: 'bad-argument' } });
    const platform = await engine.images.pull(name, { platform: 'nonsense/' }).catch((e: unknown) => e);
    expect(isInvalidArgument(platform)).toBe(true);
    const absent = await engine.images.pull(`${registry.host}/lib/nosuch:1`).catch((e: unknown) => e);
    expect(absent).toMatchObject({ details: { engine: 'local', reason: 'image-not-found' } });
  });

  it('concurrent pulls of one image converge on one stored image', async () => {
    const { engine, root } = await engineOn();
    const pulls = await Promise.all(Array.from({ length: 6 }, () => engine.images.pull(name)));
    expect(new Set(pulls.map((p) => p.id)).size).toBe(1);
    expect(new Set(pulls.map((p) => p.digest))).toEqual(new Set([image.manifest]));
    const store = await openLayout(join(root, 'content'));
    expect(await store.list()).toHaveLength(1);
    expect((await store.fsck()).problems).toEqual([]);
  });
});

describe('the local state: diskUsage and pruneLocal', () => {
  it('counts the image, then prune -a removes its names (untag and delete events) and its blobs', async () => {
    const { engine, root } = await engineOn();
    const { id } = await engine.images.pull(name);
    await engine.images.tag(name, 'spare:1');
    const rows = await diskUsage({ root, env });
    expect(rows.map((r) => [r.type, r.total, r.active])).toEqual([
      ['Images', 1, 0],
      ['Containers', 0, 0],
      ['Local Volumes', 0, 0],
      ['Snapshots', 0, 0],
    ]);
    expect(rows[0]?.reclaimable).toBe(rows[0]?.size);
    await new Promise((r) => setTimeout(r, 1100)); // past gc's one-second grace for fresh blobs
    const since = Date.now();
    const pruned = await pruneLocal({ root, env, all: true });
    expect(pruned.images.sort()).toEqual([name, 'docker.io/library/spare:1'].sort());
    expect(pruned.reclaimed).toBeGreaterThan(500_000);
    expect(await engine.images.list()).toEqual([]);
    const events: EngineEvent[] = [];
    for await (const e of engine.system.events({ since, until: Date.now() })) events.push(e);
    expect(events.map((e) => [e.action, e.id])).toEqual([
      ['untag', id],
      ['untag', id],
      ['delete', id],
    ]);
  });
});

describe('system operations and events', () => {
  it('version and info', async () => {
    const { engine, root } = await engineOn();
    const version = await engine.system.version();
    expect(version.name).toBe('ocikit');
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.os).toBe('linux');
    await engine.system.ping();
    await engine.images.pull(name);
    const info = await engine.system.info();
    expect(info).toMatchObject({ images: 1, containers: 0, root, defaultRuntime: 'runc' });
    expect(['overlayfs', 'native', 'overlay']).toContain(info.storageDriver);
  });

  it('a follower sees the events of image operations (and of other writers) as they happen', async () => {
    const { engine, root } = await engineOn();
    const controller = new AbortController();
    const seen: EngineEvent[] = [];
    const following = (async () => {
      for await (const e of engine.system.events({ signal: controller.signal })) {
        seen.push(e);
        if (seen.length === 4) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await engine.images.pull(name);
    await engine.images.tag(name, 'ev:1');
    await engine.images.remove('ev:1');
    // what the container operations write, through the same function
    const { localContext } = await import('./context.ts');
    await recordEvent(localContext({ root }), {
      type: 'container',
      action: 'start',
      id: 'c1',
      attributes: { name: 'web' },
    });
    await following;
    expect(seen.map((e) => [e.type, e.action])).toEqual([
      ['image', 'pull'],
      ['image', 'tag'],
      ['image', 'untag'],
      ['container', 'start'],
    ]);
    expect(seen[1]?.attributes.name).toBe('docker.io/library/ev:1');
    // since/until: the past, read and ended
    const past: EngineEvent[] = [];
    for await (const e of engine.system.events({ since: 0, until: Date.now() })) past.push(e);
    expect(past).toHaveLength(4);
    const later: EngineEvent[] = [];
    for await (const e of engine.system.events({ since: (seen[2]?.time ?? 0) + 0, until: Date.now() }))
      later.push(e);
    expect(later.map((e) => e.action)).toContain('start');
  });
});
