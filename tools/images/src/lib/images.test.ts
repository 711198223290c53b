import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, buildWhiteoutImage } from '../index.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'test-images-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// umoci is the independent reader: if it unpacks our layouts to what we meant, they are valid.
function umociUnpack(layout: string, ref: string): string {
  const bundle = join(tmp(), 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${layout}:${ref}`, bundle]);
  return join(bundle, 'rootfs');
}

describe('buildBusyboxImage', () => {
  it('writes a layout umoci unpacks into a working busybox root', () => {
    const layout = join(tmp(), 'layout');
    const img = buildBusyboxImage(layout);
    expect(img.layers).toHaveLength(1);
    const rootfs = umociUnpack(layout, 'busybox');
    expect(lstatSync(join(rootfs, 'bin/sh')).isSymbolicLink()).toBe(true);
    expect(statSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    const out = execFileSync('chroot', [rootfs, '/bin/sh', '-c', 'echo hi; id -u'], { encoding: 'utf8' });
    expect(out).toBe('hi\n0\n');
  });

  it('is reproducible: the same inputs give the same manifest digest', () => {
    expect(buildBusyboxImage(join(tmp(), 'a')).manifest).toBe(buildBusyboxImage(join(tmp(), 'b')).manifest);
  });
});

describe('buildWhiteoutImage', () => {
  it('writes three layers that umoci applies with whiteouts, opaque dir, hardlinks and a chmod', () => {
    const layout = join(tmp(), 'layout');
    const img = buildWhiteoutImage(layout);
    expect(img.layers).toHaveLength(3);
    // The layers really hold the whiteout entries (not deletions umoci would compute itself).
    const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));
    const layer2 = execFileSync('tar', ['-tzf', blob(img.layers[1] ?? '')], { encoding: 'utf8' });
    expect(layer2).toContain('./opaque/.wh..wh..opq');
    expect(layer2).toContain('./.wh.gone');
    expect(layer2).toContain('./etc/.wh.remove-me');
    const rootfs = umociUnpack(layout, 'layers');
    expect(readFileSync(join(rootfs, 'etc/config'), 'utf8')).toBe('v2');
    expect(() => lstatSync(join(rootfs, 'etc/remove-me'))).toThrow();
    expect(() => lstatSync(join(rootfs, 'gone'))).toThrow();
    expect(readdirSync(join(rootfs, 'opaque'))).toEqual(['upper-c']);
    expect(statSync(join(rootfs, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(rootfs, 'bin/tool')).mode & 0o7777).toBe(0o700);
    expect(readFileSync(join(rootfs, 'bin/tool'), 'utf8')).toBe('tool');
    expect(statSync(join(rootfs, 'new-hardlink')).ino).toBe(statSync(join(rootfs, 'new-file')).ino);
    expect(readFileSync(join(rootfs, 'bin/config-link'), 'utf8')).toBe('v2');
  });
});
