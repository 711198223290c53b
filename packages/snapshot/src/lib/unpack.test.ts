import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { openLayout, pushBytes } from '@ocikit/content';
import { digestOfSync } from '@ocikit/digest';
import { isDataLoss, isFailedPrecondition, isInvalidArgument } from '@ocikit/errors';
import { MediaType } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { applyLayer } from './apply.ts';
import { describeTree, writeImage } from './test-image.ts';
import { type FixtureEntry, tarOf } from './test-tar.ts';
import { unpackImage } from './unpack.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-unpack-'));
const errorOf = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

const base: FixtureEntry[] = [
  { path: 'bin/', type: 'dir', mode: '0755' },
  { path: 'bin/tool', type: 'file', content: '#!/bin/sh\necho tool\n', mode: '0755' },
  { path: 'bin/tool-hardlink', type: 'hardlink', linkname: 'bin/tool' },
  { path: 'bin/su', type: 'file', content: 'setuid binary', mode: '4755' },
  { path: 'etc/', type: 'dir', mode: '0755' },
  { path: 'etc/config', type: 'file', content: 'v1', mode: '0644', uid: 1000, gid: 1000 },
  { path: 'etc/remove-me', type: 'file', content: 'gone soon', mode: '0600' },
  { path: 'opaque/', type: 'dir', mode: '0755' },
  { path: 'opaque/lower-a', type: 'file', content: 'a' },
  { path: 'opaque/sub/', type: 'dir', mode: '0755' },
  { path: 'opaque/sub/lower-b', type: 'file', content: 'b' },
  { path: 'tmp/', type: 'dir', mode: '1777' },
  { path: 'link-to-config', type: 'symlink', linkname: 'etc/config' },
];
const upper: FixtureEntry[] = [
  { path: 'etc/.wh.remove-me', type: 'file', content: '' },
  { path: 'etc/config', type: 'file', content: 'v2', mode: '0640', uid: 1000, gid: 1000 },
  { path: 'opaque/', type: 'dir', mode: '0750' },
  { path: 'opaque/.wh..wh..opq', type: 'file', content: '' },
  { path: 'opaque/upper-c', type: 'file', content: 'c' },
  { path: 'new-hardlink', type: 'hardlink', linkname: 'bin/tool' },
];
const chmodOnly: FixtureEntry[] = [
  { path: 'bin/tool', type: 'file', content: '#!/bin/sh\necho tool\n', mode: '0700' },
];

describe('unpackImage beside umoci unpack', () => {
  it('gives the same tree as umoci for a three-layer image with whiteouts, an opaque dir, hardlinks and a chmod-only change', async () => {
    const layout = join(tmp(), 'layout');
    const manifest = await writeImage(layout, 'three', [base, upper, chmodOnly]);
    const ours = join(tmp(), 'rootfs');
    const result = await unpackImage(await openLayout(layout), manifest, ours);
    expect(result.layers).toHaveLength(3);
    const bundle = join(tmp(), 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:three`, bundle]);
    const theirs = describeTree(join(bundle, 'rootfs'));
    expect(describeTree(ours)).toEqual(theirs);
    // And what the layers meant:
    expect(readFileSync(join(ours, 'etc/config'), 'utf8')).toBe('v2');
    expect(() => lstatSync(join(ours, 'etc/remove-me'))).toThrow();
    expect(describeTree(join(ours, 'opaque'))).toEqual(['/upper-c file 644 0:0 1 2e7d2c03a9507ae2']);
    expect(statSync(join(ours, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(ours, 'bin/tool')).mode & 0o777).toBe(0o700);
    // The chmod-only layer rewrites bin/tool as a new file (as umoci does); the links keep the old inode.
    expect(statSync(join(ours, 'new-hardlink')).ino).toBe(statSync(join(ours, 'bin/tool-hardlink')).ino);
    expect(statSync(join(ours, 'new-hardlink')).ino).not.toBe(statSync(join(ours, 'bin/tool')).ino);
  });

  it('gives the same tree as umoci for a busybox image built by umoci', async () => {
    const layout = join(tmp(), 'layout');
    execFileSync('umoci', ['init', '--layout', layout]);
    execFileSync('umoci', ['new', '--image', `${layout}:bb`]);
    const bundle = join(tmp(), 'b');
    execFileSync('umoci', ['unpack', '--image', `${layout}:bb`, bundle]);
    execFileSync('install', ['-D', '-m', '0755', '/bin/busybox', join(bundle, 'rootfs/bin/busybox')]);
    for (const applet of ['sh', 'ls', 'echo', 'cat']) {
      execFileSync('ln', ['-s', 'busybox', join(bundle, 'rootfs/bin', applet)]);
    }
    writeFileSync(join(bundle, 'rootfs/etc-passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    execFileSync('umoci', ['repack', '--image', `${layout}:bb`, bundle]);
    const store = await openLayout(layout);
    const ours = join(tmp(), 'rootfs');
    await unpackImage(store, await store.resolve('bb'), ours);
    const theirs = join(tmp(), 'theirs');
    execFileSync('umoci', ['unpack', '--image', `${layout}:bb`, theirs]);
    expect(describeTree(ours)).toEqual(describeTree(join(theirs, 'rootfs')));
  });
});

describe('applyLayer details', () => {
  const entries: FixtureEntry[] = [
    { path: 'd/', type: 'dir', mode: '0711' },
    { path: 'd/f', type: 'file', content: 'hello', mode: '0640', uid: 7, gid: 8 },
    { path: 'd/l', type: 'symlink', linkname: 'f' },
    { path: 'fifo', type: 'fifo', mode: '0600' },
  ];

  it('reads tar, gzip and zstd, restores modes, owners and mtimes, and reports the diffID', async () => {
    const tar = await tarOf(entries);
    for (const [mediaType, bytes] of [
      [MediaType.ImageLayer, tar],
      [MediaType.ImageLayerGzip, gzipSync(tar)],
      [MediaType.ImageLayerZstd, zstdCompressSync(tar)],
    ] as const) {
      const root = tmp();
      const r = await applyLayer(root, Readable.from([bytes]), { mediaType, diffId: digestOfSync(tar) });
      expect(r.diffId).toBe(digestOfSync(tar));
      const st = lstatSync(join(root, 'd/f'));
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 7, 8]);
      expect(st.mtimeMs).toBe(1_700_000_000_000);
      expect(lstatSync(join(root, 'd')).mtimeMs).toBe(1_700_000_000_000);
      expect(lstatSync(join(root, 'd')).mode & 0o7777).toBe(0o711);
      expect(lstatSync(join(root, 'fifo')).isFIFO()).toBe(true);
    }
  });

  it('refuses a target that is a file, or lies under one, with a typed error naming the file', async () => {
    const layout = join(tmp(), 'layout');
    const manifest = await writeImage(layout, 'one', [base]);
    const file = join(tmp(), 'a-file');
    writeFileSync(file, 'not a directory');
    for (const target of [file, join(file, 'sub', 'rootfs')]) {
      const err = await errorOf(unpackImage(await openLayout(layout), manifest, target));
      expect(isFailedPrecondition(err), String(err)).toBe(true);
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).not.toMatch(/EEXIST|ENOTDIR/);
    }
  });

  it('fails with DataLoss when the diffID is wrong', async () => {
    const err = await errorOf(
      applyLayer(tmp(), Readable.from([await tarOf(entries)]), { diffId: digestOfSync('other') }),
    );
    expect(isDataLoss(err)).toBe(true);
    expect((err as Error).message).toContain('diffID mismatch');
  });

  it('refuses a stream whose compression contradicts its media type', async () => {
    const err = await errorOf(
      applyLayer(tmp(), Readable.from([await tarOf(entries)]), { mediaType: MediaType.ImageLayerGzip }),
    );
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toContain('says gzip, but the stream is an uncompressed tar');
  });

  it('stops a decompression bomb at the quota', async () => {
    const bomb = gzipSync(await tarOf([{ path: 'zeros', type: 'file', content: '\0'.repeat(8 << 20) }]));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const err = await errorOf(applyLayer(tmp(), Readable.from([bomb]), { quota: 1 << 20 }));
    expect(isFailedPrecondition(err)).toBe(true);
    expect((err as Error).message).toContain('quota');
  });

  it('maps owners through idMap for user namespaces', async () => {
    const root = tmp();
    const tar = await tarOf([
      { path: 'd/', type: 'dir', mode: '0755', uid: 0, gid: 0 },
      { path: 'd/f', type: 'file', content: 'x', uid: 1000, gid: 100 },
      { path: 'd/l', type: 'symlink', linkname: 'f', uid: 5, gid: 6 },
    ]);
    const shift = (id: number) => id + 100_000;
    await applyLayer(root, Readable.from([tar]), { privileged: true, idMap: { uid: shift, gid: shift } });
    expect([lstatSync(join(root, 'd')).uid, lstatSync(join(root, 'd')).gid]).toEqual([100_000, 100_000]);
    expect([lstatSync(join(root, 'd/f')).uid, lstatSync(join(root, 'd/f')).gid]).toEqual([101_000, 100_100]);
    expect([lstatSync(join(root, 'd/l')).uid, lstatSync(join(root, 'd/l')).gid]).toEqual([100_005, 100_006]);
  });

  it('skips device nodes and ownership without privileges, and says so', async () => {
    const src = tmp();
    execFileSync('mknod', [join(src, 'null'), 'c', '1', '3']);
    writeFileSync(join(src, 'f'), 'x');
    execFileSync('chown', ['7:8', join(src, 'f')]);
    const layer = join(tmp(), 'dev.tar');
    execFileSync('tar', ['-cf', layer, '-C', src, 'null', 'f']);
    const root = tmp();
    const r = await applyLayer(root, Readable.from([readFileSync(layer)]), { privileged: false });
    expect(r.skipped).toEqual([{ path: '/null', reason: 'character-device needs privileges' }]);
    expect(lstatSync(join(root, 'f')).uid).toBe(process.getuid?.());
    const privileged = tmp();
    await applyLayer(privileged, Readable.from([readFileSync(layer)]), { privileged: true });
    expect(lstatSync(join(privileged, 'null')).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(privileged, 'f')).uid).toBe(7);
  });

  it('fails on a corrupt gzip stream without touching anything outside the root', async () => {
    const gz = gzipSync(await tarOf(entries));
    gz[gz.length - 6] = (gz[gz.length - 6] ?? 0) ^ 0xff;
    const err = await errorOf(
      applyLayer(tmp(), Readable.from([gz]), { mediaType: MediaType.ImageLayerGzip }),
    );
    expect(err).toBeInstanceOf(Error);
  });

  it('unpacks the platform of an index whose entries carry no platform, nested (matched by the config)', async () => {
    const layout = join(tmp(), 'layout');
    const manifest = await writeImage(layout, 'plain', [[{ path: 'hello', type: 'file', content: 'hi' }]]);
    const store = await openLayout(layout);
    const doc = (manifests: unknown[]) =>
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests }));
    const inner = await pushBytes(store, MediaType.ImageIndex, doc([manifest]));
    const root = await pushBytes(store, MediaType.ImageIndex, doc([inner]));
    const dir = join(tmp(), 'rootfs');
    const r = await unpackImage(store, root, dir, { platform: { os: 'linux', architecture: 'amd64' } });
    expect(r.manifest.digest).toBe(manifest.digest);
    expect(readFileSync(join(dir, 'hello'), 'utf8')).toBe('hi');
  });
});
