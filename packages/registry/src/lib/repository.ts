import { Readable } from 'node:stream';
import type {
  Deleter,
  FetchOptions,
  Mounter,
  ReferrerLister,
  ResolveOptions,
  SignalOptions,
  TaggedPusher,
  TagLister,
  Target,
} from '@ocikit/content';
import { type Digest, digestOfSync, isDigest, parseDigest, verifyBytes } from '@ocikit/digest';
import { DataLossError, FailedPreconditionError, InvalidArgumentError, truncate } from '@ocikit/errors';
import {
  type Descriptor,
  isIndexMediaType,
  isManifestMediaType,
  MAX_DOCUMENT_SIZE,
  MediaType,
} from '@ocikit/image-spec';
import { parseNormalizedReference, type Reference } from '@ocikit/reference';
import { readBlob } from './blob-reader.ts';
import type { RepositoryContext, RepositoryRequest } from './context.ts';
import { type ListOptions, paginate } from './listing.ts';
import { listReferrers, type ManifestStore, type ReferrersOptions, recordReferrer } from './referrers.ts';
import { header, readBody } from './request.ts';
import { Transport, type TransportOptions } from './transport.ts';
import { collect, mountBlob, uploadBlob } from './upload.ts';

/** The manifest media types asked for, best first. */
export const MANIFEST_ACCEPT = [
  MediaType.ImageManifest,
  MediaType.ImageIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
] as const;

/** Options of {@link openRepository}: transport options, or a shared {@link Transport}, plus upload tuning. */
export interface RepositoryOptions extends TransportOptions {
  /** A transport shared between repositories (its pools, tokens and options are used). */
  transport?: Transport;
  /** Upload blobs larger than this in PATCH chunks of this size (default: one monolithic PUT). */
  chunkSize?: number;
  /** Try the single-request `POST ?digest=` upload for blobs up to this size in bytes (default 0: off). */
  singlePostLimit?: number;
  /** Retries of a broken blob download, resumed with `Range` (default 5). */
  resumeRetries?: number;
}

/** A manifest as the registry served it. */
export interface FetchedManifest {
  /** Its descriptor: media type from `Content-Type` (or the document), digest of the bytes, size. */
  readonly descriptor: Descriptor;
  /** The raw bytes, verified against the digest when the reference named one. */
  readonly bytes: Uint8Array;
}

const TAG = /^[\w][\w.-]{0,127}$/;

const isGraph = (mediaType: string) => isManifestMediaType(mediaType) || isIndexMediaType(mediaType);

function parseRepositoryReference(ref: string | Reference): Reference {
  return typeof ref === 'string' ? parseNormalizedReference(ref) : ref;
}

/**
 * One repository of a registry, as a content target: `copy` pulls from it, pushes to it and
 * copies between registries through it. Blobs stream verified; broken downloads resume with
 * `Range`; uploads are monolithic, chunked or single-POST; same-registry copies mount.
 *
 * @example
 * ```ts
 * const repo = openRepository('localhost:5000/app');
 * const desc = await repo.resolve('v1');
 * await copy(repo, 'v1', await openLayout('app', { create: true }), 'v1');
 * ```
 */
export class Repository implements Target, Mounter, Deleter, TagLister, ReferrerLister, TaggedPusher {
  /** The registry host and repository path, e.g. `{ registry: 'localhost:5000', repository: 'app' }`. */
  readonly location: { readonly registry: string; readonly repository: string };
  /** The transport (shared pools and tokens). */
  readonly transport: Transport;
  readonly #options: RepositoryOptions;
  readonly #recent = new Map<Digest, Uint8Array>();
  readonly #absent = new Map<Digest, number>();
  readonly #ctx: RepositoryContext;
  /** The manifest reads and writes of the referrers fallback tag. */
  readonly #manifests: ManifestStore;

  constructor(ref: string | Reference, options: RepositoryOptions = {}) {
    const parsed = parseRepositoryReference(ref);
    this.location = { registry: parsed.registry, repository: parsed.repository };
    this.transport = options.transport ?? new Transport(options);
    this.#options = options;
    const { registry, repository } = this.location;
    const send = (req: RepositoryRequest) => this.transport.send({ ...req, registry });
    this.#ctx = {
      name: `${registry}/${repository}`,
      location: this.location,
      send,
      call: async (req) => {
        const res = await send(req);
        await res.body.dump().catch(() => {});
        return res;
      },
      path: (kind, rest = '') => `/v2/${repository}/${kind}/${rest}`,
      pullScopes: () => [`repository:${repository}:pull`],
      pushScopes: () => [`repository:${repository}:pull,push`],
    };
    this.#manifests = {
      fetchManifest: (ref, o) => this.fetchManifest(ref, o),
      pushManifest: async (bytes, mediaType, ref, o) => {
        const desc: Descriptor = { mediaType, digest: digestOfSync(bytes), size: bytes.byteLength };
        await this.#putManifest(desc, bytes, ref, o);
        return desc;
      },
    };
  }

  /** `registry/repository`. */
  get name(): string {
    return `${this.location.registry}/${this.location.repository}`;
  }

  /**
   * Resolves a tag or digest to the descriptor of the manifest it names: `HEAD` first, `GET`
   * when the registry's `HEAD` gives no digest. With `fetching`, one `GET` whose verified bytes
   * are kept to serve the `fetch` that follows.
   */
  async resolve(ref: string, options: ResolveOptions = {}): Promise<Descriptor> {
    if (options.fetching) {
      // one round trip instead of HEAD then GET: the verified bytes serve the fetch that follows
      const { descriptor, bytes } = await this.fetchManifest(ref, options);
      this.#remember(descriptor.digest, bytes);
      return descriptor;
    }
    const identifier = this.#identifier(ref);
    const res = await this.#ctx.call({
      method: 'HEAD',
      path: this.#ctx.path('manifests', identifier),
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      scopes: this.#ctx.pullScopes(),
      what: `manifest ${this.name}${identifier.includes(':') ? '@' : ':'}${identifier}`,
      signal: options.signal,
    });
    const digest = header(res.headers, 'docker-content-digest');
    const mediaType = header(res.headers, 'content-type')?.split(';')[0]?.trim();
    const length = Number(header(res.headers, 'content-length'));
    if (
      digest !== undefined &&
      isDigest(digest) &&
      mediaType &&
      isGraph(mediaType) &&
      Number.isSafeInteger(length) &&
      length > 0
    ) {
      if (
        isDigest(identifier) &&
        digest !== identifier &&
        digest.startsWith(identifier.split(':')[0] ?? '')
      ) {
        throw new DataLossError(
          `manifest ${this.name}@${identifier}: the registry answered with digest ${digest}`,
          {
            details: { expected: identifier, actual: digest },
          },
        );
      }
      return { mediaType, digest: isDigest(identifier) ? identifier : digest, size: length };
    }
    return (await this.fetchManifest(ref, options)).descriptor;
  }

  #identifier(ref: string): string {
    if (isDigest(ref) || TAG.test(ref)) return ref;
    if (/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[^/]*$/.test(ref)) return parseDigest(ref);
    // a full reference naming this repository
    const parsed = parseNormalizedReference(ref);
    if (parsed.registry !== this.location.registry || parsed.repository !== this.location.repository) {
      throw new InvalidArgumentError(`${truncate(ref, 100)} does not name a manifest of ${this.name}`);
    }
    return parsed.digest ?? parsed.tag ?? 'latest';
  }

  /**
   * Fetches a manifest or index by tag or digest, as served (for `ocikit manifest`); capped at
   * 4 MiB, verified against the digest asked for or the registry's `Docker-Content-Digest`.
   */
  async fetchManifest(
    ref: string,
    options: SignalOptions & { accept?: readonly string[] } = {},
  ): Promise<FetchedManifest> {
    const identifier = this.#identifier(ref);
    const what = `manifest ${this.name}${isDigest(identifier) ? '@' : ':'}${identifier}`;
    const res = await this.#ctx.send({
      method: 'GET',
      path: this.#ctx.path('manifests', identifier),
      headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(', ') },
      scopes: this.#ctx.pullScopes(),
      what,
      signal: options.signal,
    });
    const length = Number(header(res.headers, 'content-length'));
    if (Number.isFinite(length) && length > MAX_DOCUMENT_SIZE) {
      res.body.destroy();
      throw new InvalidArgumentError(
        `${what}: ${length} bytes is more than the ${MAX_DOCUMENT_SIZE} allowed for a manifest`,
        {
          details: { reason: 'too-large', size: length, limit: MAX_DOCUMENT_SIZE },
        },
      );
    }
    const bytes = await readBody(res.body, MAX_DOCUMENT_SIZE, what);
    let digest: Digest;
    if (isDigest(identifier)) {
      digest = digestOfSync(bytes, { algorithm: identifier.slice(0, identifier.indexOf(':')) });
      if (digest !== identifier) {
        throw new DataLossError(`${what}: the registry served bytes whose digest is ${digest}`, {
          details: { expected: identifier, actual: digest },
        });
      }
    } else {
      digest = digestOfSync(bytes);
      const served = header(res.headers, 'docker-content-digest');
      if (served?.startsWith('sha256:') && served !== digest) {
        throw new DataLossError(
          `${what}: the registry says ${served} but served bytes whose digest is ${digest}`,
          {
            details: { expected: served, actual: digest },
          },
        );
      }
    }
    let mediaType = header(res.headers, 'content-type')?.split(';')[0]?.trim();
    if (!mediaType || !isGraph(mediaType)) {
      let declared: unknown;
      try {
        declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
      } catch (cause) {
        throw new InvalidArgumentError(`${what}: the registry served something that is not JSON`, { cause });
      }
      if (typeof declared !== 'string' || !isGraph(declared)) {
        throw new InvalidArgumentError(
          `${what}: unsupported manifest media type ${JSON.stringify(truncate(String(mediaType ?? declared), 80))}`,
          { details: { mediaType: mediaType ?? declared } },
        );
      }
      mediaType = declared;
    }
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  /** True when the registry has the blob or manifest. */
  async exists(desc: Descriptor, options: SignalOptions = {}): Promise<boolean> {
    const graph = isGraph(desc.mediaType);
    const res = await this.#ctx.call({
      method: 'HEAD',
      path: this.#ctx.path(graph ? 'manifests' : 'blobs', desc.digest),
      headers: graph ? { accept: [desc.mediaType, ...MANIFEST_ACCEPT].join(', ') } : {},
      scopes: this.#ctx.pullScopes(),
      what: `${graph ? 'manifest' : 'blob'} ${desc.digest} in ${this.name}`,
      expect: [200, 404],
      signal: options.signal,
    });
    if (res.status === 404 && !graph) this.#absent.set(desc.digest, Date.now());
    return res.status === 200;
  }

  /** The descriptor of a blob from its `HEAD` (size from `Content-Length`); NotFound when absent. */
  async statBlob(digest: Digest, options: SignalOptions = {}): Promise<Descriptor> {
    const res = await this.#ctx.call({
      method: 'HEAD',
      path: this.#ctx.path('blobs', digest),
      scopes: this.#ctx.pullScopes(),
      what: `blob ${digest} in ${this.name}`,
      signal: options.signal,
    });
    const size = Number(header(res.headers, 'content-length'));
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new InvalidArgumentError(`blob ${digest} in ${this.name}: the registry gave no size`);
    }
    return { mediaType: 'application/octet-stream', digest, size };
  }

  /**
   * Streams a blob or manifest, verified against its digest and size (from byte `offset` when
   * given: the caller verifies the whole). A download that breaks resumes with `Range` from the
   * last byte received; a server that ignores `Range` is read from the start and the known bytes skipped.
   */
  async fetch(desc: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    const graph = isGraph(desc.mediaType);
    const offset = options.offset ?? 0;
    const what = `${graph ? 'manifest' : 'blob'} ${desc.digest} in ${this.name}`;
    if (graph && desc.size > MAX_DOCUMENT_SIZE) {
      throw new InvalidArgumentError(
        `${what}: ${desc.size} bytes is more than the ${MAX_DOCUMENT_SIZE} allowed for a manifest`,
        {
          details: { reason: 'too-large', size: desc.size, limit: MAX_DOCUMENT_SIZE },
        },
      );
    }
    const kept = graph ? this.#recent.get(desc.digest) : undefined;
    if (kept && kept.byteLength === desc.size)
      return Readable.from([kept.subarray(offset)], { objectMode: false });
    return readBlob(this.#ctx, desc, {
      what,
      accept: graph ? [desc.mediaType, ...MANIFEST_ACCEPT].join(', ') : undefined,
      offset,
      // verified unless the consumer verifies (options.verify === false) or it starts mid-way
      verify: offset === 0 && options.verify !== false,
      resumeRetries: this.#options.resumeRetries ?? 5,
      retryDelay: this.#options.retryDelay ?? 200,
      signal: options.signal,
    });
  }

  /**
   * Stores a blob or manifest. Manifests are verified, then `PUT` by digest (a `subject` the
   * registry does not index is added to the referrers fallback tag). Blobs are uploaded
   * monolithically, in chunks (`chunkSize`), or in one POST (`singlePostLimit`); bytes are verified
   * before sending, a stream by the registry's `?digest=` check (DataLossError on a mismatch).
   * A no-op when the registry has it.
   */
  async push(
    desc: Descriptor,
    content: AsyncIterable<Uint8Array> | Uint8Array,
    options: SignalOptions = {},
  ): Promise<void> {
    if (isGraph(desc.mediaType)) {
      const bytes =
        content instanceof Uint8Array
          ? content
          : await collect(content, desc, `manifest ${desc.digest} to ${this.name}`);
      verifyBytes(bytes, desc);
      await this.#putManifest(desc, bytes, desc.digest, options);
      return;
    }
    // `copy` asks `exists` just before `push`: a fresh 404 spares a second HEAD.
    const absentAt = this.#absent.get(desc.digest);
    this.#absent.delete(desc.digest);
    if ((absentAt === undefined || Date.now() - absentAt > 5000) && (await this.exists(desc, options))) {
      if (!(content instanceof Uint8Array)) await content[Symbol.asyncIterator]().return?.();
      return;
    }
    await uploadBlob(
      this.#ctx,
      { chunkSize: this.#options.chunkSize, singlePostLimit: this.#options.singlePostLimit ?? 0 },
      desc,
      content,
      options,
    );
  }

  /**
   * Stores a manifest under a tag in one `PUT` (a push and then a tag would be two): `copy` does
   * this for the root it tags. Verified like `push`; a `subject` the registry does not index is
   * added to the referrers fallback tag.
   */
  async pushTagged(
    desc: Descriptor,
    bytes: Uint8Array,
    ref: string,
    options: SignalOptions = {},
  ): Promise<void> {
    verifyBytes(bytes, desc);
    await this.#putManifest(desc, bytes, this.#identifier(ref), options, true);
  }

  async #putManifest(
    desc: Descriptor,
    bytes: Uint8Array,
    ref: string,
    options: SignalOptions,
    firstPush = ref === desc.digest,
  ): Promise<void> {
    const res = await this.#ctx.call({
      method: 'PUT',
      path: this.#ctx.path('manifests', ref),
      headers: { 'content-type': desc.mediaType },
      body: bytes,
      scopes: this.#ctx.pushScopes(),
      what: `manifest ${desc.digest} to ${this.name}${ref === desc.digest ? '' : `:${ref}`}`,
      expect: [201, 200, 202],
      signal: options.signal,
    });
    this.#remember(desc.digest, bytes);
    const served = header(res.headers, 'docker-content-digest');
    if (served?.startsWith('sha256:') && desc.digest.startsWith('sha256:') && served !== desc.digest) {
      throw new DataLossError(`manifest ${desc.digest}: the registry stored it as ${served}`, {
        details: { expected: desc.digest, actual: served },
      });
    }
    if (firstPush && header(res.headers, 'oci-subject') === undefined) {
      await recordReferrer(this.#manifests, desc, bytes, options);
    }
  }

  /** Keeps the last few manifests pushed, so tagging one needs no second download. */
  #remember(digest: Digest, bytes: Uint8Array): void {
    this.#recent.delete(digest);
    this.#recent.set(digest, bytes);
    if (this.#recent.size > 32) this.#recent.delete(this.#recent.keys().next().value as Digest);
  }

  /**
   * Points a tag at a manifest (fetches its bytes by digest and `PUT`s them under the tag).
   */
  async tag(desc: Descriptor, ref: string, options: SignalOptions = {}): Promise<void> {
    const tag = this.#identifier(ref);
    if (isDigest(tag)) {
      if (tag !== desc.digest)
        throw new InvalidArgumentError(`cannot tag ${desc.digest} as the digest ${tag}`);
      return;
    }
    const bytes =
      this.#recent.get(desc.digest) ??
      (await this.fetchManifest(desc.digest, { ...options, accept: [desc.mediaType, ...MANIFEST_ACCEPT] }))
        .bytes;
    await this.#putManifest(desc, bytes, tag, options);
  }

  /**
   * Mounts a blob from another repository of this registry (`POST ?mount=&from=`); false when the
   * registry would not (the caller uploads instead).
   */
  async mount(desc: Descriptor, fromRepository: string, options: SignalOptions = {}): Promise<boolean> {
    return mountBlob(this.#ctx, desc, fromRepository, options);
  }

  /** Deletes a manifest (by digest) or a blob; NotFound when absent, FailedPrecondition when the registry forbids deletion. */
  async delete(desc: Descriptor, options: SignalOptions = {}): Promise<void> {
    const graph = isGraph(desc.mediaType);
    await this.#ctx.call({
      method: 'DELETE',
      path: this.#ctx.path(graph ? 'manifests' : 'blobs', desc.digest),
      scopes: [`repository:${this.location.repository}:delete`, ...this.#ctx.pullScopes()],
      what: `delete of ${graph ? 'manifest' : 'blob'} ${desc.digest} in ${this.name}`,
      expect: [202, 200, 204],
      signal: options.signal,
    });
  }

  /** Deletes a tag (`DELETE /manifests/<tag>`, where the registry supports it). */
  async untag(tag: string, options: SignalOptions = {}): Promise<void> {
    const identifier = this.#identifier(tag);
    const what = `delete of tag ${this.name}:${identifier}`;
    const res = await this.#ctx.call({
      method: 'DELETE',
      path: this.#ctx.path('manifests', identifier),
      scopes: [`repository:${this.location.repository}:delete`, ...this.#ctx.pullScopes()],
      what,
      expect: [202, 200, 204, 400, 405],
      signal: options.signal,
    });
    if (res.status === 400 || res.status === 405) {
      // distribution 2.x answers 400 DIGEST_INVALID: it deletes manifests by digest only
      throw new FailedPreconditionError(`${what}: the registry does not delete tags (${res.status})`, {
        details: { status: res.status },
        hint: 'delete the manifest by digest, which removes every tag pointing at it',
      });
    }
  }

  /** The repository's tags, following `Link` pagination. */
  async tags(options: ListOptions = {}): Promise<string[]> {
    return paginate(
      this.transport,
      this.location.registry,
      `/v2/${this.location.repository}/tags/list`,
      'tags',
      this.#ctx.pullScopes(),
      `tags of ${this.name}`,
      options,
    );
  }

  /**
   * The manifests whose `subject` is `subject`: the referrers API, or the `sha256-<hex>` tag
   * fallback on registries without it. `artifactType` filters (on the client when the registry does not).
   */
  referrers(subject: Descriptor, options: ReferrersOptions = {}): Promise<Descriptor[]> {
    return listReferrers(this.#ctx, this.#manifests, subject, options);
  }
}

/** Opens a repository: `openRepository('localhost:5000/app')` or a parsed {@link Reference}. */
export function openRepository(ref: string | Reference, options: RepositoryOptions = {}): Repository {
  return new Repository(ref, options);
}
