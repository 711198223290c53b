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
import {
  createHasher,
  type Digest,
  digestOfSync,
  isDigest,
  parseDigest,
  verifyBytes,
  verifyStream,
} from '@ocikit/digest';
import {
  AbortedError,
  DataLossError,
  FailedPreconditionError,
  InvalidArgumentError,
  isNotFound,
  isOcikitError,
  truncate,
} from '@ocikit/errors';
import {
  type Descriptor,
  type ImageIndex,
  isIndexMediaType,
  isManifestMediaType,
  MAX_DOCUMENT_SIZE,
  MediaType,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import { parseNormalizedReference, type Reference } from '@ocikit/reference';
import {
  header,
  isRetryableNetworkError,
  type RegistryRequest,
  type RegistryResponse,
  readBody,
  Transport,
  type TransportOptions,
} from './transport.ts';

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

/** Options of {@link Repository.tags} and {@link listCatalog}. */
export interface ListOptions extends SignalOptions {
  /** Page size asked of the registry (`n`); pages are followed through `Link` headers. */
  pageSize?: number;
  /** Start after this entry (`last`). */
  last?: string;
  /** Stop after this many entries. */
  limit?: number;
}

const TAG = /^[\w][\w.-]{0,127}$/;

const isGraph = (mediaType: string) => isManifestMediaType(mediaType) || isIndexMediaType(mediaType);

function parseRepositoryReference(ref: string | Reference): Reference {
  return typeof ref === 'string' ? parseNormalizedReference(ref) : ref;
}

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(link: string | string[] | undefined): string | undefined {
  const values = Array.isArray(link) ? link : link === undefined ? [] : [link];
  for (const value of values) {
    for (const part of value.split(',')) {
      const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
      if (m?.[1] !== undefined && /rel\s*=\s*"?next"?/i.test(m[2] ?? '')) return m[1];
    }
  }
  return undefined;
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

  constructor(ref: string | Reference, options: RepositoryOptions = {}) {
    const parsed = parseRepositoryReference(ref);
    this.location = { registry: parsed.registry, repository: parsed.repository };
    this.transport = options.transport ?? new Transport(options);
    this.#options = options;
  }

  /** `registry/repository`. */
  get name(): string {
    return `${this.location.registry}/${this.location.repository}`;
  }

  #pull(): string[] {
    return [`repository:${this.location.repository}:pull`];
  }

  #push(): string[] {
    return [`repository:${this.location.repository}:pull,push`];
  }

  #send(req: Omit<RegistryRequest, 'registry'>): Promise<RegistryResponse> {
    return this.transport.send({ ...req, registry: this.location.registry });
  }

  /** Sends a request whose body is not needed and drains it, keeping the connection reusable. */
  async #call(req: Omit<RegistryRequest, 'registry'>): Promise<RegistryResponse> {
    const res = await this.#send(req);
    await res.body.dump().catch(() => {});
    return res;
  }

  /** Cancels an upload session (best effort), so it does not linger in the registry. */
  async #cancelUpload(location: string, what: string, signal: AbortSignal | undefined): Promise<void> {
    await this.#call({
      method: 'DELETE',
      path: location,
      scopes: this.#push(),
      what,
      expect: [202, 204, 404],
      signal,
    }).catch(() => {});
  }

  #path(kind: 'manifests' | 'blobs' | 'tags' | 'referrers', rest = ''): string {
    return `/v2/${this.location.repository}/${kind}/${rest}`;
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
    const res = await this.#call({
      method: 'HEAD',
      path: this.#path('manifests', identifier),
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      scopes: this.#pull(),
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
    const res = await this.#send({
      method: 'GET',
      path: this.#path('manifests', identifier),
      headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(', ') },
      scopes: this.#pull(),
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
    const res = await this.#call({
      method: 'HEAD',
      path: this.#path(graph ? 'manifests' : 'blobs', desc.digest),
      headers: graph ? { accept: [desc.mediaType, ...MANIFEST_ACCEPT].join(', ') } : {},
      scopes: this.#pull(),
      what: `${graph ? 'manifest' : 'blob'} ${desc.digest} in ${this.name}`,
      expect: [200, 404],
      signal: options.signal,
    });
    if (res.status === 404 && !graph) this.#absent.set(desc.digest, Date.now());
    return res.status === 200;
  }

  /** The descriptor of a blob from its `HEAD` (size from `Content-Length`); NotFound when absent. */
  async statBlob(digest: Digest, options: SignalOptions = {}): Promise<Descriptor> {
    const res = await this.#call({
      method: 'HEAD',
      path: this.#path('blobs', digest),
      scopes: this.#pull(),
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
    const signal = options.signal;
    const open = async (from: number): Promise<{ res: RegistryResponse; skip: number }> => {
      const headers: Record<string, string> = graph
        ? { accept: [desc.mediaType, ...MANIFEST_ACCEPT].join(', ') }
        : {};
      if (from > 0) headers.range = `bytes=${from}-`;
      const res = await this.#send({
        method: 'GET',
        path: this.#path(graph ? 'manifests' : 'blobs', desc.digest),
        headers,
        scopes: this.#pull(),
        what,
        expect: [200, 206],
        signal,
      });
      if (res.status === 206) {
        const start = Number(/bytes\s+(\d+)-/.exec(header(res.headers, 'content-range') ?? '')?.[1]);
        if (start !== from) {
          res.body.destroy();
          throw new DataLossError(
            `${what}: asked for bytes from ${from}, the registry sent them from ${start}`,
            {
              details: { digest: desc.digest, offset: from },
            },
          );
        }
        return { res, skip: 0 };
      }
      // 200: the whole blob, whether or not Range was asked for
      return { res, skip: from };
    };
    const first = await open(offset);
    const retries = this.#options.resumeRetries ?? 5;
    const delay = this.#options.retryDelay ?? 200;
    const size = desc.size;
    async function* body(): AsyncGenerator<Uint8Array> {
      let position = offset;
      let current = first;
      let failures = 0;
      try {
        for (;;) {
          try {
            let skip = current.skip;
            for await (const raw of current.res.body as AsyncIterable<Uint8Array>) {
              let chunk = raw;
              if (skip > 0) {
                if (chunk.byteLength <= skip) {
                  skip -= chunk.byteLength;
                  continue;
                }
                chunk = chunk.subarray(skip);
                skip = 0;
              }
              position += chunk.byteLength;
              yield chunk;
            }
            if (position >= size) return;
            throw Object.assign(new Error(`the body ended at byte ${position} of ${size}`), {
              code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
            });
          } catch (e) {
            if (signal?.aborted) throw new AbortedError(`${what}: aborted`, { cause: signal.reason });
            if (isOcikitError(e) || !isRetryableNetworkError(e) || failures >= retries) {
              if (isOcikitError(e)) throw e;
              throw new DataLossError(
                `${what}: the download broke at byte ${position} of ${size}: ${(e as Error).message}`,
                {
                  cause: e,
                  details: { digest: desc.digest, received: position, size },
                  hint: 'try again; the registry or the network dropped the connection',
                },
              );
            }
            failures++;
            current.res.body.destroy();
            await new Promise((resolve) => setTimeout(resolve, Math.min(5000, delay * 2 ** (failures - 1))));
            current = await open(position);
          }
        }
      } finally {
        current.res.body.destroy();
      }
    }
    // verified unless the consumer verifies (options.verify === false) or it starts mid-way
    const verify = offset === 0 && options.verify !== false;
    const source = verify
      ? verifyStream(body(), { digest: desc.digest, size }, signal ? { signal } : {})
      : body();
    const stream = Readable.from(source, { objectMode: false, highWaterMark: 1 });
    // A `for await` consumer (copy, fetchAll) takes the chunks straight from the source, without a
    // stream's buffering and ticks per chunk (~20 ms of a 49 MB pull); piping or reading it as a
    // stream still goes through Readable.from. One or the other: the source is read once.
    stream[Symbol.asyncIterator] = () => source[Symbol.asyncIterator]();
    return stream;
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
      const bytes = content instanceof Uint8Array ? content : await collect(content, desc);
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
    await this.#uploadBlob(desc, content, options);
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
    const res = await this.#call({
      method: 'PUT',
      path: this.#path('manifests', ref),
      headers: { 'content-type': desc.mediaType },
      body: bytes,
      scopes: this.#push(),
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
      const subject = subjectOf(desc, bytes);
      if (subject) await this.#addToReferrersTag(subject, referrerDescriptor(desc, bytes), options);
    }
  }

  async #uploadBlob(
    desc: Descriptor,
    content: AsyncIterable<Uint8Array> | Uint8Array,
    options: SignalOptions,
  ): Promise<void> {
    const what = `blob ${desc.digest} to ${this.name}`;
    const singleLimit = this.#options.singlePostLimit ?? 0;
    let bytes = content instanceof Uint8Array ? content : undefined;
    if (bytes === undefined && desc.size <= singleLimit)
      bytes = await collect(content as AsyncIterable<Uint8Array>, desc);
    if (bytes !== undefined) verifyBytes(bytes, desc);
    const post = `/v2/${this.location.repository}/blobs/uploads/`;
    let location: string;
    if (bytes !== undefined && desc.size <= singleLimit) {
      const res = await this.#call({
        method: 'POST',
        path: `${post}?digest=${encodeURIComponent(desc.digest)}`,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) },
        body: bytes,
        scopes: this.#push(),
        what,
        expect: [201, 202],
        signal: options.signal,
      });
      if (res.status === 201) return;
      location = this.#location(res, what);
    } else {
      const res = await this.#call({
        method: 'POST',
        path: post,
        scopes: this.#push(),
        what,
        expect: [202],
        signal: options.signal,
      });
      location = this.#location(res, what);
      const minChunk = Number(header(res.headers, 'oci-chunk-min-length')) || 0;
      const chunkSize = this.#options.chunkSize;
      if (chunkSize !== undefined && desc.size > chunkSize) {
        await this.#uploadChunks(desc, bytes ?? content, location, Math.max(chunkSize, minChunk), options);
        return;
      }
    }
    // A stream is not hashed again here: the registry verifies `?digest=` before the blob becomes
    // visible, and `copy` has verified it on the way (Content-Length bounds what is sent).
    const source = bytes ?? (content as AsyncIterable<Uint8Array>);
    await this.#call({
      method: 'PUT',
      path: withQuery(location, 'digest', desc.digest),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body: source,
      scopes: this.#push(),
      what,
      expect: [201, 204],
      signal: options.signal,
    });
  }

  async #uploadChunks(
    desc: Descriptor,
    content: AsyncIterable<Uint8Array> | Uint8Array,
    firstLocation: string,
    chunkSize: number,
    options: SignalOptions,
  ): Promise<void> {
    const what = `blob ${desc.digest} to ${this.name}`;
    const hasher = createHasher(desc.digest.slice(0, desc.digest.indexOf(':')));
    let location = firstLocation;
    let sent = 0;
    const flush = async (chunk: Uint8Array) => {
      const res = await this.#call({
        method: 'PATCH',
        path: location,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${sent}-${sent + chunk.byteLength - 1}`,
          'content-length': String(chunk.byteLength),
        },
        body: chunk,
        scopes: this.#push(),
        what,
        expect: [202, 204],
        signal: options.signal,
      });
      location = this.#location(res, what);
      sent += chunk.byteLength;
    };
    let pending: Uint8Array[] = [];
    let pendingSize = 0;
    const source = content instanceof Uint8Array ? [content] : content;
    try {
      for await (const chunk of source) {
        hasher.update(chunk);
        if (hasher.size > desc.size) break;
        let c = chunk;
        while (pendingSize + c.byteLength >= chunkSize) {
          const take = chunkSize - pendingSize;
          pending.push(c.subarray(0, take));
          await flush(Buffer.concat(pending));
          pending = [];
          pendingSize = 0;
          c = c.subarray(take);
        }
        if (c.byteLength > 0) {
          pending.push(Buffer.from(c));
          pendingSize += c.byteLength;
        }
      }
      const digest = hasher.size > desc.size ? undefined : hasher.digest();
      if (digest !== desc.digest || hasher.size !== desc.size) {
        throw new DataLossError(`${what}: the content does not match the descriptor`, {
          details: { expected: desc.digest, actual: digest, size: desc.size, received: hasher.size },
        });
      }
      if (pendingSize > 0) await flush(Buffer.concat(pending));
    } catch (e) {
      await this.#cancelUpload(location, what, options.signal);
      throw e;
    }
    await this.#call({
      method: 'PUT',
      path: withQuery(location, 'digest', desc.digest),
      headers: { 'content-length': '0' },
      scopes: this.#push(),
      what,
      expect: [201, 204],
      signal: options.signal,
    });
  }

  /** Keeps the last few manifests pushed, so tagging one needs no second download. */
  #remember(digest: Digest, bytes: Uint8Array): void {
    this.#recent.delete(digest);
    this.#recent.set(digest, bytes);
    if (this.#recent.size > 32) this.#recent.delete(this.#recent.keys().next().value as Digest);
  }

  #location(res: RegistryResponse, what: string): string {
    const location = header(res.headers, 'location');
    if (location === undefined || location === '') {
      throw new InvalidArgumentError(`${what}: the registry started an upload without a Location`);
    }
    return location;
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

  /** Pushes manifest bytes under a tag or by digest and returns its descriptor. */
  async pushManifest(
    bytes: Uint8Array,
    mediaType: string,
    ref?: string,
    options: SignalOptions = {},
  ): Promise<Descriptor> {
    const desc: Descriptor = { mediaType, digest: digestOfSync(bytes), size: bytes.byteLength };
    await this.#putManifest(desc, bytes, ref === undefined ? desc.digest : this.#identifier(ref), options);
    return desc;
  }

  /**
   * Mounts a blob from another repository of this registry (`POST ?mount=&from=`); false when the
   * registry would not (the caller uploads instead).
   */
  async mount(desc: Descriptor, fromRepository: string, options: SignalOptions = {}): Promise<boolean> {
    const what = `mount of ${desc.digest} from ${fromRepository} into ${this.name}`;
    const res = await this.#call({
      method: 'POST',
      path: `/v2/${this.location.repository}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(fromRepository)}`,
      scopes: [...this.#push(), `repository:${fromRepository}:pull`],
      what,
      expect: [201, 202],
      signal: options.signal,
    });
    if (res.status === 201) return true;
    const location = header(res.headers, 'location');
    if (location) {
      await this.#cancelUpload(location, what, options.signal); // the registry opened an upload instead
    }
    return false;
  }

  /** Deletes a manifest (by digest) or a blob; NotFound when absent, FailedPrecondition when the registry forbids deletion. */
  async delete(desc: Descriptor, options: SignalOptions = {}): Promise<void> {
    const graph = isGraph(desc.mediaType);
    await this.#call({
      method: 'DELETE',
      path: this.#path(graph ? 'manifests' : 'blobs', desc.digest),
      scopes: [`repository:${this.location.repository}:delete`, ...this.#pull()],
      what: `delete of ${graph ? 'manifest' : 'blob'} ${desc.digest} in ${this.name}`,
      expect: [202, 200, 204],
      signal: options.signal,
    });
  }

  /** Deletes a tag (`DELETE /manifests/<tag>`, where the registry supports it). */
  async untag(tag: string, options: SignalOptions = {}): Promise<void> {
    const identifier = this.#identifier(tag);
    const what = `delete of tag ${this.name}:${identifier}`;
    const res = await this.#call({
      method: 'DELETE',
      path: this.#path('manifests', identifier),
      scopes: [`repository:${this.location.repository}:delete`, ...this.#pull()],
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
      this.#pull(),
      `tags of ${this.name}`,
      options,
    );
  }

  /**
   * The manifests whose `subject` is `subject`: the referrers API, or the `sha256-<hex>` tag
   * fallback on registries without it. `artifactType` filters (on the client when the registry does not).
   */
  async referrers(
    subject: Descriptor,
    options: { artifactType?: string; signal?: AbortSignal } = {},
  ): Promise<Descriptor[]> {
    const what = `referrers of ${subject.digest} in ${this.name}`;
    let path: string | undefined = this.#path('referrers', subject.digest);
    if (options.artifactType !== undefined)
      path += `?artifactType=${encodeURIComponent(options.artifactType)}`;
    const found: Descriptor[] = [];
    let filtered = false;
    let first = true;
    while (path !== undefined) {
      const res: RegistryResponse = await this.#send({
        method: 'GET',
        path,
        headers: { accept: MediaType.ImageIndex },
        scopes: this.#pull(),
        what,
        expect: first ? [200, 404] : [200],
        signal: options.signal,
      });
      const contentType = header(res.headers, 'content-type')?.split(';')[0]?.trim();
      if (first && (res.status === 404 || contentType !== MediaType.ImageIndex)) {
        await res.body.dump().catch(() => {});
        return this.#referrersFromTag(subject, options);
      }
      first = false;
      filtered ||= (header(res.headers, 'oci-filters-applied') ?? '')
        .split(',')
        .map((s) => s.trim())
        .includes('artifactType');
      found.push(...parseIndex(await readBody(res.body, MAX_DOCUMENT_SIZE, what)).manifests);
      const next = nextLink(res.headers.link);
      path =
        next === undefined
          ? undefined
          : new URL(next, 'http://x').pathname + new URL(next, 'http://x').search;
    }
    const type = options.artifactType;
    return type === undefined || filtered ? found : found.filter((d) => d.artifactType === type);
  }

  async #referrersFromTag(
    subject: Descriptor,
    options: { artifactType?: string; signal?: AbortSignal },
  ): Promise<Descriptor[]> {
    const index = await this.#readReferrersTag(subject, options);
    const all = index?.manifests ?? [];
    return options.artifactType === undefined
      ? all
      : all.filter((d) => d.artifactType === options.artifactType);
  }

  async #readReferrersTag(subject: Descriptor, options: SignalOptions): Promise<ImageIndex | undefined> {
    try {
      const { bytes } = await this.fetchManifest(referrersTag(subject.digest), options);
      return parseIndex(bytes);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async #addToReferrersTag(subject: Descriptor, referrer: Descriptor, options: SignalOptions): Promise<void> {
    const index = (await this.#readReferrersTag(subject, options)) ?? {
      schemaVersion: 2 as const,
      mediaType: MediaType.ImageIndex,
      manifests: [],
    };
    if (index.manifests.some((d) => d.digest === referrer.digest)) return;
    const next: ImageIndex = { ...index, manifests: [...index.manifests, referrer] };
    await this.pushManifest(
      Buffer.from(JSON.stringify(next)),
      MediaType.ImageIndex,
      referrersTag(subject.digest),
      options,
    );
  }
}

/** The referrers fallback tag of a digest: `sha256-<hex>`. */
export function referrersTag(digest: Digest): string {
  return digest.replace(':', '-').slice(0, 128);
}

function subjectOf(desc: Descriptor, bytes: Uint8Array): Descriptor | undefined {
  if (isIndexMediaType(desc.mediaType)) return parseIndex(bytes).subject;
  if (isManifestMediaType(desc.mediaType)) return parseManifest(bytes).subject;
  return undefined;
}

function referrerDescriptor(desc: Descriptor, bytes: Uint8Array): Descriptor {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
    artifactType?: string;
    config?: { mediaType?: string };
    annotations?: Record<string, string>;
  };
  const artifactType = doc.artifactType ?? doc.config?.mediaType;
  return {
    mediaType: desc.mediaType,
    digest: desc.digest,
    size: desc.size,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(doc.annotations !== undefined ? { annotations: doc.annotations } : {}),
  };
}

function withQuery(location: string, key: string, value: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

async function collect(content: AsyncIterable<Uint8Array>, desc: Descriptor): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of content) {
    size += chunk.byteLength;
    if (size > desc.size) {
      throw new DataLossError(`${desc.digest}: more than the ${desc.size} bytes its descriptor says`, {
        details: { expected: desc.digest, size: desc.size },
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Follows `Link` pagination of a tags or catalog listing. */
async function paginate(
  transport: Transport,
  registry: string,
  base: string,
  key: 'tags' | 'repositories',
  scopes: string[],
  what: string,
  options: ListOptions,
): Promise<string[]> {
  const out: string[] = [];
  const query = new URLSearchParams();
  if (options.pageSize !== undefined) query.set('n', String(options.pageSize));
  if (options.last !== undefined) query.set('last', options.last);
  let path: string | undefined = query.size > 0 ? `${base}?${query}` : base;
  for (let pages = 0; path !== undefined; pages++) {
    if (pages > 100_000) throw new InvalidArgumentError(`${what}: the registry's pages do not end`);
    const res: RegistryResponse = await transport.send({
      registry,
      method: 'GET',
      path,
      scopes,
      what,
      signal: options.signal,
    });
    const body = await readBody(res.body, MAX_DOCUMENT_SIZE, what);
    let list: unknown;
    try {
      list = (JSON.parse(body.toString('utf8')) as Record<string, unknown>)[key];
    } catch (cause) {
      throw new InvalidArgumentError(`${what}: the registry answered with something that is not JSON`, {
        cause,
      });
    }
    if (
      list !== null &&
      list !== undefined &&
      !(Array.isArray(list) && list.every((t) => typeof t === 'string'))
    ) {
      throw new InvalidArgumentError(`${what}: "${key}" is not a list of strings`);
    }
    for (const item of (list as string[] | null | undefined) ?? []) {
      out.push(item);
      if (options.limit !== undefined && out.length >= options.limit) return out;
    }
    const next = nextLink(res.headers.link);
    if (next === undefined) break;
    const url = new URL(next, 'http://registry.invalid');
    path = `${url.pathname}${url.search}`;
  }
  return out;
}

/** Opens a repository: `openRepository('localhost:5000/app')` or a parsed {@link Reference}. */
export function openRepository(ref: string | Reference, options: RepositoryOptions = {}): Repository {
  return new Repository(ref, options);
}

/**
 * Lists a registry's repositories (`/v2/_catalog`, following `Link` pagination).
 *
 * @example
 * ```ts
 * const names = await listCatalog('localhost:5000');
 * ```
 */
export async function listCatalog(
  registry: string,
  options: ListOptions & RepositoryOptions = {},
): Promise<string[]> {
  const transport = options.transport ?? new Transport(options);
  try {
    return await paginate(
      transport,
      registry,
      '/v2/_catalog',
      'repositories',
      ['registry:catalog:*'],
      `catalog of ${registry}`,
      options,
    );
  } finally {
    if (options.transport === undefined) await transport.close();
  }
}
