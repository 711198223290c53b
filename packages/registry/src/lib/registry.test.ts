// The client against the real CNCF distribution registry (Debian's docker-registry), in its three
// auth modes. Each test uses its own repository names so they do not see each other's content.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type CopyEvent, copy, fetchAll, MemoryStore, openLayout, pushBytes } from '@ocikit/content';
import { digestOfSync } from '@ocikit/digest';
import {
  isDataLoss,
  isFailedPrecondition,
  isInvalidArgument,
  isNotFound,
  isPermissionDenied,
  isUnauthenticated,
  isUnavailable,
} from '@ocikit/errors';
import { MediaType } from '@ocikit/image-spec';
import { type AuthMode, type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryErrorEntry } from './errors.ts';
import { listCatalog } from './listing.ts';
import { referrersTag } from './referrers.ts';
import { openRepository, type RepositoryOptions } from './repository.ts';
import { makeImage, makeIndex } from './test-support.ts';
import { type RequestEvent, Transport } from './transport.ts';

describe.each<AuthMode>(['none', 'basic', 'token'])('against the real registry, auth %s', (auth) => {
  let registry: RunningRegistry;
  let transport: Transport;
  const events: RequestEvent[] = [];
  const repo = (name: string, options: RepositoryOptions = {}) =>
    openRepository(`${registry.host}/${auth}/${name}`, { transport, ...options });

  beforeAll(async () => {
    registry = await startRegistry({ auth, anonymousPull: false });
    transport = new Transport({ credentials: registry.credentials, onRequest: (e) => events.push(e) });
  });
  afterAll(async () => {
    await transport?.close();
    await registry?.stop();
  });

  it('pushes an image with copy and pulls it back into a layout, digests unchanged', async () => {
    const img = await makeImage({ layers: [300_000, 5], tag: 'v1' });
    const dst = repo('roundtrip');
    const pushed = await copy(img.store, 'v1', dst, 'v1');
    expect(pushed.digest).toBe(img.manifest.digest);

    const resolved = await dst.resolve('v1');
    expect(resolved).toEqual({
      mediaType: MediaType.ImageManifest,
      digest: img.manifest.digest,
      size: img.manifest.size,
    });
    expect(await dst.exists(img.layers[0]!)).toBe(true);
    expect(await dst.tags()).toEqual(['v1']);

    const dir = await mkdtemp(join(tmpdir(), 'ocikit-reg-'));
    try {
      const layout = await openLayout(dir, { create: true });
      await copy(dst, 'v1', layout, 'v1');
      for (const [digest, bytes] of img.bytes) {
        const desc = {
          mediaType: 'application/octet-stream',
          digest: digestOfSync(bytes),
          size: bytes.byteLength,
        };
        expect(desc.digest).toBe(digest);
        expect(Buffer.from(await fetchAll(layout, desc, { maxSize: 1e9 })).equals(Buffer.from(bytes))).toBe(
          true,
        );
      }
      expect((await layout.fsck()).problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fetches a manifest as served, by tag and by digest', async () => {
    const img = await makeImage({ tag: 'm1' });
    const r = repo('manifest');
    await copy(img.store, 'm1', r, 'm1');
    const byTag = await r.fetchManifest('m1');
    expect(byTag.descriptor).toEqual(img.manifest);
    expect(Buffer.from(byTag.bytes).equals(Buffer.from(img.bytes.get(img.manifest.digest)!))).toBe(true);
    const byDigest = await r.fetchManifest(img.manifest.digest);
    expect(byDigest.descriptor.digest).toBe(img.manifest.digest);
    const byRef = await r.resolve(`${registry.host}/${auth}/manifest@${img.manifest.digest}`);
    expect(byRef.digest).toBe(img.manifest.digest);
  });

  it('pushes a tagged image with two manifest requests: HEAD to skip, then one PUT by tag', async () => {
    const img = await makeImage({ tag: 'put1' });
    const from = events.length;
    await copy(img.store, 'put1', repo('put1'), 'put1');
    const manifestCalls = events
      .slice(from)
      .filter((e) => e.url.includes('/manifests/') && e.status !== 401)
      .map((e) => `${e.method} ${e.url.slice(e.url.lastIndexOf('/') + 1)}`);
    expect(manifestCalls).toEqual([`HEAD ${img.manifest.digest}`, 'PUT put1']);
    expect(await repo('put1').resolve('put1')).toEqual(img.manifest);
  });

  it('serves a fetched blob both to `for await` and to a stream pipeline, verified either way', async () => {
    const img = await makeImage({ layers: [200_000], tag: 'both' });
    const r = repo('both');
    await copy(img.store, 'both', r, 'both');
    const layer = img.layers[0]!;
    const want = Buffer.from(img.bytes.get(layer.digest)!);
    const iterated: Uint8Array[] = [];
    for await (const c of await r.fetch(layer)) iterated.push(c);
    expect(Buffer.concat(iterated).equals(want)).toBe(true);
    const piped: Buffer[] = [];
    const sink = new Writable({
      write: (c, _e, cb) => {
        piped.push(c);
        cb();
      },
    });
    await pipeline(await r.fetch(layer), sink);
    expect(Buffer.concat(piped).equals(want)).toBe(true);
  });

  it('asks for the manifest once when pulling by tag: one GET, no HEAD, no second GET by digest', async () => {
    const img = await makeImage({ tag: 'once' });
    const r = repo('once');
    await copy(img.store, 'once', r, 'once');
    const from = events.length;
    const dst = new MemoryStore();
    const pulled = await copy(r, 'once', dst, 'once');
    expect(pulled.digest).toBe(img.manifest.digest);
    const manifestCalls = events
      .slice(from)
      .filter((e) => e.url.includes('/manifests/') && e.status !== 401)
      .map((e) => `${e.method} ${e.url.slice(e.url.lastIndexOf('/') + 1)}`);
    expect(manifestCalls).toEqual(['GET once']);
    expect(await dst.exists(img.manifest)).toBe(true);
  });

  it('uploads in chunks, and with a single POST where allowed, verified by the registry', async () => {
    const img = await makeImage({ layers: [250_001, 100], tag: 'c1' });
    const chunked = repo('chunked', { chunkSize: 64 * 1024 });
    const before = events.length;
    await copy(img.store, 'c1', chunked, 'c1');
    const patches = events.slice(before).filter((e) => e.method === 'PATCH' && e.status === 202);
    expect(patches.length).toBe(4); // 250 001 bytes in 64 KiB chunks
    const back = new MemoryStore();
    await copy(chunked, 'c1', back, 'c1');
    expect(await back.exists(img.layers[0]!)).toBe(true);

    const single = repo('single', { singlePostLimit: 1 << 20 });
    await copy(img.store, 'c1', single, 'c1');
    expect(await single.exists(img.layers[0]!)).toBe(true);
    expect(await single.exists(img.layers[1]!)).toBe(true);
  });

  it('refuses to push content that does not match its descriptor, and the registry keeps nothing', async () => {
    const r = repo('mismatch');
    const bytes = Buffer.from('the real bytes');
    const desc = {
      mediaType: MediaType.ImageLayer,
      digest: digestOfSync('other bytes!!!'),
      size: bytes.byteLength,
    };
    await expect(r.push(desc, bytes)).rejects.toSatisfy(isDataLoss);
    async function* stream() {
      yield bytes;
    }
    await expect(r.push(desc, stream())).rejects.toSatisfy(isDataLoss);
    await expect(repo('mismatch', { chunkSize: 4 }).push(desc, stream())).rejects.toSatisfy(isDataLoss);
    expect(await r.exists(desc)).toBe(false);
  });

  it('mounts blobs across repositories of one registry instead of uploading them', async () => {
    const img = await makeImage({ layers: [40_000, 40_001], tag: 'src' });
    const src = repo('mount-src');
    await copy(img.store, 'src', src, 'src');
    const dst = repo('mount-dst');
    const seen: CopyEvent[] = [];
    const before = events.length;
    await copy(src, 'src', dst, 'copied', { onProgress: (e) => seen.push(e) });
    const mounted = seen
      .filter((e) => e.type === 'skip' && e.reason === 'mounted')
      .map((e) => e.descriptor.digest);
    expect(mounted.sort()).toEqual([img.config.digest, ...img.layers.map((l) => l.digest)].sort());
    const uploads = events
      .slice(before)
      .filter((e) => e.method === 'PUT' && e.url.includes('/blobs/uploads/'));
    expect(uploads).toEqual([]);
    // The registry's own log shows the mounts.
    expect(registry.logs()).toMatch(/mount=sha256/);
    expect(await dst.exists(img.layers[1]!)).toBe(true);
    if (auth === 'token') {
      const scopes = registry.tokenIssuer!.requests.flatMap((r) => r.scopes);
      expect(scopes).toContain(`repository:${auth}/mount-src:pull`);
      expect(scopes).toContain(`repository:${auth}/mount-dst:pull,push`);
    }
  });

  it('lists tags and the catalog across pages', async () => {
    const img = await makeImage({ tag: 't' });
    const r = repo('paged');
    await copy(img.store, 't', r, 't0');
    for (let i = 1; i < 7; i++) await r.tag(img.manifest, `t${i}`);
    // distribution 2.8 ignores `n` for tags (its catalog pages; tags paging is tested in faults.test.ts)
    expect((await r.tags({ pageSize: 2 })).sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
    expect(await r.tags({ limit: 3 })).toHaveLength(3);
    // a second repository of its own, so one-entry pages are at least two pages
    await copy(img.store, 't', repo('paged-too'), 't');
    const before = events.length;
    const catalog = await listCatalog(registry.host, { transport, pageSize: 1 });
    expect(events.slice(before).filter((e) => e.url.endsWith('/_catalog')).length).toBeGreaterThanOrEqual(
      catalog.length,
    );
    expect(catalog).toContain(`${auth}/paged`);
    expect(catalog).toContain(`${auth}/paged-too`);
    if (auth === 'token') {
      // the catalog ran under a token for `registry:catalog:*`, granted by the issuer
      const granted = registry.tokenIssuer!.requests.filter((q) => q.status === 200).flatMap((q) => q.scopes);
      expect(granted).toContain('registry:catalog:*');
    }
  });

  it('copies a multi-platform index whole, and one platform of it', async () => {
    const { store, index, images } = await makeIndex('multi');
    const whole = repo('multi');
    await copy(store, 'multi', whole, 'multi');
    expect((await whole.resolve('multi')).digest).toBe(index.digest);
    for (const img of images) expect(await whole.exists(img.layers[0]!)).toBe(true);

    const one = new MemoryStore();
    const picked = await copy(whole, 'multi', one, 'arm', {
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(picked.digest).toBe(images[1]!.manifest.digest);
    expect(await one.exists(images[1]!.layers[0]!)).toBe(true);
    expect(await one.exists(images[0]!.layers[0]!)).toBe(false);
  });

  it('deletes manifests and blobs, and maps absent ones to NotFound', async () => {
    const img = await makeImage({ tag: 'd' });
    const r = repo('delete');
    await copy(img.store, 'd', r, 'd');
    await r.delete(img.manifest);
    await expect(r.resolve('d')).rejects.toSatisfy(isNotFound);
    await r.delete(img.layers[0]!);
    expect(await r.exists(img.layers[0]!)).toBe(false);
    const err = await r.delete(img.layers[0]!).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    // the registry's own error codes, as documented in details.errors
    const errors = (err as { details: { errors: RegistryErrorEntry[] } }).details.errors;
    expect(errors.map((e) => e.code)).toEqual(['BLOB_UNKNOWN']);
    // distribution 2.8 deletes manifests by digest only: untag is a typed refusal, and the tag stays
    await copy(img.store, 'd', r, 'd2');
    await expect(r.untag('d2')).rejects.toSatisfy(isFailedPrecondition);
    expect((await r.resolve('d2')).digest).toBe(img.manifest.digest);
  });

  it('finds referrers through the tag fallback and pushes a subject there', async () => {
    const img = await makeImage({ tag: 's' });
    const r = repo('referrers');
    await copy(img.store, 's', r, 's');
    const sig = await pushBytes(r, 'application/vnd.example.sig', Buffer.from('signature'));
    const empty = await pushBytes(r, MediaType.EmptyJSON, Buffer.from('{}'));
    const artifact = await pushBytes(
      r,
      MediaType.ImageManifest,
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ImageManifest,
          artifactType: 'application/vnd.example.sig',
          config: empty,
          layers: [sig],
          subject: img.manifest,
          annotations: { who: 'test' },
        }),
      ),
    );
    const fallback = await r.resolve(referrersTag(img.manifest.digest));
    expect(fallback.mediaType).toBe(MediaType.ImageIndex);
    const found = await r.referrers(img.manifest);
    expect(found).toEqual([
      {
        mediaType: MediaType.ImageManifest,
        digest: artifact.digest,
        size: artifact.size,
        artifactType: 'application/vnd.example.sig',
        annotations: { who: 'test' },
      },
    ]);
    expect(await r.referrers(img.manifest, { artifactType: 'application/other' })).toEqual([]);
    expect(await r.referrers(img.layers[0]!)).toEqual([]);
  });

  it('turns unknown manifests and bad references into typed errors', async () => {
    const r = repo('missing');
    const err = await r.resolve('nope').catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toContain(`${auth}/missing:nope`);
    await expect(r.resolve('bad tag!')).rejects.toSatisfy(isInvalidArgument);
    await expect(r.resolve('sha256:1234')).rejects.toSatisfy(isInvalidArgument);
    expect(() => openRepository('UPPER/Case')).toThrow(/invalid|reference/i);
  });

  if (auth !== 'none') {
    it('rejects wrong credentials with Unauthenticated, never echoing the password', async () => {
      const secret = 'hunter2-very-secret';
      const wrong = openRepository(`${registry.host}/${auth}/roundtrip`, {
        credentials: { username: registry.credentials.username, password: secret },
      });
      const err = await wrong.resolve('v1').catch((e: unknown) => e);
      expect(isUnauthenticated(err) || isPermissionDenied(err)).toBe(true);
      expect(
        JSON.stringify({ m: (err as Error).message, d: (err as { details?: unknown }).details }),
      ).not.toContain(secret);
      expect(String((err as Error).stack)).not.toContain(secret);
      await wrong.transport.close();
      const anonymous = openRepository(`${registry.host}/${auth}/roundtrip`);
      await expect(anonymous.resolve('v1')).rejects.toSatisfy(
        (e) => isUnauthenticated(e) || isPermissionDenied(e),
      );
      await anonymous.transport.close();
    });
  }

  if (auth === 'token') {
    it('caches tokens per scope set, and refreshes with an identity token from login', async () => {
      const issuer = registry.tokenIssuer!;
      const img = await makeImage({ tag: 'x' });
      const r = repo('token-cache');
      await copy(img.store, 'x', r, 'x');
      const before = issuer.requests.length;
      for (let i = 0; i < 5; i++) await r.resolve('x');
      expect(issuer.requests.length).toBe(before); // all from the cache

      const login = new Transport();
      const identityToken = await login.login(registry.host, registry.credentials);
      await login.close();
      expect(identityToken).toMatch(/.{16,}/);
      const refreshing = openRepository(`${registry.host}/${auth}/token-cache`, {
        credentials: { identityToken: identityToken! },
      });
      expect((await refreshing.resolve('x')).digest).toBe(img.manifest.digest);
      await refreshing.transport.close();
      expect(issuer.requests.at(-1)).toMatchObject({
        method: 'POST',
        grantType: 'refresh_token',
        status: 200,
      });

      const bad = new Transport();
      await expect(
        bad.login(registry.host, { username: registry.credentials.username, password: 'wrong' }),
      ).rejects.toSatisfy(isUnauthenticated);
      await bad.close();
    });
  }
});

describe('without a registry', () => {
  it('reports a dead registry as Unavailable after its retries, naming the host', async () => {
    const r = openRepository('127.0.0.1:9/app', { retries: 2, retryDelay: 5 });
    const err = await r.resolve('latest').catch((e: unknown) => e);
    expect(isUnavailable(err)).toBe(true);
    expect((err as Error).message).toMatch(/cannot reach 127\.0\.0\.1:9 \(ECONNREFUSED\) after 3 tries/);
    await r.transport.close();
  });
});
