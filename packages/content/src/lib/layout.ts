import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { isDigest } from '@ocikit/digest';
import {
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
import { withoutRefName } from './helpers.ts';
import { blobPath, errno, pathExists, READ_CHUNK, STATE, writeAtomic } from './layout-files.ts';
import { checkLayout, type FsckResult } from './layout-fsck.ts';
import { collectGarbage, type GcOptions, type GcResult } from './layout-gc.ts';
import { openLayoutWriter } from './layout-writer.ts';
import { withLock } from './lock.ts';
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

export type { FsckProblem, FsckResult } from './layout-fsck.ts';
export type { GcOptions, GcResult } from './layout-gc.ts';

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
  /**
   * Removes blobs that nothing reachable from index.json (or `roots`) refers to, and partial writes
   * no live process holds, untouched for `ingestTtlMs` (default a day).
   */
  gc(options?: GcOptions): Promise<GcResult>;
  /** Re-hashes every blob and checks every reference resolves; `repair` removes corrupt blobs. */
  fsck(options?: SignalOptions & { repair?: boolean }): Promise<FsckResult>;
}

/** The media type a JSON document declares or looks like; `application/octet-stream` otherwise. */
export function sniffMediaType(bytes: Uint8Array): string {
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
    return openLayoutWriter(this.path, desc, this.#sync, options);
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

  async gc(options: GcOptions = {}): Promise<GcResult> {
    return withLock(this.#indexLock, () => collectGarbage(this.path, () => this.list(), options), options);
  }

  async fsck(options: SignalOptions & { repair?: boolean } = {}): Promise<FsckResult> {
    return checkLayout(this.path, () => this.list(), options);
  }
}

// ENOTDIR names no path: the file in the way is the layout's directory itself or one of its parents.
function notADirectory(dir: string): FailedPreconditionError {
  for (let p = dir; ; p = dirname(p)) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      st = undefined; // missing, or under a file: look at the parent
    }
    if (st && !st.isDirectory()) {
      const message =
        p === dir
          ? `${dir} is not a directory`
          : `${p} is a file, not a directory (in the layout path ${dir})`;
      return new FailedPreconditionError(message, { details: { layout: dir, path: p } });
    }
    if (dirname(p) === p)
      return new FailedPreconditionError(`${dir} is not a directory`, { details: { layout: dir } });
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
    if (errno(e) === 'ENOTDIR') throw notADirectory(dir);
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
