// One conformance suite for every Target implementation (containerd's testsuite pattern).
import { digestOfSync } from '@ocikit/digest';
import { isDataLoss, isNotFound } from '@ocikit/errors';
import { type Descriptor, MediaType } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { fetchAll, pushBytes } from './helpers.ts';
import type { Target } from './target.ts';

const enc = new TextEncoder();

/** Descriptor of `text` as a blob. */
export function blob(
  text: string | Uint8Array,
  mediaType = 'application/octet-stream',
): { desc: Descriptor; bytes: Uint8Array } {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  return { desc: { mediaType, digest: digestOfSync(bytes), size: bytes.byteLength }, bytes };
}

/** Builds a small image (config, two layers, manifest) into `target` and returns the manifest descriptor. */
export async function buildImage(
  target: Target,
  seed: string,
  platform?: { os: string; architecture: string },
) {
  const layer1 = await pushBytes(target, MediaType.ImageLayerGzip, enc.encode(`layer one ${seed}`));
  const layer2 = await pushBytes(target, MediaType.ImageLayerGzip, enc.encode(`layer two ${seed}`));
  const config = await pushBytes(
    target,
    MediaType.ImageConfig,
    enc.encode(
      JSON.stringify({
        architecture: platform?.architecture ?? 'amd64',
        os: platform?.os ?? 'linux',
        rootfs: { type: 'layers', diff_ids: [layer1.digest, layer2.digest] },
      }),
    ),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config,
    layers: [layer1, layer2],
  };
  const desc = await pushBytes(target, MediaType.ImageManifest, enc.encode(JSON.stringify(manifest)));
  return { manifest: desc, config, layers: [layer1, layer2] };
}

/** Runs the Target conformance suite against stores made by `make`. */
export function targetSuite(name: string, make: () => Promise<Target>): void {
  describe(`${name}: Target conformance`, () => {
    it('pushes, finds and fetches a blob', async () => {
      const t = await make();
      const { desc, bytes } = blob('hello');
      expect(await t.exists(desc)).toBe(false);
      await t.push(desc, bytes);
      expect(await t.exists(desc)).toBe(true);
      expect(Buffer.from(await fetchAll(t, desc)).toString()).toBe('hello');
    });

    it('fetches from an offset', async () => {
      const t = await make();
      const { desc, bytes } = blob('0123456789');
      await t.push(desc, bytes);
      const chunks: Uint8Array[] = [];
      for await (const c of await t.fetch(desc, { offset: 4 })) chunks.push(c as Uint8Array);
      expect(Buffer.concat(chunks).toString()).toBe('456789');
    });

    it('accepts a stream and treats a second push as a no-op', async () => {
      const t = await make();
      const { desc } = blob('streamed bytes');
      async function* parts() {
        yield enc.encode('streamed ');
        yield enc.encode('bytes');
      }
      await t.push(desc, parts());
      await t.push(desc, parts());
      expect(Buffer.from(await fetchAll(t, desc)).toString()).toBe('streamed bytes');
    });

    it('rejects bytes that do not match the digest, and keeps nothing', async () => {
      const t = await make();
      const { desc } = blob('the right bytes');
      const err = await t.push(desc, enc.encode('the wrong bytes')).catch((e: unknown) => e);
      expect(isDataLoss(err)).toBe(true);
      expect(String((err as Error).message)).toContain(desc.digest);
      expect(await t.exists(desc)).toBe(false);
    });

    it('rejects too many and too few bytes', async () => {
      const t = await make();
      const { desc } = blob('abc');
      expect(isDataLoss(await t.push(desc, enc.encode('abcd')).catch((e: unknown) => e))).toBe(true);
      expect(isDataLoss(await t.push(desc, enc.encode('ab')).catch((e: unknown) => e))).toBe(true);
      expect(await t.exists(desc)).toBe(false);
    });

    it('says NotFound for a missing blob and a missing tag', async () => {
      const t = await make();
      expect(isNotFound(await t.fetch(blob('nope').desc).catch((e: unknown) => e))).toBe(true);
      expect(isNotFound(await t.resolve('missing').catch((e: unknown) => e))).toBe(true);
    });

    it('tags, resolves by tag and by digest, and retags', async () => {
      const t = await make();
      const a = await buildImage(t, 'a');
      const b = await buildImage(t, 'b');
      await t.tag(a.manifest, 'v1');
      expect((await t.resolve('v1')).digest).toBe(a.manifest.digest);
      expect((await t.resolve(a.manifest.digest)).mediaType).toBe(MediaType.ImageManifest);
      await t.tag(b.manifest, 'v1');
      expect((await t.resolve('v1')).digest).toBe(b.manifest.digest);
    });

    it('refuses to tag a blob it does not hold', async () => {
      const t = await make();
      expect(isNotFound(await t.tag(blob('absent').desc, 'x').catch((e: unknown) => e))).toBe(true);
    });
  });
}
