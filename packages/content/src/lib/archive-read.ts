// docker-archive and oci-archive files read as content targets (decision 140).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHasher, type Digest, digestOfSync, isDigest, verifyStream } from '@ocikit/digest';
import {
  DataLossError,
  InvalidArgumentError,
  NotFoundError,
  throwIfAborted,
  UnimplementedError,
} from '@ocikit/errors';
import {
  Annotation,
  type Descriptor,
  decodeJson,
  MAX_DOCUMENT_SIZE,
  MediaType,
  parseImageConfig,
  parseImageLayout,
  parseIndex,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { followEntry, indexTar, type TarEntry } from './archive-tar.ts';
import { withoutRefName } from './helpers.ts';
import { sniffMediaType } from './layout.ts';
import type { FetchOptions, ReadOnlyTarget, SignalOptions, TagLister } from './target.ts';

// node:zlib through getBuiltinModule: an ESM import would evaluate it at start-up (decision 021)
const zlib = () => process.getBuiltinModule('node:zlib');

/** The two archive formats: `docker save`'s, and an OCI image layout in a tar file. */
export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** One image in an archive. */
export interface ArchiveImage {
  /** The image's manifest (for an oci-archive, possibly an index). */
  readonly descriptor: Descriptor;
  /**
   * Its names: a docker-archive's `RepoTags`, normalized (`docker.io/library/busybox:latest`);
   * an oci-archive's `org.opencontainers.image.ref.name` annotation. Empty when it has none.
   */
  readonly names: readonly string[];
}

/**
 * An image archive open for reading, as a read-only content target: `copy` takes images out of it.
 * Every blob is verified against its digest as it is read.
 */
export interface ImageArchive extends ReadOnlyTarget, TagLister {
  /** The archive file. */
  readonly path: string;
  /** `docker-archive` or `oci-archive`. */
  readonly format: ArchiveFormat;
  /** Every image, in the archive's order. */
  images(options?: SignalOptions): Promise<ArchiveImage[]>;
  /**
   * The image `ref` names (see `resolve`); without `ref`, the archive's only image
   * (InvalidArgumentError when it holds several, NotFoundError when none).
   */
  resolveImage(ref?: string, options?: SignalOptions): Promise<Descriptor>;
  /** Releases the archive (and removes the temporary copy of a decompressed or streamed one). */
  close(): Promise<void>;
}

/** Options of {@link openArchive}. */
export interface OpenArchiveOptions extends SignalOptions {
  /** Where a temporary copy goes when the archive is compressed or a stream (default the OS's). */
  tmpDir?: string;
}

type Compression = 'none' | 'gzip' | 'zstd';

function compressionOf(head: Uint8Array): Compression | 'other' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'other'; // bzip2
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) return 'other'; // xz
  return 'none';
}

/** A gunzip or zstd decompressor with 1 MiB output chunks (16 KiB by default: many more, smaller writes). */
function decompressor(compression: 'gzip' | 'zstd'): Transform {
  const chunkSize = 1 << 20;
  return compression === 'gzip'
    ? zlib().createGunzip({ chunkSize })
    : zlib().createZstdDecompress({ chunkSize });
}

/** A zlib or zstd error: the bytes are not what their compression says. */
function isCorruptData(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ZSTD_') || code === 'ERR_ZSTD')
  );
}

function corruptData(what: string, compression: string, e: unknown): DataLossError {
  return new DataLossError(`${what} is not valid ${compression} data: ${(e as Error).message}`, {
    cause: e,
    details: { reason: 'corrupt-compression', compression },
  });
}

/**
 * The decompressed bytes of `source`; DataLossError naming `what` when they do not decompress.
 * Ending early (or failing) destroys `source`.
 */
export async function* decompress(
  source: Readable,
  compression: 'gzip' | 'zstd',
  what: string,
): AsyncGenerator<Uint8Array> {
  const z = decompressor(compression);
  source.on('error', (e) => z.destroy(e));
  source.pipe(z);
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } catch (e) {
    throw isCorruptData(e) ? corruptData(what, compression, e) : e;
  } finally {
    source.destroy();
  }
}

/** Where a blob's bytes are in the archive. */
type BlobSource =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'entry'; entry: TarEntry; compression: Compression };

const notFound = (archive: string, what: string, hint?: string) =>
  new NotFoundError(`${what} not found in ${archive}`, {
    details: { archive },
    ...(hint ? { hint } : {}),
  });

abstract class ArchiveBase implements ImageArchive {
  readonly path: string;
  abstract readonly format: ArchiveFormat;
  protected readonly entries: ReadonlyMap<string, TarEntry>;
  /** The archive file the offsets are in (a temporary copy for a compressed or streamed archive). */
  protected readonly file: string;
  readonly #cleanup: string | undefined;
  protected readonly blobs = new Map<Digest, { desc: Descriptor; source: BlobSource }>();

  constructor(
    path: string,
    file: string,
    entries: ReadonlyMap<string, TarEntry>,
    cleanup: string | undefined,
  ) {
    this.path = path;
    this.file = file;
    this.entries = entries;
    this.#cleanup = cleanup;
  }

  abstract images(options?: SignalOptions): Promise<ArchiveImage[]>;
  abstract resolve(ref: string, options?: SignalOptions): Promise<Descriptor>;

  async tags(options: SignalOptions = {}): Promise<string[]> {
    return [...new Set((await this.images(options)).flatMap((i) => i.names))].sort();
  }

  async resolveImage(ref?: string, options: SignalOptions = {}): Promise<Descriptor> {
    if (ref !== undefined) return this.resolve(ref, options);
    const images = await this.images(options);
    const [only] = images;
    if (!only) throw notFound(this.path, 'an image', 'the archive holds no image');
    if (images.length > 1) {
      const names = images.map((i, n) => i.names[0] ?? `@${n}`);
      throw new InvalidArgumentError(
        `${this.path} holds ${images.length} images: name one (${names.join(', ')})`,
        {
          details: { reason: 'several-images', archive: this.path, images: names },
          hint: `write ${this.format}:FILE:REF`,
        },
      );
    }
    return only.descriptor;
  }

  /** The NotFoundError for a name no image has, listing the names there are. */
  protected unknown(images: readonly ArchiveImage[], name: string): NotFoundError {
    const known = images.flatMap((i) => i.names);
    return notFound(
      this.path,
      `"${name}"`,
      known.length ? `known: ${known.join(', ')}` : 'no image in the archive is named',
    );
  }

  protected async blob(desc: Descriptor, options: SignalOptions): Promise<BlobSource> {
    await this.images(options);
    const known = this.blobs.get(desc.digest);
    if (!known) throw notFound(this.path, `blob ${desc.digest}`);
    return known.source;
  }

  async exists(desc: Descriptor, options: SignalOptions = {}): Promise<boolean> {
    await this.images(options);
    return this.blobs.has(desc.digest);
  }

  async fetch(desc: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    throwIfAborted(options.signal);
    const source = await this.blob(desc, options);
    const offset = options.offset ?? 0;
    let stream: Readable;
    if (source.kind === 'bytes')
      stream = Readable.from([source.bytes.subarray(offset)], { objectMode: false });
    else if (source.compression === 'none') stream = this.read(source.entry, offset, options.signal);
    else {
      const raw = this.read(source.entry, 0, options.signal);
      const plain = decompress(raw, source.compression, `${this.path}: ${source.entry.name}`);
      stream = Readable.from(offset ? skip(plain, offset) : plain, { objectMode: false });
    }
    // a resumed read (offset) is verified by the consumer, which has the bytes before it
    if (options.verify === false || offset > 0) return stream;
    return Readable.from(verifyStream(stream, { digest: desc.digest, size: desc.size }, options), {
      objectMode: false,
    });
  }

  /** A stream of an entry's data from `offset`. */
  protected read(entry: TarEntry, offset: number, signal: AbortSignal | undefined): Readable {
    if (entry.size === 0 || offset >= entry.size) return Readable.from([], { objectMode: false });
    return createReadStream(this.file, {
      start: entry.offset + offset,
      end: entry.offset + entry.size - 1,
      highWaterMark: 256 << 10,
      ...(signal ? { signal } : {}),
    });
  }

  /** The whole of a small entry (manifest.json, index.json, a config), at most `max` bytes. */
  protected async readSmall(name: string, what: string, options: SignalOptions): Promise<Uint8Array> {
    const entry = followEntry(this.entries, this.path, name);
    if (!entry)
      throw new DataLossError(`${this.path}: ${what} "${name}" is missing`, {
        details: { archive: this.path, entry: name },
      });
    if (entry.size > MAX_DOCUMENT_SIZE) {
      throw new DataLossError(
        `${this.path}: ${name} is ${entry.size} bytes, more than the ${MAX_DOCUMENT_SIZE} allowed`,
        {
          details: { archive: this.path, entry: name, reason: 'too-large' },
        },
      );
    }
    const chunks: Buffer[] = [];
    for await (const c of this.read(entry, 0, options.signal)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Reads and parses a JSON entry; DataLossError naming the entry when it is not what `parse` wants. */
  protected async readJson<T>(
    name: string,
    what: string,
    parse: (v: unknown) => T,
    options: SignalOptions,
  ): Promise<T> {
    const bytes = await this.readSmall(name, what, options);
    try {
      return parse(decodeJson(bytes, `${this.path}: ${name}`));
    } catch (e) {
      throw new DataLossError(`${this.path}: ${name} is not a valid ${what}: ${(e as Error).message}`, {
        cause: e,
        details: { archive: this.path, entry: name },
      });
    }
  }

  /** The compression of an entry's data, from its first bytes. */
  protected async compressionOf(entry: TarEntry): Promise<Compression> {
    const fh = await open(this.file, 'r');
    try {
      const head = Buffer.alloc(4);
      await fh.read(head, 0, Math.min(4, entry.size), entry.offset);
      const c = compressionOf(head.subarray(0, Math.min(4, entry.size)));
      if (c === 'other') {
        throw new UnimplementedError(
          `${this.path}: ${entry.name} is compressed with bzip2 or xz, which ocikit does not read`,
          {
            details: { archive: this.path, entry: entry.name },
          },
        );
      }
      return c;
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    if (this.#cleanup) await rm(this.#cleanup, { recursive: true, force: true });
  }
}

async function* skip(source: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  let left = n;
  for await (const chunk of source) {
    if (left >= chunk.byteLength) {
      left -= chunk.byteLength;
      continue;
    }
    yield left ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/** One item of a docker-archive's manifest.json. */
interface ManifestItem {
  config: string;
  repoTags: string[];
  layers: string[];
}

function parseManifestJson(value: unknown): ManifestItem[] {
  if (!Array.isArray(value)) throw new Error('expected a JSON array of images');
  return value.map((item: unknown, i) => {
    const o = item as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null) throw new Error(`item ${i} is not an object`);
    const { Config, RepoTags, Layers } = o;
    if (typeof Config !== 'string') throw new Error(`item ${i}: Config must be a string`);
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string'))
      throw new Error(`item ${i}: Layers must be an array of strings`);
    if (
      RepoTags !== null &&
      RepoTags !== undefined &&
      !(Array.isArray(RepoTags) && RepoTags.every((t) => typeof t === 'string'))
    )
      throw new Error(`item ${i}: RepoTags must be an array of strings`);
    return { config: Config, repoTags: (RepoTags ?? []) as string[], layers: Layers as string[] };
  });
}

const HEX_NAME = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/;

/** A name as docker-archive REFs compare: normalized, `latest` when untagged; no digest. */
function archiveTagName(ref: string): string {
  const parsed = parseReference(ref);
  if (parsed.digest) {
    throw new InvalidArgumentError(`"${ref}": a docker-archive image is named by a tag, not a digest`, {
      details: { reason: 'digest-in-tag', ref },
    });
  }
  return parsed.toString();
}

class DockerArchive extends ArchiveBase {
  readonly format = 'docker-archive' as const;
  #loaded: Promise<ArchiveImage[]> | undefined;

  images(options: SignalOptions = {}): Promise<ArchiveImage[]> {
    this.#loaded ??= this.#load(options);
    return this.#loaded;
  }

  async #load(options: SignalOptions): Promise<ArchiveImage[]> {
    if (!this.entries.has('manifest.json')) {
      const legacy = this.entries.has('repositories');
      throw new (legacy ? UnimplementedError : DataLossError)(
        legacy
          ? `${this.path} is a pre-1.10 docker save archive (no manifest.json), which ocikit does not read`
          : `${this.path} is not a docker-archive: it has no manifest.json`,
        { details: { archive: this.path } },
      );
    }
    const items = await this.readJson('manifest.json', 'docker-archive manifest', parseManifestJson, options);
    const layerCache = new Map<string, Promise<Descriptor>>();
    const out: ArchiveImage[] = [];
    for (const [n, item] of items.entries()) {
      const configBytes = await this.readSmall(item.config, `config of image @${n}`, options);
      const configDigest = digestOfSync(configBytes);
      const named = HEX_NAME.exec(item.config)?.[1];
      if (named && `sha256:${named}` !== configDigest) {
        throw new DataLossError(
          `${this.path}: manifest.json names the config ${item.config}, but its content is ${configDigest}`,
          { details: { archive: this.path, entry: item.config, actualDigest: configDigest } },
        );
      }
      let diffIds: string[];
      try {
        diffIds = parseImageConfig(decodeJson(configBytes, item.config)).rootfs.diff_ids;
      } catch (e) {
        throw new DataLossError(
          `${this.path}: ${item.config} is not a valid image config: ${(e as Error).message}`,
          {
            cause: e,
            details: { archive: this.path, entry: item.config },
          },
        );
      }
      if (diffIds.length !== item.layers.length) {
        throw new DataLossError(
          `${this.path}: image @${n} lists ${item.layers.length} layer(s) in manifest.json but ${diffIds.length} in its config`,
          { details: { archive: this.path, image: n } },
        );
      }
      const config: Descriptor = {
        mediaType: MediaType.ImageConfig,
        digest: configDigest,
        size: configBytes.byteLength,
      };
      this.blobs.set(configDigest, { desc: config, source: { kind: 'bytes', bytes: configBytes } });
      const layers: Descriptor[] = [];
      for (const [i, path] of item.layers.entries()) {
        const diffId = diffIds[i] as Digest;
        const key = `${path}\0${diffId}`;
        let layer = layerCache.get(key);
        if (!layer) {
          layer = this.#layer(path, diffId, options);
          layerCache.set(key, layer);
        }
        layers.push(await layer);
      }
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaType.ImageManifest,
        config,
        layers,
      };
      const bytes = Buffer.from(JSON.stringify(manifest));
      const desc: Descriptor = {
        mediaType: MediaType.ImageManifest,
        digest: digestOfSync(bytes),
        size: bytes.byteLength,
      };
      this.blobs.set(desc.digest, { desc, source: { kind: 'bytes', bytes } });
      const names: string[] = [];
      for (const tag of item.repoTags) {
        try {
          names.push(archiveTagName(tag));
        } catch (e) {
          throw new DataLossError(`${this.path}: manifest.json item @${n} has the bad RepoTag "${tag}"`, {
            cause: e,
            details: { archive: this.path, image: n },
          });
        }
      }
      out.push({ descriptor: desc, names });
    }
    return out;
  }

  /**
   * A layer as the image's diffID names it: uncompressed, as `docker save` writes and c/image's
   * docker-archive source presents it. A compressed layer file is decompressed and hashed now, so
   * its size is known and its diffID checked; an uncompressed one is checked as it is read.
   */
  async #layer(path: string, diffId: Digest, options: SignalOptions): Promise<Descriptor> {
    const entry = followEntry(this.entries, this.path, path);
    if (!entry)
      throw new DataLossError(`${this.path}: layer "${path}" named in manifest.json is missing`, {
        details: { archive: this.path, entry: path },
      });
    const compression = await this.compressionOf(entry);
    let size = entry.size;
    if (compression !== 'none') {
      const hasher = createHasher('sha256');
      for await (const chunk of decompress(
        this.read(entry, 0, options.signal),
        compression,
        `${this.path}: ${path}`,
      )) {
        throwIfAborted(options.signal);
        hasher.update(chunk);
      }
      const actual = hasher.digest();
      if (actual !== diffId) {
        throw new DataLossError(
          `${this.path}: layer ${path} is ${actual} uncompressed, but the config says ${diffId}`,
          {
            details: { archive: this.path, entry: path, digest: diffId, actualDigest: actual },
          },
        );
      }
      size = hasher.size;
    } else {
      const named = HEX_NAME.exec(path)?.[1];
      if (named && path.startsWith('blobs/') && `sha256:${named}` !== diffId) {
        throw new DataLossError(
          `${this.path}: layer ${path} is named for another digest than its diffID ${diffId}`,
          {
            details: { archive: this.path, entry: path, digest: diffId },
          },
        );
      }
    }
    const desc: Descriptor = { mediaType: MediaType.ImageLayer, digest: diffId, size };
    this.blobs.set(diffId, { desc, source: { kind: 'entry', entry, compression } });
    return desc;
  }

  async resolve(ref: string, options: SignalOptions = {}): Promise<Descriptor> {
    const images = await this.images(options);
    if (/^@\d+$/.test(ref)) {
      const image = images[Number(ref.slice(1))];
      if (!image)
        throw notFound(
          this.path,
          `image ${ref}`,
          `the archive holds ${images.length} image(s): @0…@${images.length - 1}`,
        );
      return image.descriptor;
    }
    if (isDigest(ref)) {
      const known = this.blobs.get(ref);
      if (known) return known.desc;
      throw notFound(this.path, ref);
    }
    const name = archiveTagName(ref);
    const image = images.find((i) => i.names.includes(name));
    if (image) return image.descriptor;
    throw this.unknown(images, name);
  }
}

class OciArchive extends ArchiveBase {
  readonly format = 'oci-archive' as const;
  #loaded: Promise<ArchiveImage[]> | undefined;
  #index: Descriptor[] = [];

  images(options: SignalOptions = {}): Promise<ArchiveImage[]> {
    this.#loaded ??= this.#load(options);
    return this.#loaded;
  }

  async #load(options: SignalOptions): Promise<ArchiveImage[]> {
    if (!this.entries.has('oci-layout') || !this.entries.has('index.json')) {
      throw new DataLossError(`${this.path} is not an oci-archive: it has no oci-layout or index.json`, {
        details: { archive: this.path },
      });
    }
    const { imageLayoutVersion } = await this.readJson(
      'oci-layout',
      'oci-layout file',
      parseImageLayout,
      options,
    );
    if (!imageLayoutVersion.startsWith('1.')) {
      throw new UnimplementedError(
        `${this.path}: image layout version ${imageLayoutVersion} is not supported`,
      );
    }
    this.#index = (await this.readJson('index.json', 'image index', parseIndex, options)).manifests;
    for (const name of this.entries.keys()) {
      const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(name);
      if (!m || !isDigest(`${m[1]}:${m[2]}`)) continue;
      const digest = `${m[1]}:${m[2]}` as Digest;
      const file = followEntry(this.entries, this.path, name);
      if (!file) continue;
      this.blobs.set(digest, {
        desc: { mediaType: 'application/octet-stream', digest, size: file.size },
        source: { kind: 'entry', entry: file, compression: 'none' },
      });
    }
    return this.#index.map((d) => {
      const name = d.annotations?.[Annotation.RefName];
      return { descriptor: withoutRefName(d), names: name ? [name] : [] };
    });
  }

  async resolve(ref: string, options: SignalOptions = {}): Promise<Descriptor> {
    const images = await this.images(options);
    const named = images.find((i) => i.names.includes(ref));
    if (named) return named.descriptor;
    if (isDigest(ref)) {
      const listed = this.#index.find((d) => d.digest === ref);
      if (listed) return withoutRefName(listed);
      const blob = this.blobs.get(ref);
      if (blob && blob.source.kind === 'entry' && blob.source.entry.size <= MAX_DOCUMENT_SIZE) {
        const bytes = await this.readSmall(blob.source.entry.name, 'blob', options);
        return { ...blob.desc, mediaType: sniffMediaType(bytes) };
      }
      if (blob) return blob.desc;
    }
    throw this.unknown(images, ref);
  }
}

/** A temporary plain tar of a compressed archive file or of a stream, in its own directory. */
async function spool(
  source: AsyncIterable<Uint8Array>,
  name: string,
  options: OpenArchiveOptions,
): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'ocikit-archive-'));
  const file = join(dir, 'archive.tar');
  try {
    const head: Uint8Array[] = [];
    const it = source[Symbol.asyncIterator]();
    let first = await it.next();
    while (!first.done && first.value.byteLength === 0) first = await it.next();
    if (!first.done) head.push(first.value);
    const rest = (async function* () {
      yield* head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })();
    const c = compressionOf(head[0] ?? new Uint8Array());
    const opts = options.signal ? { signal: options.signal } : {};
    const input = Readable.from(rest);
    if (c === 'gzip' || c === 'zstd') {
      await pipeline(input, decompressor(c), createWriteStream(file), opts).catch((e: unknown) => {
        throw isCorruptData(e) ? corruptData(name, c, e) : e;
      });
    } else await pipeline(input, createWriteStream(file), opts);
    return { dir, file };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

async function openFile(
  path: string,
  file: string,
  format: ArchiveFormat,
  cleanup: string | undefined,
  options: OpenArchiveOptions,
): Promise<ImageArchive> {
  try {
    const fh = await open(file, 'r');
    let entries: Map<string, TarEntry>;
    try {
      entries = await indexTar(fh, (await fh.stat()).size, path, options);
    } finally {
      await fh.close();
    }
    const archive =
      format === 'docker-archive'
        ? new DockerArchive(path, file, entries, cleanup)
        : new OciArchive(path, file, entries, cleanup);
    await archive.images(options);
    return archive;
  } catch (e) {
    if (cleanup) await rm(cleanup, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Opens a `docker save` archive (`docker-archive`) or an OCI layout in a tar file (`oci-archive`),
 * plain or gzip/zstd-compressed, as a read-only content target. Entries are indexed by their
 * headers; configs are hashed, compressed layers decompressed and checked against the config's
 * diffIDs now, everything else as it is read. DataLossError for a truncated or corrupt archive or
 * content that does not match its digest; InvalidArgumentError for hostile entries (absolute or `..`
 * paths, links out of the archive, duplicate names); NotFoundError when the file is missing.
 *
 * @example
 * ```ts
 * const archive = await openArchive('busybox.tar', 'docker-archive');
 * await copy(archive, await archive.resolveImage(), await openLayout('out', { create: true }), 'v1');
 * await archive.close();
 * ```
 */
export async function openArchive(
  path: string,
  format: ArchiveFormat,
  options: OpenArchiveOptions = {},
): Promise<ImageArchive> {
  throwIfAborted(options.signal);
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await fh.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`${path}: no such archive file`, { details: { archive: path } });
    throw e;
  }
  const c = compressionOf(head);
  if (c === 'none' || c === 'other') return openFile(path, path, format, undefined, options);
  const { dir, file } = await spool(createReadStream(path), path, options);
  return openFile(path, file, format, dir, options);
}

/**
 * Reads an archive from a stream (what an engine's image save gives): it is copied to a temporary
 * file first (decompressed when it is gzip or zstd), removed by `close()`. `name` is how errors
 * name it.
 */
export async function openArchiveStream(
  source: AsyncIterable<Uint8Array>,
  name: string,
  format: ArchiveFormat,
  options: OpenArchiveOptions = {},
): Promise<ImageArchive> {
  throwIfAborted(options.signal);
  const { dir, file } = await spool(source, name, options);
  return openFile(name, file, format, dir, options);
}
