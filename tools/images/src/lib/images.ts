import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, writeImageLayout } from './layout.ts';

const BUSYBOX_APPLETS = [
  'sh',
  'ls',
  'cat',
  'echo',
  'id',
  'mkdir',
  'rm',
  'sleep',
  'true',
  'false',
  'env',
  'ps',
];

function staging(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-test-image-'));
  chmodSync(dir, 0o755);
  return dir;
}

function file(root: string, rel: string, content: string, mode = 0o644): void {
  const path = join(root, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

/**
 * Writes a one-layer busybox image (from busybox-static's `/bin/busybox`, with applet symlinks,
 * /etc/passwd and /etc/group for root and nobody, /tmp 1777) into `layout`, tagged `ref`.
 *
 * @example
 * const img = buildBusyboxImage('/tmp/layout');
 * // umoci unpack --image /tmp/layout:busybox bundle && runc run …
 */
export function buildBusyboxImage(layout: string, ref = 'busybox', busybox = '/bin/busybox'): BuiltImage {
  if (!existsSync(busybox)) throw new Error(`${busybox} not found: install busybox-static`);
  const root = staging();
  try {
    for (const d of ['bin', 'etc', 'root', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { mode: 0o755 });
    mkdirSync(join(root, 'tmp'));
    chmodSync(join(root, 'tmp'), 0o1777);
    chmodSync(join(root, 'root'), 0o700);
    execFileSync('install', ['-m', '0755', busybox, join(root, 'bin', 'busybox')]);
    for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
    file(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    file(root, 'etc/group', 'root:x:0:\nnogroup:x:65534:\n');
    return writeImageLayout(layout, ref, [{ dir: root }]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Writes a one-layer busybox image for volume tests into `layout`, tagged `ref`: `/data` populated
 * (`/data/sub/file` "from the image", everything owned by 1234:2345; `/data` 0751, `/data/sub`
 * 0755, the file 0640) and declared in the config's `Volumes`, and `/seed/hello` ("seeded") not
 * declared. Needs root (it chowns).
 */
export function buildVolumeImage(layout: string, ref = 'vol', busybox = '/bin/busybox'): BuiltImage {
  if (!existsSync(busybox)) throw new Error(`${busybox} not found: install busybox-static`);
  const root = staging();
  try {
    mkdirSync(join(root, 'bin'));
    execFileSync('install', ['-m', '0755', busybox, join(root, 'bin', 'busybox')]);
    for (const applet of [...BUSYBOX_APPLETS, 'stat', 'find', 'sort', 'wc', 'grep', 'cut', 'touch'])
      symlinkSync('busybox', join(root, 'bin', applet));
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(root, d));
    file(root, 'data/sub/file', 'from the image\n', 0o640);
    for (const p of ['data/sub/file', 'data/sub', 'data']) chownSync(join(root, p), 1234, 2345);
    chmodSync(join(root, 'data'), 0o751);
    file(root, 'seed/hello', 'seeded\n');
    return writeImageLayout(layout, ref, [{ dir: root }], { config: { Volumes: { '/data': {} } } });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Writes a three-layer image into `layout`, tagged `ref`, exercising what unpackers get wrong:
 * layer 1 has files, a setuid file, a hardlink pair, a symlink and a directory to be made opaque;
 * layer 2 deletes a file and a directory (`.wh.` whiteouts), makes `opaque/` opaque
 * (`.wh..wh..opq`) with one new file, replaces a file's content and adds a hardlink to a lower
 * file's new copy; layer 3 is a chmod-only change of `bin/tool` (0755 → 0700).
 *
 * Expected result after unpacking: `etc/config` is `v2`; `etc/remove-me` and `gone/` absent;
 * `opaque/` holds only `upper-c`; `bin/su` is 04755; `bin/tool` is 0700 with content `tool`;
 * `bin/tool-hardlink` and `bin/tool` share an inode in layer 1 (not after layer 3's rewrite);
 * `new-hardlink` and `new-file` share an inode.
 */
export function buildWhiteoutImage(layout: string, ref = 'layers'): BuiltImage {
  const l1 = staging();
  const l2 = staging();
  const l3 = staging();
  try {
    file(l1, 'etc/config', 'v1');
    file(l1, 'etc/remove-me', 'bye');
    file(l1, 'bin/tool', 'tool', 0o755);
    linkSync(join(l1, 'bin/tool'), join(l1, 'bin/tool-hardlink'));
    file(l1, 'bin/su', 'su', 0o4755);
    symlinkSync('../etc/config', join(l1, 'bin/config-link'));
    file(l1, 'opaque/lower-a', 'a');
    file(l1, 'opaque/sub/lower-b', 'b');
    file(l1, 'gone/inside', 'x');

    file(l2, 'etc/config', 'v2');
    file(l2, 'etc/.wh.remove-me', '');
    file(l2, '.wh.gone', '');
    file(l2, 'opaque/.wh..wh..opq', '');
    file(l2, 'opaque/upper-c', 'c');
    file(l2, 'new-file', 'shared');
    linkSync(join(l2, 'new-file'), join(l2, 'new-hardlink'));

    file(l3, 'bin/tool', 'tool', 0o700);
    for (const d of [l1, l2, l3]) for (const sub of ['etc', 'bin', 'opaque']) chmodDirs(join(d, sub));
    return writeImageLayout(layout, ref, [{ dir: l1 }, { dir: l2 }, { dir: l3 }]);
  } finally {
    for (const d of [l1, l2, l3]) rmSync(d, { recursive: true, force: true });
  }
}

function chmodDirs(path: string): void {
  if (existsSync(path)) chmodSync(path, 0o755);
}

/** Where {@link buildDebianImage} caches its result: `$OCIKIT_TEST_IMAGES_CACHE` or /var/cache/ocikit-test-images. */
export function debianCacheDir(): string {
  return process.env['OCIKIT_TEST_IMAGES_CACHE'] ?? '/var/cache/ocikit-test-images';
}

/**
 * Returns a one-layer Debian minbase image (bookworm, debootstrap `--variant=minbase`, without apt
 * lists, apt caches and /dev entries), tagged `debian`, building it on first use: the layout is
 * cached under {@link debianCacheDir} keyed by the build date (`debian-minbase-YYYYMMDD`), and the
 * newest cached one is reused, so each machine builds it once. Needs root and the Debian mirror
 * (or an existing debootstrap tree: `$OCIKIT_DEBIAN_ROOTFS`, default the unpack benchmark's).
 *
 * @example
 * const { layout } = buildDebianImage(); // /var/cache/ocikit-test-images/debian-minbase-20261122
 */
export function buildDebianImage(mirror = 'http://deb.debian.org/debian'): BuiltImage {
  const cache = debianCacheDir();
  mkdirSync(cache, { recursive: true });
  const existing = execFileSync('ls', ['-1', cache], { encoding: 'utf8' })
    .split('\n')
    .filter((n) => /^debian-minbase-\d{8}$/.test(n) && existsSync(join(cache, n, 'layout', 'image.json')))
    .sort();
  const newest = existing.at(-1);
  if (newest) {
    return JSON.parse(
      execFileSync('cat', [join(cache, newest, 'layout', 'image.json')], { encoding: 'utf8' }),
    ) as BuiltImage;
  }
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const dir = join(cache, `debian-minbase-${day}`);
  const rootfs = join(dir, 'rootfs');
  if (!existsSync(join(rootfs, 'usr'))) {
    rmSync(rootfs, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // The unpack benchmark's debootstrap of the same suite, when this machine already has one.
    const seed = process.env['OCIKIT_DEBIAN_ROOTFS'] ?? '/var/cache/ocikit-bench/debian';
    if (existsSync(join(seed, 'usr'))) execFileSync('cp', ['-a', seed, rootfs]);
    else execFileSync('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror], { stdio: 'inherit' });
  }
  for (const junk of ['var/lib/apt/lists', 'var/cache/apt', 'dev']) {
    rmSync(join(rootfs, junk), { recursive: true, force: true });
    mkdirSync(join(rootfs, junk), { mode: 0o755 });
  }
  const layout = join(dir, 'layout');
  rmSync(layout, { recursive: true, force: true });
  const built = writeImageLayout(layout, 'debian', [{ dir: rootfs }]);
  writeFileSync(join(layout, 'image.json'), JSON.stringify(built));
  return built;
}
