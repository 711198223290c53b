// Writing docker-archive and oci-archive files: `copy` into a temporary layout, then one tar file
// written beside the destination and renamed over it (decision 140, 141).
import { mkdtemp, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createHasher, type Digest, digestEncoded } from '@ocikit/digest';
import { DataLossError, InvalidArgumentError, NotFoundError, throwIfAborted } from '@ocikit/errors';
import {
  Annotation,
  type Descriptor,
  isIndexMediaType,
  isManifestMediaType,
  layerCompression,
  MediaType,
  parseImageConfig,
  parseManifest,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { type ArchiveFormat, decompress } from './archive-read.ts';
import { TarWriter } from './archive-tar.ts';
import { fetchAll, walk, withoutRefName } from './helpers.ts';
import { type OciLayout, openLayout } from './layout.ts';
import type { ContentWriter, FetchOptions, Ingester, SignalOptions, Target } from './target.ts';

/**
 * An archive being written: a content target that `copy` fills (into a temporary layout beside the
 * destination file), then `commit` writes the archive and renames it into place. Until then the
 * destination is untouched; `abort` (or a failed `commit`) leaves it as it was.
 */
export interface ArchiveWriter extends Target, Ingester {
  /** The archive file to write. */
  readonly path: string;
  /** `docker-archive` or `oci-archive`. */
  readonly format: ArchiveFormat;
  /**
   * Adds the image `desc` (already copied in) under `ref`: for a docker-archive a tagged name
   * (`busybox:1` → `docker.io/library/busybox:1` in `RepoTags`), for an oci-archive the
   * `org.opencontainers.image.ref.name` annotation. `copy(src, ref, writer, dstRef)` calls this.
   */
  tag(desc: Descriptor, ref: string, options?: SignalOptions): Promise<void>;
  /** Adds the image `desc` without a name. */
  include(desc: Descriptor, options?: SignalOptions): Promise<void>;
  /** Writes the archive (a temporary file renamed over `path`) and removes the temporary layout. */
  commit(options?: SignalOptions): Promise<void>;
  /** Gives up: removes the temporary layout; `path` is left as it was. */
  abort(): Promise<void>;
}

interface Entry {
  desc: Descriptor;
  names: string[];
}

class Writer implements ArchiveWriter {
  readonly path: string;
  readonly format: ArchiveFormat;
  readonly #dir: string;
  readonly #layout: OciLayout;
  readonly #images: Entry[] = [];
  #done = false;

  constructor(path: string, format: ArchiveFormat, dir: string, layout: OciLayout) {
    this.path = path;
    this.format = format;
    this.#dir = dir;
    this.#layout = layout;
  }

  fetch(desc: Descriptor, options?: FetchOptions): Promise<Readable> {
    return this.#layout.fetch(desc, options);
  }

  exists(desc: Descriptor, options?: SignalOptions): Promise<boolean> {
    return this.#layout.exists(desc, options);
  }

  push(
    desc: Descriptor,
    content: AsyncIterable<Uint8Array> | Uint8Array,
    options?: SignalOptions,
  ): Promise<void> {
    return this.#layout.push(desc, content, options);
  }

  openWriter(desc: Descriptor, options?: SignalOptions): Promise<ContentWriter> {
    return this.#layout.openWriter(desc, options);
  }

  async resolve(ref: string, options?: SignalOptions): Promise<Descriptor> {
    const name = this.#name(ref);
    const found = this.#images.find((i) => i.names.includes(name));
    return found ? found.desc : this.#layout.resolve(ref, options);
  }

  #name(ref: string): string {
    if (ref === '') throw new InvalidArgumentError(`${this.format}: empty image name`);
    if (this.format === 'oci-archive') return ref;
    const parsed = parseReference(ref);
    if (parsed.digest) {
      throw new InvalidArgumentError(`"${ref}": a docker-archive image is named by a tag, not a digest`, {
        details: { reason: 'digest-in-tag', ref },
      });
    }
    return parsed.toString();
  }

  async #add(desc: Descriptor, name: string | undefined, options: SignalOptions): Promise<void> {
    throwIfAborted(options.signal);
    if (!(await this.#layout.exists(desc, options))) {
      throw new NotFoundError(`cannot add ${desc.digest} to ${this.path}: it was not copied in`, {
        details: { digest: desc.digest },
      });
    }
    const plain = withoutRefName(desc);
    if (name !== undefined) for (const i of this.#images) i.names = i.names.filter((n) => n !== name);
    const same = this.#images.find((i) => i.desc.digest === plain.digest);
    if (same) {
      if (name !== undefined) same.names.push(name);
    } else this.#images.push({ desc: plain, names: name === undefined ? [] : [name] });
  }

  tag(desc: Descriptor, ref: string, options: SignalOptions = {}): Promise<void> {
    return this.#add(desc, this.#name(ref), options);
  }

  include(desc: Descriptor, options: SignalOptions = {}): Promise<void> {
    return this.#add(desc, undefined, options);
  }

  async commit(options: SignalOptions = {}): Promise<void> {
    if (this.#done) throw new InvalidArgumentError(`${this.path}: this archive writer is already finished`);
    const tmp = join(this.#dir, 'archive.tar');
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        const tar = new TarWriter(fh);
        if (this.format === 'docker-archive') await this.#writeDocker(tar, options);
        else await this.#writeOci(tar, options);
        await tar.end();
        await fh.sync();
      } finally {
        await fh.close();
      }
      throwIfAborted(options.signal);
      await rename(tmp, this.path);
    } finally {
      await this.abort();
    }
  }

  async #writeOci(tar: TarWriter, options: SignalOptions): Promise<void> {
    await tar.file(
      'oci-layout',
      undefined,
      Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })),
      options,
    );
    const manifests: Descriptor[] = [];
    for (const image of this.#images) {
      if (image.names.length === 0) manifests.push(image.desc);
      for (const name of image.names)
        manifests.push({
          ...image.desc,
          annotations: { ...image.desc.annotations, [Annotation.RefName]: name },
        });
    }
    const index = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests };
    await tar.file('index.json', undefined, Buffer.from(JSON.stringify(index)), options);
    await tar.directory('blobs');
    const written = new Set<string>();
    const dirs = new Set<string>();
    for (const image of this.#images) {
      await walk(
        this.#layout,
        image.desc,
        async (desc) => {
          if (written.has(desc.digest)) return false;
          written.add(desc.digest);
          // a blob an index lists but copy left out (one platform of several) is not in the archive
          if (!(await this.#layout.exists(desc, options))) return false;
          const alg = desc.digest.slice(0, desc.digest.indexOf(':'));
          if (!dirs.has(alg)) {
            dirs.add(alg);
            await tar.directory(`blobs/${alg}`);
          }
          const stream = await this.#layout.fetch(desc, { ...options, verify: false });
          await tar.file(`blobs/${alg}/${digestEncoded(desc.digest)}`, desc.size, stream, options);
          return undefined;
        },
        options,
      );
    }
  }

  async #writeDocker(tar: TarWriter, options: SignalOptions): Promise<void> {
    const items: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const written = new Map<string, string>();
    for (const image of this.#images) {
      if (!isManifestMediaType(image.desc.mediaType)) {
        const what = isIndexMediaType(image.desc.mediaType)
          ? 'an image index (several platforms)'
          : image.desc.mediaType;
        throw new InvalidArgumentError(
          `a docker-archive holds single-platform images, not ${what} (${image.desc.digest})`,
          {
            details: { reason: 'not-an-image', digest: image.desc.digest },
            hint: 'choose one platform with --platform',
          },
        );
      }
      const manifest = parseManifest(await fetchAll(this.#layout, image.desc, options));
      const configBytes = await fetchAll(this.#layout, manifest.config, options);
      const diffIds = parseImageConfig(configBytes).rootfs.diff_ids;
      if (diffIds.length !== manifest.layers.length) {
        throw new DataLossError(
          `image ${image.desc.digest} has ${manifest.layers.length} layer(s) but its config lists ${diffIds.length} diffID(s)`,
          { details: { digest: image.desc.digest } },
        );
      }
      const configPath = `${digestEncoded(manifest.config.digest)}.json`;
      if (!written.has(configPath)) {
        await tar.file(configPath, configBytes.byteLength, configBytes, options);
        written.set(configPath, configPath);
      }
      const layers: string[] = [];
      for (const [i, layer] of manifest.layers.entries()) {
        const diffId = diffIds[i] as Digest;
        const path = `${digestEncoded(diffId)}.tar`;
        if (!written.has(path)) {
          await this.#writeLayer(tar, path, layer, diffId, options);
          written.set(path, path);
        }
        layers.push(path);
      }
      items.push({ Config: configPath, RepoTags: image.names, Layers: layers });
    }
    const manifestJson = Buffer.from(JSON.stringify(items));
    await tar.file('manifest.json', manifestJson.byteLength, manifestJson, options);
  }

  /**
   * A layer as `docker save` has it: uncompressed (decision 141), checked against its diffID as it
   * is written.
   */
  async #writeLayer(
    tar: TarWriter,
    path: string,
    layer: Descriptor,
    diffId: Digest,
    options: SignalOptions,
  ): Promise<void> {
    const compression = layerCompression(layer.mediaType) ?? 'none';
    const raw = await this.#layout.fetch(layer, { ...options, verify: false });
    const plain: AsyncIterable<Uint8Array> =
      compression === 'none' ? raw : decompress(raw, compression, `layer ${layer.digest}`);
    const hasher = createHasher(diffId.slice(0, diffId.indexOf(':')));
    const hashed = (async function* () {
      for await (const chunk of plain) {
        hasher.update(chunk);
        yield chunk;
      }
    })();
    await tar.file(path, compression === 'none' ? layer.size : undefined, hashed, options);
    const actual = hasher.digest();
    if (actual !== diffId) {
      throw new DataLossError(
        `layer ${layer.digest} is ${actual} uncompressed, but its image's config says ${diffId}`,
        {
          details: { digest: layer.digest, diffId, actualDigest: actual },
        },
      );
    }
  }

  async abort(): Promise<void> {
    this.#done = true;
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Options of {@link createArchiveWriter}. */
export interface CreateArchiveWriterOptions extends SignalOptions {
  /**
   * Where the temporary layout and file go: a directory on the same file system as `path` (the
   * archive is renamed into place). Default: beside `path`.
   */
  tmpDir?: string;
}

/**
 * Starts writing a docker-archive (`docker save`'s format: `docker load`, `podman load` and skopeo
 * read it) or an oci-archive (an OCI image layout in a tar file). Copy images in and name them,
 * then `commit`; the file at `path` is replaced only then, whole.
 *
 * @example
 * ```ts
 * const writer = await createArchiveWriter('busybox.tar', 'docker-archive');
 * try {
 *   await copy(layout, 'busybox', writer, 'busybox:latest');
 *   await writer.commit();
 * } catch (e) {
 *   await writer.abort();
 *   throw e;
 * }
 * ```
 */
export async function createArchiveWriter(
  path: string,
  format: ArchiveFormat,
  options: CreateArchiveWriterOptions = {},
): Promise<ArchiveWriter> {
  throwIfAborted(options.signal);
  const parent = options.tmpDir ?? dirname(path);
  const dir = await mkdtemp(join(parent, `.${basename(path)}.ocikit-`)).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new NotFoundError(`cannot write ${path}: the directory ${parent} does not exist`, {
      details: { archive: path, directory: parent },
    });
  });
  try {
    const layout = await openLayout(join(dir, 'layout'), {
      create: true,
      sync: false,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return new Writer(path, format, dir, layout);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
