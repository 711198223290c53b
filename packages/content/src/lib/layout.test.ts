import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOfSync } from '@ocikit/digest';
import { isDataLoss, isNotFound } from '@ocikit/errors';
import { MediaType } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { copy } from './copy.ts';
import { fetchAll, pushBytes } from './helpers.ts';
import { openLayout } from './layout.ts';
import { buildImage } from './test-suite.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-layout-'));
const blobFile = (dir: string, digest: string) => join(dir, 'blobs', ...digest.split(':'));
// Back-date a file's ctime-independent fields; gc keys on ctime, so tests wait past its 1 s grace.
const settle = () => new Promise((r) => setTimeout(r, 1100));

describe('OCI layout store', () => {
  it('creates a spec-shaped layout', async () => {
    const dir = tmp();
    await openLayout(dir, { create: true });
    expect(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))).toMatchObject({
      schemaVersion: 2,
      manifests: [],
    });
  });

  it('writes a blob past its background writeback points intact, and still refuses a wrong one', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    // 20 MiB in 64 KiB chunks: two background fdatasyncs (every 8 MiB) before the final sync
    const bytes = Buffer.alloc(20 << 20);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32BE(i, i);
    const desc = { mediaType: 'application/octet-stream', digest: digestOfSync(bytes), size: bytes.length };
    const writer = await layout.openWriter(desc);
    for (let i = 0; i < bytes.length; i += 65536) await writer.write(bytes.subarray(i, i + 65536));
    await writer.commit();
    expect(readFileSync(blobFile(dir, desc.digest)).equals(bytes)).toBe(true);

    const wrong = { ...desc, digest: digestOfSync(Buffer.from('something else')) };
    const bad = await layout.openWriter(wrong);
    for (let i = 0; i < bytes.length; i += 65536) await bad.write(bytes.subarray(i, i + 65536));
    const failed = await bad.commit().catch((e: unknown) => e);
    expect(isDataLoss(failed)).toBe(true);
    expect(await layout.exists(wrong)).toBe(false);
    expect(readdirSync(join(dir, '.ocikit', 'ingest'))).toEqual([]);
  });

  it('names a directory that is not a layout, and a broken index.json', async () => {
    const dir = tmp();
    const err = await openLayout(dir).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toContain('no oci-layout file');
    const layout = await openLayout(dir, { create: true });
    writeFileSync(join(dir, 'index.json'), '{"schemaVersion": 2, "manifests": [');
    const listErr = await layout.list().catch((e: unknown) => e);
    expect(isDataLoss(listErr)).toBe(true);
    expect((listErr as Error).message).toContain('malformed JSON');
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion": 7}');
    expect(isDataLoss(await openLayout(dir).catch((e: unknown) => e))).toBe(true);
  });

  it('untags, lists tags, and keeps a failed tag from changing index.json', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    const a = await buildImage(layout, 'a');
    await layout.tag(a.manifest, 'one');
    await layout.tag(a.manifest, 'two');
    expect(await layout.tags()).toEqual(['one', 'two']);
    const before = readFileSync(join(dir, 'index.json'), 'utf8');
    await expect(layout.tag({ ...a.manifest, digest: digestOfSync('absent') }, 'three')).rejects.toThrow(
      /not in/,
    );
    expect(readFileSync(join(dir, 'index.json'), 'utf8')).toBe(before);
    await layout.untag('one');
    expect(await layout.tags()).toEqual(['two']);
    expect(isNotFound(await layout.untag('one').catch((e: unknown) => e))).toBe(true);
  });

  it('collects garbage: keeps what index.json reaches, removes the rest', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    const kept = await buildImage(layout, 'kept');
    await layout.tag(kept.manifest, 'kept');
    const dropped = await buildImage(layout, 'dropped');
    await settle();
    const result = await layout.gc();
    expect(result.removed.sort()).toEqual(
      [dropped.manifest.digest, dropped.config.digest, ...dropped.layers.map((l) => l.digest)].sort(),
    );
    expect(await layout.exists(kept.layers[0]!)).toBe(true);
    expect(await layout.exists(dropped.layers[0]!)).toBe(false);
    expect((await layout.fsck()).problems).toEqual([]);
  });

  it('never collects a blob committed after the mark began, nor a live ingest', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    const fresh = await pushBytes(layout, 'application/octet-stream', new TextEncoder().encode('fresh'));
    const writer = await layout.openWriter({
      mediaType: 'x/y',
      digest: digestOfSync('partial data'),
      size: 12,
    });
    await writer.write(new TextEncoder().encode('partial'));
    const dataFile = join(dir, '.ocikit', 'ingest', `sha256-${digestOfSync('partial data').slice(7)}.data`);
    utimesSync(dataFile, new Date(0), new Date(0));
    const result = await layout.gc({ ingestTtlMs: 0 });
    expect(result.removed).toEqual([]);
    expect(result.ingests).toBe(0);
    expect(await layout.exists(fresh)).toBe(true);
    await writer.close();
    expect((await layout.gc({ ingestTtlMs: 0 })).ingests).toBe(1);
  });

  it('keeps what extra roots reach (an image in use under no name)', async () => {
    const layout = await openLayout(tmp(), { create: true });
    const used = await buildImage(layout, 'used');
    const dropped = await buildImage(layout, 'dropped');
    await settle();
    const result = await layout.gc({ roots: [used.manifest] });
    expect(result.removed).toContain(dropped.manifest.digest);
    expect(result.removed).not.toContain(used.manifest.digest);
    expect(await layout.exists(used.layers[0]!)).toBe(true);
    expect(await layout.exists(used.config)).toBe(true);
  });

  it('counts the bytes of the abandoned ingests it removes', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    const writer = await layout.openWriter({
      mediaType: 'x/y',
      digest: digestOfSync('0123456789'),
      size: 10,
    });
    await writer.write(new TextEncoder().encode('01234'));
    await writer.close();
    // a fresh abandoned ingest stays under the default day, and goes with ingestTtlMs 0
    expect((await layout.gc()).ingests).toBe(0);
    const result = await layout.gc({ ingestTtlMs: 0 });
    expect(result.ingests).toBe(1);
    expect(result.ingestBytes).toBe(5);
  });

  it('fsck finds corrupt, missing and mis-sized blobs; repair removes the corrupt ones', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    const img = await buildImage(layout, 'x');
    await layout.tag(img.manifest, 'x');
    writeFileSync(blobFile(dir, img.layers[0]!.digest), 'tampered');
    rmSync(blobFile(dir, img.layers[1]!.digest));
    const check = await layout.fsck();
    expect(check.problems.map((p) => [p.kind, p.digest])).toEqual([
      ['corrupt', img.layers[0]!.digest],
      ['missing', img.layers[1]!.digest],
    ]);
    expect(check.problems[1]!.message).toContain(`referenced by ${img.manifest.digest}`);
    const repaired = await layout.fsck({ repair: true });
    expect(repaired.problems[0]).toMatchObject({ kind: 'corrupt', repaired: true });
    expect(await layout.exists(img.layers[0]!)).toBe(false);
  });

  it('fsck reports a manifest that does not parse', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    const bad = await pushBytes(
      layout,
      MediaType.ImageManifest,
      new TextEncoder().encode('{"schemaVersion": 2}'),
    );
    await layout.tag(bad, 'bad');
    const check = await layout.fsck();
    expect(check.problems).toHaveLength(1);
    expect(check.problems[0]).toMatchObject({ kind: 'invalid', digest: bad.digest });
  });

  it('reads small blobs whole for fetchAll and still verifies them', async () => {
    const dir = tmp();
    const layout = await openLayout(dir, { create: true });
    const img = await buildImage(layout, 'z');
    expect(Buffer.from(await fetchAll(layout, img.config)).toString()).toBe(
      readFileSync(blobFile(dir, img.config.digest), 'utf8'),
    );
    const original = readFileSync(blobFile(dir, img.config.digest));
    for (const bad of [
      Buffer.from(original).fill(0x20, 0, 1),
      original.subarray(1),
      Buffer.concat([original, original]),
    ]) {
      writeFileSync(blobFile(dir, img.config.digest), bad);
      const err = await fetchAll(layout, img.config).catch((e: unknown) => e);
      expect(isDataLoss(err), String(err)).toBe(true);
      expect((err as Error).message).toContain(img.config.digest);
    }
    rmSync(blobFile(dir, img.config.digest));
    expect(isNotFound(await fetchAll(layout, img.config).catch((e: unknown) => e))).toBe(true);
    expect(await layout.fetchBytes({ ...img.config, size: 300 << 10 })).toBeUndefined();
  });

  it('copy into a layout fails on a corrupt source blob and leaves the destination unchanged', async () => {
    const srcDir = tmp();
    const src = await openLayout(srcDir, { create: true });
    const img = await buildImage(src, 'y');
    await src.tag(img.manifest, 'y');
    writeFileSync(blobFile(srcDir, img.layers[1]!.digest), 'layer two zzzz');
    const dstDir = tmp();
    const dst = await openLayout(dstDir, { create: true });
    const err = await copy(src, 'y', dst, 'y').catch((e: unknown) => e);
    expect(isDataLoss(err)).toBe(true);
    expect((err as Error).message).toContain(img.layers[1]!.digest);
    expect(await dst.exists(img.layers[1]!)).toBe(false);
    expect(await dst.exists(img.manifest)).toBe(false);
    expect(await dst.list()).toEqual([]);
  });
});

describe('interop with skopeo and umoci', () => {
  it('writes layouts that skopeo inspects and copies and umoci unpacks; reads what they write', async () => {
    // A real image from umoci: a layer with a file in it.
    const umociDir = join(tmp(), 'layout');
    execFileSync('umoci', ['init', '--layout', umociDir]);
    execFileSync('umoci', ['new', '--image', `${umociDir}:base`]);
    const bundle = join(tmp(), 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${umociDir}:base`, bundle]);
    mkdirSync(join(bundle, 'rootfs', 'etc'), { recursive: true });
    writeFileSync(join(bundle, 'rootfs', 'etc', 'hello'), 'hello from umoci\n');
    execFileSync('umoci', ['repack', '--image', `${umociDir}:base`, bundle]);
    const fromUmoci = await openLayout(umociDir);
    const umociRoot = await fromUmoci.resolve('base');
    expect((await fromUmoci.fsck()).problems).toEqual([]);

    // ocikit copies umoci's layout (digests unchanged) …
    const ours = tmp();
    const dst = await openLayout(ours, { create: true });
    const copied = await copy(fromUmoci, 'base', dst, 'v1');
    expect(copied.digest).toBe(umociRoot.digest);

    // … skopeo reads and copies ours …
    const inspect = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci:${ours}:v1`], { encoding: 'utf8' }),
    ) as { Digest: string };
    expect(inspect.Digest).toBe(umociRoot.digest);
    const viaSkopeo = tmp();
    execFileSync('skopeo', ['copy', '--quiet', `oci:${ours}:v1`, `oci:${viaSkopeo}:v2`]);
    const skopeoLayout = await openLayout(viaSkopeo);
    expect((await skopeoLayout.resolve('v2')).digest).toBe(umociRoot.digest);
    expect((await skopeoLayout.fsck()).problems).toEqual([]);

    // … and umoci unpacks ours (with our .ocikit state directory present).
    const unpacked = join(tmp(), 'unpacked');
    execFileSync('umoci', ['unpack', '--image', `${ours}:v1`, unpacked]);
    expect(readFileSync(join(unpacked, 'rootfs', 'etc', 'hello'), 'utf8')).toBe('hello from umoci\n');
  });
});
