// Entry-by-entry comparison with umoci on the shared test images (tools/images): path, type, mode,
// uid/gid, size, content hash, link target, hardlink groups (describeTree) and xattrs.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayout } from '@ocikit/content';
import {
  buildBusyboxImage,
  buildDebianImage,
  buildWhiteoutImage,
  writeImageLayout,
} from '@ocikit/test-images';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTree } from './test-image.ts';
import { setXattrHex } from './test-xattr.ts';
import { unpackImage } from './unpack.ts';
import { readXattrs } from './xattr.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ocikit-umoci-compare-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function xattrLines(root: string): string[] {
  return [...readXattrs(root)]
    .flatMap(([path, attrs]) => [...attrs].map(([k, v]) => `${path} ${k}=${v.toString('hex')}`))
    .sort();
}

// readXattrs fails rather than answering empty when it cannot read them, so equal lists are a
// real comparison; the image with attributes below proves both sides do read them.
async function compareWithUmoci(layout: string, ref: string): Promise<string[]> {
  const store = await openLayout(layout);
  const ours = join(tmp(), 'rootfs');
  const result = await unpackImage(store, await store.resolve(ref), ours);
  const bundle = join(tmp(), 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${layout}:${ref}`, bundle]);
  const theirs = join(bundle, 'rootfs');
  const tree = describeTree(ours);
  expect(tree).toEqual(describeTree(theirs));
  expect(xattrLines(ours)).toEqual(xattrLines(theirs));
  expect(result.layers.flatMap((l) => l.skipped)).toEqual([]);
  return tree;
}

/** The extended attributes below `root` of the image `ref` of `layout`, as umoci unpacks them. */
function umociXattrs(layout: string, ref: string): string[] {
  const bundle = join(tmp(), 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${layout}:${ref}`, bundle]);
  return xattrLines(join(bundle, 'rootfs'));
}

describe('unpackImage gives the same trees as umoci unpack', () => {
  it('busybox (tools/images)', async () => {
    const layout = join(tmp(), 'layout');
    buildBusyboxImage(layout);
    const tree = await compareWithUmoci(layout, 'busybox');
    expect(tree).toContain('/bin/sh symlink 777 0:0 0 -> busybox');
  });

  it('three layers with whiteouts, an opaque directory, hardlinks and a chmod-only change (tools/images)', async () => {
    const layout = join(tmp(), 'layout');
    buildWhiteoutImage(layout);
    const tree = await compareWithUmoci(layout, 'layers');
    expect(tree.filter((l) => l.startsWith('/opaque/'))).toEqual([
      '/opaque/upper-c file 644 0:0 1 2e7d2c03a9507ae2',
    ]);
    expect(tree.some((l) => l.startsWith('/gone'))).toBe(false);
    expect(tree.find((l) => l.startsWith('/bin/tool '))).toMatch(/^\/bin\/tool file 700 /);
    expect(tree.find((l) => l.startsWith('/new-hardlink '))).toMatch(/link=\/new-file$/);
  });

  it('a layer with file capabilities and user attributes: both sides carry them', async () => {
    const src = tmp();
    chmodSync(src, 0o755);
    mkdirSync(join(src, 'bin'), { mode: 0o755 });
    writeFileSync(join(src, 'bin', 'ping'), 'ping', { mode: 0o755 });
    writeFileSync(join(src, 'note'), 'note', { mode: 0o644 });
    // Debian's ping: cap_net_raw+ep (VFS_CAP_REVISION_2), binary and not UTF-8
    setXattrHex(join(src, 'bin', 'ping'), 'security.capability', '0100000200200000000000000000000000000000');
    setXattrHex(join(src, 'note'), 'user.note', Buffer.from('h\u00e9llo').toString('hex'));
    const layout = join(tmp(), 'layout');
    writeImageLayout(layout, 'caps', [{ dir: src }]);
    const want = [
      'bin/ping security.capability=0100000200200000000000000000000000000000',
      `note user.note=${Buffer.from('h\u00e9llo').toString('hex')}`,
    ];
    expect(umociXattrs(layout, 'caps')).toEqual(want);
    await compareWithUmoci(layout, 'caps');
  });

  it('Debian minbase, one layer (tools/images, cached per machine)', { timeout: 1_200_000 }, async () => {
    const img = buildDebianImage();
    const tree = await compareWithUmoci(img.layout, img.ref);
    expect(tree.length).toBeGreaterThan(5000);
    expect(tree).toContain('/tmp dir 1777 0:0 0');
  });
});
