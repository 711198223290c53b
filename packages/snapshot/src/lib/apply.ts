import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHasher, type Digest } from '@ocikit/digest';
import { DataLossError, FailedPreconditionError, InvalidArgumentError, throwIfAborted } from '@ocikit/errors';
import { layerCompression } from '@ocikit/image-spec';
import type { Header } from 'tar-stream';
import { PaxScanner } from './pax.ts';
import { cleanComponents, resolveDirSync } from './resolve.ts';
import { setXattrs, type XattrToSet } from './xattr.ts';

// node:zlib through getBuiltinModule (an ESM import evaluates the whole module, ~10 ms), and only
// when a layer is decompressed: running a container from unpacked snapshots never does
const zlib = () => process.getBuiltinModule('node:zlib');

/** Options of {@link applyLayer}. */
export interface ApplyOptions {
  /** The layer's media type; its compression must match the stream's magic bytes. */
  mediaType?: string;
  /** The expected uncompressed digest (the image config's diffID); DataLossError when it differs. */
  diffId?: Digest;
  /** Create device nodes and set ownership (needs root). Default: true when running as root. */
  privileged?: boolean;
  /** Map a layer's uid/gid to the host's (user namespaces). */
  idMap?: { uid: (id: number) => number; gid: (id: number) => number };
  /** Stop after this many uncompressed bytes (decompression bombs). */
  quota?: number;
  signal?: AbortSignal;
}

/** What {@link applyLayer} did. */
export interface ApplyResult {
  /** The digest of the uncompressed tar stream. */
  diffId: Digest;
  /** Uncompressed bytes. */
  size: number;
  /** Entries applied (whiteouts included). */
  entries: number;
  /** Entries not applied, and why (devices without privilege, unsupported types, attributes the kernel refused). */
  skipped: { path: string; reason: string }[];
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

function invalid(message: string, reason = 'invalid-archive'): InvalidArgumentError {
  return new InvalidArgumentError(`invalid layer: ${message}`, { details: { reason } });
}

function compressionOf(head: Uint8Array): 'gzip' | 'zstd' | 'none' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

async function sniff(
  source: AsyncIterable<Uint8Array>,
): Promise<{ kind: 'gzip' | 'zstd' | 'none'; stream: Readable }> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    have += r.value.byteLength;
  }
  const first = Buffer.concat(head);
  const stream = Readable.from(
    (async function* () {
      if (first.byteLength) yield first;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })(),
    { objectMode: false },
  );
  return { kind: compressionOf(first), stream };
}

// The hot path uses synchronous file-system calls: thousands of tiny operations per layer cost far
// less in-thread than as round trips through libuv's thread pool.
function exists(path: string) {
  return lstatSync(path, { throwIfNoEntry: false });
}

/**
 * Applies one layer (tar, tar+gzip or tar+zstd, streamed) onto the directory `root`: every path is
 * resolved inside `root` with chroot semantics, whiteouts and opaque whiteouts remove what lower
 * layers put there, and the uncompressed digest is checked against `diffId`. Extended attributes
 * (PAX `SCHILY.xattr.*`) are set through the `@napi-rs/xattr` addon, else python3; a layer that
 * carries them fails with FailedPrecondition when neither is there, rather than unpacking without them.
 *
 * @example
 * ```ts
 * await applyLayer('rootfs', await store.fetch(layer), { mediaType: layer.mediaType, diffId });
 * ```
 */
export async function applyLayer(
  root: string,
  layer: AsyncIterable<Uint8Array>,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const privileged = options.privileged ?? process.getuid?.() === 0;
  const { kind, stream } = await sniff(layer);
  const declared = options.mediaType ? layerCompression(options.mediaType) : undefined;
  if (declared && declared !== kind) {
    throw invalid(
      `media type ${options.mediaType} says ${declared}, but the stream is ${kind === 'none' ? 'an uncompressed tar' : kind}`,
      'compression-mismatch',
    );
  }
  const hasher = createHasher();
  const pax = new PaxScanner();
  const quota = options.quota;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hasher.update(chunk);
      pax.push(chunk);
      if (quota !== undefined && hasher.size > quota) {
        cb(
          new FailedPreconditionError(`layer expands beyond the ${quota}-byte quota`, {
            details: { reason: 'quota', quota },
          }),
        );
        return;
      }
      cb(null, chunk);
    },
  });
  // loaded here, not at import: `run` of an unpacked image never needs the tar reader (~20 ms)
  const tarStream = await import('tar-stream');
  // a CommonJS module: Node names its exports, a bundle (the CLI's, decision 022) gives them as `default`
  const { extract: tarExtract } =
    typeof tarStream.extract === 'function'
      ? tarStream
      : (tarStream as unknown as { default: typeof tarStream }).default;
  const extract = tarExtract();
  const decompress =
    kind === 'gzip'
      ? zlib().createGunzip({ chunkSize: 1024 * 1024 })
      : kind === 'zstd'
        ? zlib().createZstdDecompress({ chunkSize: 1024 * 1024 })
        : undefined;
  const piped = decompress ? pipeline(stream, decompress, tap, extract) : pipeline(stream, tap, extract);
  piped.catch(() => {});

  const result: ApplyResult = { diffId: '' as Digest, size: 0, entries: 0, skipped: [] };
  const written = new Set<string>();
  const touched = new Set<string>();
  const dirTimes: [string, Date][] = [];
  const xattrs: XattrToSet[] = [];
  let index = -1;
  let dirs = new Map<string, string>();

  const dirFor = (components: readonly string[]): string => {
    const key = components.join('/');
    let host = dirs.get(key);
    if (host === undefined) {
      host = resolveDirSync(root, components, true) as string;
      dirs.set(key, host);
    }
    return host;
  };
  const forget = () => {
    dirs = new Map();
  };
  const mark = (host: string) => {
    written.add(host);
    for (let d = dirname(host); d.length > root.length && !touched.has(d); d = dirname(d)) touched.add(d);
  };
  const removeExisting = (target: string, keepDir: boolean) => {
    const st = exists(target);
    if (!st) return;
    if (keepDir && st.isDirectory()) return;
    rmSync(target, { recursive: true, force: true });
    forget();
  };
  const removeLower = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const child = join(dir, name);
      if (written.has(child) || touched.has(child)) {
        if (lstatSync(child).isDirectory()) removeLower(child);
      } else {
        rmSync(child, { recursive: true, force: true });
      }
    }
    forget();
  };
  const createFile = (target: string): number => {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    try {
      return openSync(target, flags, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      removeExisting(target, false);
      return openSync(target, flags, 0o600);
    }
  };
  try {
    for await (const entry of extract) {
      throwIfAborted(options.signal);
      const header = entry.header;
      result.entries++;
      index++;
      const components = cleanComponents(header.name);
      const base = components.at(-1);
      const mode = (header.mode ?? 0o644) & 0o7777;
      const mtime = header.mtime ?? new Date(0);
      if (base === undefined) {
        // The root itself. An entry that names it outright ("/", ".") as anything but a directory
        // is refused, as umoci does; names that only clean to it ("", "..") are skipped, as
        // containerd does. Either way the root is never replaced.
        entry.resume();
        if (header.type === 'directory') continue;
        if (/^[./]+$/.test(header.name) && !header.name.includes('..')) {
          throw invalid(`entry "${header.name}" would replace the root directory`, 'malicious-root-entry');
        }
        result.skipped.push({ path: header.name, reason: 'resolves to the root directory' });
        continue;
      }
      const parentComponents = components.slice(0, -1);
      if (base.startsWith(WH)) {
        entry.resume();
        const parent = resolveDirSync(root, parentComponents, false);
        if (base === OPAQUE) {
          if (parent && exists(parent)?.isDirectory()) removeLower(parent);
          continue;
        }
        const name = base.slice(WH.length);
        if (name === '' || name === '.' || name === '..')
          throw invalid(`whiteout "${header.name}" names no file`);
        if (!parent) continue;
        const target = join(parent, name);
        if (!written.has(target) && !touched.has(target)) {
          rmSync(target, { recursive: true, force: true });
          forget();
        }
        continue;
      }
      const parent = dirFor(parentComponents);
      const target = join(parent, base);
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          const fd = createFile(target);
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) {
              let off = 0;
              while (off < chunk.byteLength) off += writeSync(fd, chunk, off);
            }
            if (privileged) fchownSync(fd, ...ids(header, options));
            fchmodSync(fd, mode);
            futimesSync(fd, mtime, mtime);
          } finally {
            closeSync(fd);
          }
          break;
        }
        case 'directory': {
          entry.resume();
          removeExisting(target, true);
          if (!exists(target)) mkdirSync(target, { mode: 0o700 });
          if (privileged) lchownSync(target, ...ids(header, options));
          chmodSync(target, mode);
          dirTimes.push([target, mtime]);
          break;
        }
        case 'symlink': {
          entry.resume();
          removeExisting(target, false);
          symlinkSync(header.linkname ?? '', target);
          if (privileged) lchownSync(target, ...ids(header, options));
          lutimesSync(target, mtime, mtime);
          forget();
          break;
        }
        case 'link': {
          entry.resume();
          const linkComponents = cleanComponents(header.linkname ?? '');
          const linkBase = linkComponents.at(-1);
          const linkParent =
            linkBase === undefined ? undefined : resolveDirSync(root, linkComponents.slice(0, -1), false);
          const source =
            linkParent === undefined || linkBase === undefined ? undefined : join(linkParent, linkBase);
          const st = source ? exists(source) : undefined;
          if (!source || !st)
            throw invalid(`hardlink "${header.name}" points at "${header.linkname}", which does not exist`);
          if (st.isDirectory()) throw invalid(`hardlink "${header.name}" points at a directory`);
          if (source !== target) {
            removeExisting(target, false);
            linkSync(source, target);
          }
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          entry.resume();
          if (!privileged && header.type !== 'fifo') {
            result.skipped.push({
              path: `/${components.join('/')}`,
              reason: `${header.type} needs privileges`,
            });
            break;
          }
          removeExisting(target, false);
          const args =
            header.type === 'fifo'
              ? ['mkfifo', '-m', mode.toString(8), target]
              : [
                  'mknod',
                  '-m',
                  mode.toString(8),
                  target,
                  header.type === 'character-device' ? 'c' : 'b',
                  String(header.devmajor ?? 0),
                  String(header.devminor ?? 0),
                ];
          const r = spawnSync(args[0] as string, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
          if (r.status !== 0) {
            result.skipped.push({
              path: `/${components.join('/')}`,
              reason: `${args[0]} failed: ${r.stderr?.toString().trim()}`,
            });
            break;
          }
          if (privileged) lchownSync(target, ...ids(header, options));
          utimesSync(target, mtime, mtime);
          break;
        }
        default:
          entry.resume();
          result.skipped.push({
            path: `/${components.join('/')}`,
            reason: `unsupported entry type ${header.type}`,
          });
          continue;
      }
      mark(target);
      const attrs = pax.xattrs.get(index);
      if (attrs && header.type !== 'link') {
        for (const [name, value] of attrs) xattrs.push({ path: target, name, value });
      }
    }
    await piped;
  } catch (e) {
    extract.destroy();
    await piped.catch(() => {});
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && /^(ENOTDIR|ELOOP)$/.test(e.code)) {
      throw invalid(e.message);
    }
    throw e;
  }
  // Directory times last, deepest first, so creating their children does not move them.
  dirTimes.sort((a, b) => b[0].length - a[0].length);
  for (const [dir, time] of dirTimes) {
    try {
      utimesSync(dir, time, time);
    } catch {
      // removed by a later entry of the layer
    }
  }
  // Last, so no later write or chown clears them (the kernel drops security.capability on both).
  if (xattrs.length) result.skipped.push(...setXattrs(xattrs));
  result.diffId = hasher.digest();
  result.size = hasher.size;
  if (options.diffId && options.diffId !== result.diffId) {
    throw new DataLossError(
      `layer diffID mismatch: the image config says ${options.diffId}, the layer is ${result.diffId}`,
      {
        details: { expected: options.diffId, actual: result.diffId },
      },
    );
  }
  return result;
}

function ids(header: Header, options: ApplyOptions): [number, number] {
  // PAX uid/gid (ids past the ustar field's 2^21) win over the header's.
  const pax = (key: 'uid' | 'gid') => {
    const v = (header.pax as Record<string, string> | undefined)?.[key];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const uid = pax('uid') ?? header.uid ?? 0;
  const gid = pax('gid') ?? header.gid ?? 0;
  return options.idMap ? [options.idMap.uid(uid), options.idMap.gid(gid)] : [uid, gid];
}
