import { isInvalidArgument, isNotFound, type NotFoundError } from '@ocikit/errors';
import { type Descriptor, MediaType, type Platform } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { fetchAll, pushBytes } from './helpers.ts';
import { MemoryStore } from './memory.ts';
import { selectManifest } from './select-manifest.ts';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** One image: a config declaring `platform`, one layer, and its manifest; returns the manifest's descriptor. */
async function image(store: MemoryStore, platform: Platform, label: string): Promise<Descriptor> {
  const layer = await pushBytes(store, MediaType.ImageLayerGzip, Buffer.from(`layer ${label}`));
  const config = await pushBytes(
    store,
    MediaType.ImageConfig,
    json({ ...platform, rootfs: { type: 'layers', diff_ids: [] } }),
  );
  return pushBytes(
    store,
    MediaType.ImageManifest,
    json({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config, layers: [layer] }),
  );
}

async function index(store: MemoryStore, manifests: Descriptor[]): Promise<Descriptor> {
  return pushBytes(
    store,
    MediaType.ImageIndex,
    json({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests }),
  );
}

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64v8 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const s390x = { os: 'linux', architecture: 's390x' };

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('selectManifest', () => {
  it('passes a manifest through, whatever the platform asked', async () => {
    const store = new MemoryStore();
    const m = await image(store, amd64, 'a');
    const got = await selectManifest(store, m, { platform: s390x });
    expect(got.descriptor).toEqual(m);
    expect(got.platform).toBeUndefined();
    expect(got.manifest.layers).toHaveLength(1);
  });

  it('picks the entry for the platform (linux/arm64 matches linux/arm64/v8) and uses bytes given', async () => {
    const store = new MemoryStore();
    const a = await image(store, amd64, 'a');
    const b = await image(store, arm64v8, 'b');
    const root = await index(store, [
      { ...a, platform: amd64 },
      { ...b, platform: arm64v8 },
    ]);
    const got = await selectManifest(store, root, { platform: { os: 'linux', architecture: 'arm64' } });
    expect(got.descriptor.digest).toBe(b.digest);
    expect(got.platform).toEqual(arm64v8);
    // the root's bytes as a caller read them (a registry's, exactly as served)
    const bytes = await fetchAll(store, root);
    const again = await selectManifest(store, root, { platform: amd64, bytes });
    expect(again.descriptor.digest).toBe(a.digest);
  });

  it('searches nested indexes: an index entry with the platform, and one without any', async () => {
    const store = new MemoryStore();
    const a = await image(store, amd64, 'a');
    const b = await image(store, arm64v8, 'b');
    const c = await image(store, s390x, 'c');
    const inner = await index(store, [{ ...b, platform: arm64v8 }]);
    const deeper = await index(store, [await index(store, [{ ...c, platform: s390x }])]);
    const root = await index(store, [{ ...a, platform: amd64 }, { ...inner, platform: arm64v8 }, deeper]);
    expect((await selectManifest(store, root, { platform: arm64v8 })).descriptor.digest).toBe(b.digest);
    expect((await selectManifest(store, root, { platform: s390x })).descriptor.digest).toBe(c.digest);
    expect((await selectManifest(store, root, { platform: amd64 })).descriptor.digest).toBe(a.digest);
  });

  it("matches an entry without a platform by its config's, and passes over attestations", async () => {
    const store = new MemoryStore();
    const a = await image(store, amd64, 'a');
    const b = await image(store, arm64v8, 'b');
    const attestation = await pushBytes(store, 'application/vnd.in-toto+json', Buffer.from('{}'));
    const root = await index(store, [attestation, a, b]);
    const got = await selectManifest(store, root, { platform: arm64v8 });
    expect(got.descriptor.digest).toBe(b.digest);
    expect(got.platform).toBeUndefined();
  });

  it('NotFound names the platform and what the index offers, nested ones included', async () => {
    const store = new MemoryStore();
    const a = await image(store, amd64, 'a');
    const b = await image(store, arm64v8, 'b');
    const c = await image(store, { os: 'windows', architecture: 'amd64' }, 'c');
    const root = await index(store, [
      { ...a, platform: amd64 },
      await index(store, [{ ...b, platform: arm64v8 }]),
      c,
    ]);
    const err = await errorOf(selectManifest(store, root, { platform: s390x, name: 'example/app:1' }));
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toBe('no manifest for platform linux/s390x in example/app:1');
    expect((err as NotFoundError).details).toEqual({
      platform: 'linux/s390x',
      available: ['linux/amd64', 'linux/arm64/v8', 'windows/amd64'],
    });
    expect((err as NotFoundError).hint).toBe('available: linux/amd64, linux/arm64/v8, windows/amd64');
  });

  it('InvalidArgument for indexes nested more than four deep, and for a document that is no manifest', async () => {
    const store = new MemoryStore();
    let current = await image(store, s390x, 'deep');
    for (let i = 0; i < 5; i++) current = await index(store, [current]);
    const deep = await errorOf(selectManifest(store, current, { platform: s390x }));
    expect(isInvalidArgument(deep)).toBe(true);
    expect((deep as Error).message).toMatch(/indexes nested more than 4 deep/);
    const four = await index(store, [
      await index(store, [await index(store, [await image(store, s390x, 'ok')])]),
    ]);
    expect((await selectManifest(store, four, { platform: s390x })).manifest.layers).toHaveLength(1);
    const notManifest = await pushBytes(store, MediaType.ImageManifest, json({ hello: 'world' }));
    expect(isInvalidArgument(await errorOf(selectManifest(store, notManifest)))).toBe(true);
  });
});
