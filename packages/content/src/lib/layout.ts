import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  createHasher,
  type Digest,
  digestAlgorithm,
  digestEncoded,
  digestFile,
  type Hasher,
  isDigest,
  parseDigest,
  randomHex,
} from '@ocikit/digest';
import {
  AlreadyExistsError,
  DataLossError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  throwIfAborted,
} from '@ocikit/errors';
import {
  Annotation,
  type Descriptor,
  type ImageIndex,
  MediaType,
  parseImageLayout,
  parseIndex,
} from '@ocikit/image-spec';
import { childrenOf, isGraphNode, withoutRefName } from './helpers.ts';
import { acquireLock, type Lock, withLock } from './lock.ts';
import type {
  BytesFetcher,
  ContentWriter,
  Deleter,
  FetchOptions,
  Ingester,
  SignalOptions,
  TagLister,
  Target,
} from './target.ts';

/** What {@link OciLayout.gc} removed. */
export interface GcResult {
  /** Blobs removed. */
  removed: Digest[];
  /** Bytes freed. */
  bytes: number;
  /** Abandoned partial writes removed. */
  ingests: number;
}

/** One problem {@link OciLayout.fsck} found. */
export interface FsckProblem {
  kind: 'corrupt' | 'missing' | 'size-mismatch' | 'invalid' | 'stray';
  /** The blob concerned (or a file name for `stray`). */
  digest: string;
  message: string;
  /** True when `repair` removed it. */
  repaired?: boolean;
}

/** What {@link OciLayout.fsck} checked and found. */
export interface FsckResult {
  blobs: number;
  references: number;
  problems: FsckProblem[];
}

/** Options of {@link openLayout}. */
export interface OpenLayoutOptions extends SignalOptions {
  /** Create the layout (and its directory) when it does not exist. */
  create?: boolean;
  /** fsync blobs and index.json before they become visible (default true). */
  sync?: boolean;
}

/** An OCI image layout on disk, as a content target. */
export interface OciLayout extends Target, Ingester, Deleter, TagLister, BytesFetcher {
  /** The layout's directory. */
  readonly path: string;
  /** The entries of index.json. */
  list(options?: SignalOptions): Promise<Descriptor[]>;
  /** Removes every index.json entry named `ref`; NotFoundError when there is none. */
  untag(ref: string, options?: SignalOptions): Promise<void>;
  /** Removes blobs that nothing reachable from index.json refers to. */
  gc(options?: SignalOptions & { ingestTtlMs?: number }): Promise<GcResult>;
  /** Re-hashes every blob and checks every reference resolves; `repair` removes corrupt blobs. */
  fsck(options?: SignalOptions & { repair?: boolean }): Promise<FsckResult>;
}

const STATE = '.ocikit';

function blobPath(root: string, digest: Digest): string {
  return join(root, 'blobs', digestAlgorithm(digest), digestEncoded(digest));
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Bytes gathered before one `writev` of an ingest. */
const BATCH_BYTES = 1 << 20;

/**
 * A synced ingest starts writing back to disk after this many new bytes, in the background, so the
 * fsync at commit finds little left to flush: a 49 MB layer's final fsync took ~45 ms on its own,
 * all of it on the pull's critical path.
 */
const WRITEBACK_BYTES = 8 << 20;

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT') return false;
    throw e;
  }
}

async function writeAtomic(root: string, target: string, bytes: Uint8Array, sync: boolean): Promise<void> {
  const tmpDir = join(root, STATE, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `${randomHex(8)}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, target);
}

function sniffMediaType(bytes: Uint8Array): string {
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    if (typeof doc['mediaType'] === 'string') return doc['mediaType'];
    if (Array.isArray(doc['manifests'])) return MediaType.ImageIndex;
    if (doc['config'] && Array.isArray(doc['layers'])) return MediaType.ImageManifest;
  } catch {
    // not JSON: a plain blob
  }
  return 'application/octet-stream';
}

class LayoutWriter implements ContentWriter {
  offset: number;
  readonly #desc: Descriptor;
  readonly #final: string;
  readonly #data: string;
  readonly #lock: Lock;
  readonly #hasher: Hasher;
  readonly #sync: boolean;
  #fh: FileHandle | undefined;
  #pending: Promise<void> = Promise.resolve();
  /** Background `fdatasync`s (early writeback), awaited before the final sync and before close. */
  #writeback: Promise<void> = Promise.resolve();
  #unsynced = 0;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #done = false;

  constructor(
    desc: Descriptor,
    final: string,
    data: string,
    lock: Lock,
    hasher: Hasher,
    fh: FileHandle | undefined,
    sync: boolean,
  ) {
    this.#desc = desc;
    this.#final = final;
    this.#data = data;
    this.#lock = lock;
    this.#hasher = hasher;
    this.#fh = fh;
    this.#sync = sync;
    this.offset = fh ? hasher.size : desc.size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.#fh) {
      if (chunk.byteLength === 0) return;
      throw new AlreadyExistsError(`blob ${this.#desc.digest} is already present`);
    }
    if (this.#hasher.size + chunk.byteLength > this.#desc.size) {
      await this.abort();
      throw new DataLossError(
        `content ${this.#desc.digest} is larger than its expected ${this.#desc.size} bytes`,
        {
          details: { digest: this.#desc.digest, expectedSize: this.#desc.size },
        },
      );
    }
    this.#hasher.update(chunk);
    // Chunks are gathered into ~1 MiB batches (one writev each, not a syscall per 64 KiB chunk),
    // with one batch in flight: the caller reads and hashes the next chunks while it is written.
    this.#batch.push(chunk);
    this.#batchBytes += chunk.byteLength;
    if (this.#batchBytes >= BATCH_BYTES) await this.#flush();
  }

  async #flush(): Promise<void> {
    const fh = this.#fh;
    if (!fh || this.#batch.length === 0) return;
    const batch = this.#batch;
    const size = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    const previous = this.#pending;
    this.#pending = previous.then(async () => {
      let buffers: Uint8Array[] = batch;
      while (buffers.length > 0) {
        let { bytesWritten } = await fh.writev(buffers);
        // a short write: drop what was written and go on with the rest
        while (buffers.length > 0 && bytesWritten >= (buffers[0] as Uint8Array).byteLength) {
          bytesWritten -= (buffers[0] as Uint8Array).byteLength;
          buffers = buffers.slice(1);
        }
        if (bytesWritten > 0 && buffers.length > 0)
          buffers = [(buffers[0] as Uint8Array).subarray(bytesWritten), ...buffers.slice(1)];
      }
      this.#unsynced += size;
      if (this.#sync && this.#unsynced >= WRITEBACK_BYTES) {
        this.#unsynced = 0;
        // one at a time, beside the writes that follow; a failure surfaces at commit
        this.#writeback = this.#writeback.then(() => fh.datasync());
        this.#writeback.catch(() => {});
      }
    });
    await previous;
  }

  async commit(): Promise<void> {
    if (this.#done) return;
    if (!this.#fh) {
      await this.#finish();
      return;
    }
    try {
      await this.#flush();
      await this.#pending;
      await this.#writeback;
    } catch (e) {
      await this.abort();
      throw e;
    }
    const actual = this.#hasher.digest();
    if (this.#hasher.size !== this.#desc.size || actual !== this.#desc.digest) {
      const size = this.#hasher.size;
      await this.abort();
      throw new DataLossError(
        size !== this.#desc.size
          ? `content ${this.#desc.digest} ended after ${size} of its ${this.#desc.size} bytes`
          : `content digest mismatch: expected ${this.#desc.digest}, got ${actual}`,
        {
          details: {
            digest: this.#desc.digest,
            actualDigest: actual,
            expectedSize: this.#desc.size,
            actualSize: size,
          },
        },
      );
    }
    if (this.#sync) await this.#fh.sync();
    await this.#fh.close();
    this.#fh = undefined;
    await mkdir(join(this.#final, '..'), { recursive: true });
    await rename(this.#data, this.#final);
    await this.#finish();
  }

  async abort(): Promise<void> {
    await this.#stop(true);
  }

  async close(): Promise<void> {
    await this.#stop(false);
  }

  async #stop(discard: boolean): Promise<void> {
    if (this.#done) return;
    // what arrived is kept for resuming: write out the last batch too (unless it is discarded)
    if (!discard) await this.#flush().catch(() => {});
    await this.#pending.catch(() => {});
    await this.#writeback.catch(() => {});
    await this.#fh?.close();
    this.#fh = undefined;
    if (discard) await rm(this.#data, { force: true });
    await this.#finish();
  }

  async #finish(): Promise<void> {
    this.#done = true;
    await this.#lock.release();
  }
}

/**
 * Blob reads go in 256 KiB chunks: each is a fresh buffer, and at 1 MiB a 49 MB layer read and
 * hashed took 110 ms against 60 ms (this VM, hugepage-backed malloc; docs/benchmarks.md) — the big
 * buffers are faulted in anew and hashed out of cache.
 */
const READ_CHUNK = 256 << 10;

/** Blobs up to this size (manifests, configs) are fetched with one synchronous read. */
const SMALL_BLOB = 256 << 10;

class Layout implements OciLayout {
  readonly path: string;
  readonly #sync: boolean;

  constructor(path: string, sync: boolean) {
    this.path = path;
    this.#sync = sync;
  }

  get #indexLock(): string {
    return join(this.path, STATE, 'index.lock');
  }

  async fetch(desc: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    throwIfAborted(options.signal);
    if (desc.size <= SMALL_BLOB && !options.offset) {
      return Readable.from([this.#readSmall(desc)], { objectMode: false });
    }
    const fh = await open(blobPath(this.path, desc.digest), 'r').catch((e: unknown) => {
      throw this.#notFound(desc, e);
    });
    return createReadStream('', {
      fd: fh,
      start: options.offset ?? 0,
      highWaterMark: READ_CHUNK,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async fetchBytes(desc: Descriptor, options: SignalOptions = {}): Promise<Uint8Array | undefined> {
    throwIfAborted(options.signal);
    return desc.size <= SMALL_BLOB ? this.#readSmall(desc) : undefined;
  }

  /**
   * Manifests and configs: one synchronous read (decision 103), at most one byte more than the
   * descriptor says, so a wrong size still reaches the verifier but a huge file is never read.
   */
  #readSmall(desc: Descriptor): Buffer {
    let fd: number;
    try {
      fd = openSync(blobPath(this.path, desc.digest), 'r');
    } catch (e) {
      throw this.#notFound(desc, e);
    }
    try {
      const buf = Buffer.allocUnsafe(desc.size + 1);
      let n = 0;
      while (n < buf.length) {
        const got = readSync(fd, buf, n, buf.length - n, n);
        if (got === 0) break;
        n += got;
      }
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }

  #notFound(desc: Descriptor, e: unknown): unknown {
    if (errno(e) === 'ENOENT') {
      return new NotFoundError(`blob ${desc.digest} not found in ${this.path}`, {
        details: { digest: desc.digest, layout: this.path },
      });
    }
    return e;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return pathExists(blobPath(this.path, desc.digest));
  }

  async openWriter(
    desc: Descriptor,
    options: SignalOptions & { resume?: boolean } = {},
  ): Promise<ContentWriter> {
    parseDigest(desc.digest);
    const ingest = join(this.path, STATE, 'ingest');
    const name = `${digestAlgorithm(desc.digest)}-${digestEncoded(desc.digest)}`;
    const lock = (await acquireLock(join(ingest, `${name}.lock`), options)) as Lock;
    try {
      const final = blobPath(this.path, desc.digest);
      const data = join(ingest, `${name}.data`);
      const hasher = createHasher(digestAlgorithm(desc.digest));
      if (await pathExists(final))
        return new LayoutWriter(desc, final, data, lock, hasher, undefined, this.#sync);
      let kept = 0;
      if (options.resume !== false) {
        kept = await stat(data).then(
          (s) => s.size,
          () => 0,
        );
        if (kept > desc.size) kept = 0;
      }
      if (kept > 0) {
        // Re-hash what an earlier, interrupted writer kept, so the digest check covers it.
        for await (const chunk of createReadStream(data, { end: kept - 1, highWaterMark: READ_CHUNK })) {
          hasher.update(chunk as Uint8Array);
        }
      }
      // O_APPEND: every write lands after what was kept.
      const fh = await open(data, kept > 0 ? 'a' : 'w');
      await fh.truncate(kept);
      return new LayoutWriter(desc, final, data, lock, hasher, fh, this.#sync);
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  async push(
    desc: Descriptor,
    content: AsyncIterable<Uint8Array> | Uint8Array,
    options: SignalOptions = {},
  ): Promise<void> {
    const writer = await this.openWriter(desc, { ...options, resume: false });
    if (writer.offset === desc.size && (await this.exists(desc))) {
      await writer.commit();
      return;
    }
    try {
      if (content instanceof Uint8Array) await writer.write(content);
      else {
        for await (const chunk of content) {
          throwIfAborted(options.signal);
          await writer.write(chunk);
        }
      }
      await writer.commit();
    } catch (e) {
      await writer.abort();
      throw e;
    }
  }

  async #readIndex(): Promise<ImageIndex> {
    const path = join(this.path, 'index.json');
    let bytes: Uint8Array;
    try {
      // read on every resolve and tag: one synchronous call (decision 103)
      bytes = readFileSync(path);
    } catch (e) {
      if (errno(e) === 'ENOENT')
        throw new DataLossError(`${path} is missing`, { hint: 'is this an OCI layout?' });
      throw e;
    }
    try {
      return parseIndex(bytes);
    } catch (e) {
      throw new DataLossError(`${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async #writeIndex(index: ImageIndex): Promise<void> {
    const bytes = Buffer.from(JSON.stringify(index));
    await writeAtomic(this.path, join(this.path, 'index.json'), bytes, this.#sync);
  }

  async list(): Promise<Descriptor[]> {
    return (await this.#readIndex()).manifests;
  }

  async tags(): Promise<string[]> {
    const names = (await this.list())
      .map((d) => d.annotations?.[Annotation.RefName])
      .filter((n) => n !== undefined);
    return [...new Set(names)].sort();
  }

  async resolve(ref: string, options: SignalOptions = {}): Promise<Descriptor> {
    throwIfAborted(options.signal);
    const entries = await this.list();
    const byName = entries.find((d) => d.annotations?.[Annotation.RefName] === ref);
    if (byName) return byName;
    if (isDigest(ref)) {
      const byDigest = entries.find((d) => d.digest === ref);
      if (byDigest) return byDigest;
      try {
        const bytes = await readFile(blobPath(this.path, ref));
        return { mediaType: sniffMediaType(bytes), digest: ref, size: bytes.byteLength };
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
    }
    throw new NotFoundError(`"${ref}" not found in ${this.path}`, {
      details: { ref, layout: this.path },
      hint: entries.length
        ? `known: ${entries.map((d) => d.annotations?.[Annotation.RefName] ?? d.digest).join(', ')}`
        : 'the layout is empty',
    });
  }

  async tag(desc: Descriptor, ref: string, options: SignalOptions = {}): Promise<void> {
    if (ref === '') throw new InvalidArgumentError('cannot tag with an empty reference');
    if (!(await this.exists(desc))) {
      throw new NotFoundError(`cannot tag ${desc.digest} as "${ref}": the blob is not in ${this.path}`, {
        details: { digest: desc.digest },
      });
    }
    await withLock(
      this.#indexLock,
      async () => {
        const index = await this.#readIndex();
        const plain = withoutRefName(desc);
        index.manifests = index.manifests.filter((d) => d.annotations?.[Annotation.RefName] !== ref);
        index.manifests.push({ ...plain, annotations: { ...plain.annotations, [Annotation.RefName]: ref } });
        await this.#writeIndex(index);
      },
      options,
    );
  }

  async untag(ref: string, options: SignalOptions = {}): Promise<void> {
    await withLock(
      this.#indexLock,
      async () => {
        const index = await this.#readIndex();
        const kept = index.manifests.filter((d) => d.annotations?.[Annotation.RefName] !== ref);
        if (kept.length === index.manifests.length)
          throw new NotFoundError(`"${ref}" not found in ${this.path}`);
        index.manifests = kept;
        await this.#writeIndex(index);
      },
      options,
    );
  }

  async delete(desc: Descriptor): Promise<void> {
    try {
      await unlink(blobPath(this.path, desc.digest));
    } catch (e) {
      if (errno(e) === 'ENOENT') throw new NotFoundError(`blob ${desc.digest} not found in ${this.path}`);
      throw e;
    }
  }

  async #blobFiles(): Promise<{ digest: string; path: string }[]> {
    const out: { digest: string; path: string }[] = [];
    const blobs = join(this.path, 'blobs');
    const algorithms = await readdir(blobs).catch(() => [] as string[]);
    for (const alg of algorithms.sort()) {
      const names = await readdir(join(blobs, alg)).catch(() => [] as string[]);
      for (const enc of names.sort()) out.push({ digest: `${alg}:${enc}`, path: join(blobs, alg, enc) });
    }
    return out;
  }

  // Marks everything reachable from index.json; missing or unreadable nodes are skipped (fsck reports them).
  async #mark(signal: AbortSignal | undefined): Promise<Set<string>> {
    const marked = new Set<string>();
    const visit = async (desc: Descriptor): Promise<void> => {
      throwIfAborted(signal);
      if (marked.has(desc.digest)) return;
      marked.add(desc.digest);
      if (!isGraphNode(desc)) return;
      let children: Descriptor[];
      try {
        children = childrenOf(desc, await readFile(blobPath(this.path, desc.digest)));
      } catch {
        return;
      }
      for (const child of children) await visit(child);
    };
    for (const root of await this.list()) await visit(root);
    return marked;
  }

  async gc(options: SignalOptions & { ingestTtlMs?: number } = {}): Promise<GcResult> {
    return withLock(
      this.#indexLock,
      async () => {
        const markStart = Date.now();
        const marked = await this.#mark(options.signal);
        const result: GcResult = { removed: [], bytes: 0, ingests: 0 };
        for (const { digest, path } of await this.#blobFiles()) {
          if (marked.has(digest)) continue;
          const st = await stat(path).catch(() => undefined);
          // A blob renamed into place after the mark began (its ctime moves on rename) may be
          // about to be tagged by another process: keep it for the next collection.
          if (!st || st.ctimeMs >= markStart - 1000) continue;
          await unlink(path).catch(() => {});
          result.removed.push(digest as Digest);
          result.bytes += st.size;
        }
        const ingest = join(this.path, STATE, 'ingest');
        const ttl = options.ingestTtlMs ?? 24 * 3600 * 1000;
        for (const name of await readdir(ingest).catch(() => [] as string[])) {
          if (!name.endsWith('.data')) continue;
          const data = join(ingest, name);
          const st = await stat(data).catch(() => undefined);
          if (!st || Date.now() - st.mtimeMs < ttl) continue;
          const lock = await acquireLock(data.replace(/\.data$/, '.lock'), { tryOnly: true });
          if (!lock) continue;
          try {
            await rm(data, { force: true });
            result.ingests++;
          } finally {
            await lock.release();
          }
        }
        return result;
      },
      options,
    );
  }

  async fsck(options: SignalOptions & { repair?: boolean } = {}): Promise<FsckResult> {
    const problems: FsckProblem[] = [];
    const sizes = new Map<string, number>();
    const files = await this.#blobFiles();
    for (const { digest, path } of files) {
      throwIfAborted(options.signal);
      let parsed: Digest;
      try {
        parsed = parseDigest(digest);
      } catch (e) {
        problems.push({
          kind: 'stray',
          digest,
          message: `blobs/${digest.replace(':', '/')}: ${(e as Error).message}`,
        });
        continue;
      }
      const actual = await digestFile(
        path,
        options.signal
          ? { algorithm: digestAlgorithm(parsed), signal: options.signal }
          : { algorithm: digestAlgorithm(parsed) },
      );
      if (actual !== parsed) {
        const problem: FsckProblem = {
          kind: 'corrupt',
          digest,
          message: `blob ${digest} is corrupt: its bytes hash to ${actual}`,
        };
        if (options.repair) {
          await unlink(path).catch(() => {});
          problem.repaired = true;
        }
        problems.push(problem);
        continue;
      }
      sizes.set(digest, (await stat(path)).size);
    }
    let references = 0;
    const seen = new Set<string>();
    const check = async (desc: Descriptor, parent: string): Promise<void> => {
      references++;
      if (seen.has(desc.digest)) return;
      seen.add(desc.digest);
      const size = sizes.get(desc.digest);
      if (size === undefined) {
        // A corrupt blob was reported already; anything else absent is missing.
        if (!problems.some((p) => p.digest === desc.digest)) {
          problems.push({
            kind: 'missing',
            digest: desc.digest,
            message: `blob ${desc.digest} (referenced by ${parent}) is missing`,
          });
        }
        return;
      }
      if (size !== desc.size) {
        problems.push({
          kind: 'size-mismatch',
          digest: desc.digest,
          message: `blob ${desc.digest} has ${size} bytes but ${parent} says ${desc.size}`,
        });
        return;
      }
      if (!isGraphNode(desc)) return;
      let children: Descriptor[];
      try {
        children = childrenOf(desc, await readFile(blobPath(this.path, desc.digest)));
      } catch (e) {
        problems.push({
          kind: 'invalid',
          digest: desc.digest,
          message: `${desc.digest}: ${(e as Error).message}`,
        });
        return;
      }
      for (const child of children) await check(child, desc.digest);
    };
    for (const entry of await this.list()) {
      await check(entry, `index.json (${entry.annotations?.[Annotation.RefName] ?? 'untagged'})`);
    }
    return { blobs: files.length, references, problems };
  }
}

/**
 * Opens (or with `create`, creates) an OCI image layout directory as a content target. Blobs are
 * verified and renamed into place atomically; index.json is replaced atomically under a
 * cross-process lock; partial writes live in `.ocikit/ingest/` and resume after a crash.
 *
 * @example
 * ```ts
 * const layout = await openLayout('./images', { create: true });
 * console.log(await layout.list());
 * ```
 */
export async function openLayout(dir: string, options: OpenLayoutOptions = {}): Promise<OciLayout> {
  throwIfAborted(options.signal);
  const sync = options.sync ?? true;
  const layoutFile = join(dir, 'oci-layout');
  let raw: Uint8Array | undefined;
  try {
    raw = readFileSync(layoutFile);
  } catch (e) {
    if (errno(e) === 'ENOTDIR') throw new FailedPreconditionError(`${dir} is not a directory`);
    if (errno(e) !== 'ENOENT') throw e;
  }
  if (raw === undefined) {
    if (!options.create) {
      throw new NotFoundError(`${dir} is not an OCI image layout (no oci-layout file)`, {
        details: { layout: dir },
        hint: 'check the path, or create the layout by copying an image into it',
      });
    }
    await mkdir(join(dir, 'blobs'), { recursive: true });
    const layout = new Layout(dir, sync);
    await withLock(join(dir, STATE, 'index.lock'), async () => {
      if (!(await pathExists(join(dir, 'index.json')))) {
        await writeAtomic(
          dir,
          join(dir, 'index.json'),
          Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] })),
          sync,
        );
      }
      if (!(await pathExists(layoutFile))) {
        await writeAtomic(
          dir,
          layoutFile,
          Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })),
          sync,
        );
      }
    });
    return layout;
  }
  let version: string;
  try {
    version = parseImageLayout(raw).imageLayoutVersion;
  } catch (e) {
    throw new DataLossError(`${layoutFile}: ${(e as Error).message}`, { cause: e });
  }
  if (!version.startsWith('1.')) {
    throw new FailedPreconditionError(`${dir}: unsupported image layout version ${version}`, {
      details: { version },
    });
  }
  return new Layout(dir, sync);
}
