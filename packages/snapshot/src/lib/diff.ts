import { createWriteStream, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHasher, type Digest } from '@ocikit/digest';
import { InvalidArgumentError, throwIfAborted } from '@ocikit/errors';
import { type Descriptor, MediaType } from '@ocikit/image-spec';
import { type TarHeader, TarWriter } from './tar-writer.ts';
import { readXattrs } from './xattr.ts';

// node:zlib through getBuiltinModule (an ESM import evaluates the whole module, ~10 ms), and only
// when a diff is compressed: most commands that load this module never do
const zlib = () => process.getBuiltinModule('node:zlib');

/** Options of {@link diffDirectories}. */
export interface DiffOptions {
  /** `gzip` (default) or `zstd`. */
  compression?: 'gzip' | 'zstd';
  /** Clamp every mtime to at most this time (seconds since the epoch); default `$SOURCE_DATE_EPOCH` when set. */
  clampTime?: number;
  signal?: AbortSignal;
}

/** The layer {@link diffDirectories} wrote: its descriptor and its uncompressed digest. */
export interface DiffResult {
  descriptor: Descriptor;
  diffId: Digest;
  /** The uncompressed tar's length in bytes (the diff's size, as podman's `UncompressedSize`). */
  size: number;
  /** Entries written (whiteouts included). */
  entries: number;
}

type Node = { name: string; st: Stats };

function sameXattrs(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  if (!a?.size && !b?.size) return true;
  if (!a || !b || a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}

function list(dir: string | undefined): Node[] {
  if (dir === undefined) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.sort().map((name) => ({ name, st: lstatSync(join(dir, name)) }));
}

function sameFile(a: string, sa: Stats, b: string, sb: Stats): boolean {
  if (sa.size !== sb.size) return false;
  if (sa.ino === sb.ino && sa.dev === sb.dev) return true;
  return readFileSync(a).equals(readFileSync(b));
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

/**
 * Writes the changes that turn directory `lower` into directory `upper` as an OCI layer at `out`:
 * added and changed entries, `.wh.` whiteouts for removed ones, hardlinks within the layer, devices,
 * FIFOs. Reproducible: entries in sorted order, owners numeric, mtimes clamped when asked
 * (`SOURCE_DATE_EPOCH`). Applying the layer onto `lower` gives `upper`. Extended attributes are read
 * through the `@napi-rs/xattr` addon, else python3; with neither, FailedPrecondition (a layer
 * without them would be wrong).
 *
 * @example
 * ```ts
 * const { descriptor, diffId } = await diffDirectories('rootfs-before', 'rootfs-after', 'layer.tar.gz');
 * ```
 */
export async function diffDirectories(
  lower: string,
  upper: string,
  out: string,
  options: DiffOptions = {},
): Promise<DiffResult> {
  return writeDiff(lower, upper, out, options);
}

/**
 * Writes an overlayfs upper directory as an OCI layer at `out`, as containerd does: every entry of
 * the upper dir goes in (it was created or copied up), a 0/0 character device becomes a `.wh.`
 * whiteout, a directory with `trusted.overlay.opaque=y` gets `.wh..wh..opq`, and `trusted.overlay.*`
 * attributes stay out. The lowers are not read. Applying the layer onto the lowers' merged tree
 * gives the overlay's merged tree. The overlay must be unmounted (or quiescent). Without a way to
 * read extended attributes (the `@napi-rs/xattr` addon, else python3), FailedPrecondition: opaque
 * directories would be lost.
 *
 * @example
 * ```ts
 * const { descriptor } = await diffOverlayUpper('/var/lib/snap/3/fs', 'layer.tar.gz');
 * ```
 */
export async function diffOverlayUpper(
  upper: string,
  out: string,
  options: DiffOptions = {},
): Promise<DiffResult> {
  return writeDiff(undefined, upper, out, options);
}

async function writeDiff(
  lower: string | undefined,
  upper: string,
  out: string,
  options: DiffOptions,
): Promise<DiffResult> {
  const overlay = lower === undefined;
  const epoch = process.env['SOURCE_DATE_EPOCH'];
  const clamp = options.clampTime ?? (epoch && /^\d+$/.test(epoch) ? Number(epoch) : undefined);
  const compression = options.compression ?? 'gzip';
  const uncompressed = createHasher();
  const compressed = createHasher();
  const tapU = new Transform({
    transform(chunk: Buffer, _e, cb) {
      uncompressed.update(chunk);
      cb(null, chunk);
    },
  });
  const tapC = new Transform({
    transform(chunk: Buffer, _e, cb) {
      compressed.update(chunk);
      cb(null, chunk);
    },
  });
  const compress = compression === 'zstd' ? zlib().createZstdCompress() : zlib().createGzip({ level: 6 });
  const written = pipeline(tapU, compress, tapC, createWriteStream(out));
  written.catch(() => {});
  const tar = new TarWriter(tapU);

  let entries = 0;
  const links = new Map<string, string>();
  const upperXattrs = readXattrs(upper);
  const lowerXattrs = lower === undefined ? new Map<string, Map<string, Buffer>>() : readXattrs(lower);
  const opaque = new Set<string>();
  if (overlay) {
    for (const [rel, attrs] of upperXattrs) {
      if (attrs.get('trusted.overlay.opaque')?.toString() === 'y') opaque.add(rel);
      for (const k of [...attrs.keys()]) if (k.startsWith('trusted.overlay.')) attrs.delete(k);
    }
  }
  const mtime = (st: Stats) => {
    const t =
      clamp !== undefined && st.mtimeMs > clamp * 1000 ? clamp * 1000 : Math.floor(st.mtimeMs / 1000) * 1000;
    return new Date(t);
  };
  const emit = async (header: TarHeader, content?: { path: string }) => {
    entries++;
    await tar.entry(header, content);
  };

  const add = async (rel: string, path: string, st: Stats): Promise<void> => {
    const attrs = upperXattrs.get(rel);
    const base = {
      name: rel,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: mtime(st),
      ...(attrs?.size ? { xattrs: attrs } : {}),
    };
    if (st.isFile() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) return emit({ ...base, type: 'link', linkname: first });
      links.set(key, rel);
    }
    if (st.isDirectory()) return emit({ ...base, name: `${rel}/`, type: 'directory' });
    if (st.isSymbolicLink()) return emit({ ...base, type: 'symlink', linkname: readlinkSync(path) });
    if (st.isFile()) return emit({ ...base, type: 'file', size: st.size }, { path });
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      return emit({
        ...base,
        type: st.isCharacterDevice() ? 'character-device' : 'block-device',
        devmajor: Math.floor(st.rdev / 256) & 0xfff,
        devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
      });
    }
    if (st.isFIFO()) return emit({ ...base, type: 'fifo' });
    throw new InvalidArgumentError(`${path}: sockets cannot go into a layer`);
  };
  const addTree = async (rel: string, path: string, st: Stats): Promise<void> => {
    await add(rel, path, st);
    if (st.isDirectory())
      for (const child of list(path)) await addTree(`${rel}/${child.name}`, join(path, child.name), child.st);
  };
  const whiteout = (rel: string, name: string) =>
    emit({
      name: `${rel}${rel ? '/' : ''}.wh.${name}`,
      type: 'file',
      size: 0,
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
    });

  const isOverlayWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;
  const walkOverlay = async (rel: string, upperDir: string, inOpaque: boolean): Promise<void> => {
    throwIfAborted(options.signal);
    for (const { name, st } of list(upperDir)) {
      const r = `${rel}${rel ? '/' : ''}${name}`;
      const up = join(upperDir, name);
      if (isOverlayWhiteout(st)) {
        // Inside an opaque directory nothing below shows through: no whiteout is needed.
        if (!inOpaque) await whiteout(rel, name);
        continue;
      }
      await add(r, up, st);
      if (!st.isDirectory()) continue;
      const isOpaque = inOpaque || opaque.has(r);
      if (opaque.has(r)) await whiteout(r, '.wh..opq');
      await walkOverlay(r, up, isOpaque);
    }
  };

  const walk = async (rel: string, lowerDir: string | undefined, upperDir: string): Promise<void> => {
    throwIfAborted(options.signal);
    const lowers = new Map(list(lowerDir).map((n) => [n.name, n.st]));
    const uppers = list(upperDir);
    const names = new Set(uppers.map((n) => n.name));
    for (const name of [...lowers.keys()].sort()) if (!names.has(name)) await whiteout(rel, name);
    for (const { name, st } of uppers) {
      const r = `${rel}${rel ? '/' : ''}${name}`;
      const up = join(upperDir, name);
      const lowSt = lowers.get(name);
      const low = lowerDir === undefined ? undefined : join(lowerDir, name);
      if (!lowSt || !low || kind(lowSt) !== kind(st)) {
        await addTree(r, up, st);
        continue;
      }
      const meta =
        (lowSt.mode & 0o7777) !== (st.mode & 0o7777) ||
        lowSt.uid !== st.uid ||
        lowSt.gid !== st.gid ||
        !sameXattrs(lowerXattrs.get(r), upperXattrs.get(r));
      if (st.isDirectory()) {
        if (meta) await add(r, up, st);
        await walk(r, low, up);
        continue;
      }
      let changed = meta || Math.floor(lowSt.mtimeMs / 1000) !== Math.floor(st.mtimeMs / 1000);
      if (!changed && st.isSymbolicLink()) changed = readlinkSync(low) !== readlinkSync(up);
      if (!changed && st.isFile()) changed = !sameFile(low, lowSt, up, st);
      if (!changed && (st.isCharacterDevice() || st.isBlockDevice())) changed = lowSt.rdev !== st.rdev;
      if (changed) await add(r, up, st);
    }
  };

  try {
    if (overlay) await walkOverlay('', upper, false);
    else await walk('', lower, upper);
    await tar.finish();
    await written;
  } catch (e) {
    tapU.destroy();
    throw e;
  }
  const mediaType = compression === 'zstd' ? MediaType.ImageLayerZstd : MediaType.ImageLayerGzip;
  return {
    descriptor: { mediaType, digest: compressed.digest(), size: compressed.size },
    diffId: uncompressed.digest(),
    size: uncompressed.size,
    entries,
  };
}
