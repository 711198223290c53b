// Uploads (as go-containerregistry's remote writer and distribution-spec's push section):
// monolithic `POST` then `PUT ?digest=`, chunked `PATCH`es, the single-request `POST ?digest=`,
// cross-repository mounts, and cancelling an upload session that failed.
import type { SignalOptions } from '@ocikit/content';
import { createHasher, verifyBytes } from '@ocikit/digest';
import { DataLossError, InvalidArgumentError } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import type { RepositoryContext } from './context.ts';
import { header, type RegistryResponse } from './request.ts';

/** How blobs are uploaded. */
export interface UploadTuning {
  /** Upload blobs larger than this in PATCH chunks of this size (undefined: one monolithic PUT). */
  readonly chunkSize: number | undefined;
  /** Try the single-request `POST ?digest=` upload for blobs up to this size in bytes (0: off). */
  readonly singlePostLimit: number;
}

/** Cancels an upload session (best effort), so it does not linger in the registry. */
async function cancelUpload(
  ctx: RepositoryContext,
  location: string,
  what: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  await ctx
    .call({
      method: 'DELETE',
      path: location,
      scopes: ctx.pushScopes(),
      what,
      expect: [202, 204, 404],
      signal,
    })
    .catch(() => {});
}

function uploadLocation(res: RegistryResponse, what: string): string {
  const location = header(res.headers, 'location');
  if (location === undefined || location === '') {
    throw new InvalidArgumentError(`${what}: the registry started an upload without a Location`);
  }
  return location;
}

/**
 * Uploads a blob: single `POST ?digest=` (up to `singlePostLimit`), chunked `PATCH`es (past
 * `chunkSize`) or monolithic `PUT`; bytes are verified before sending, a stream by the
 * registry's `?digest=` check.
 */
export async function uploadBlob(
  ctx: RepositoryContext,
  tuning: UploadTuning,
  desc: Descriptor,
  content: AsyncIterable<Uint8Array> | Uint8Array,
  options: SignalOptions,
): Promise<void> {
  const what = `blob ${desc.digest} to ${ctx.name}`;
  const singleLimit = tuning.singlePostLimit;
  let bytes = content instanceof Uint8Array ? content : undefined;
  if (bytes === undefined && desc.size <= singleLimit)
    bytes = await collect(content as AsyncIterable<Uint8Array>, desc, what);
  if (bytes !== undefined) verifyBytes(bytes, desc);
  const post = `/v2/${ctx.location.repository}/blobs/uploads/`;
  let location: string;
  if (bytes !== undefined && desc.size <= singleLimit) {
    const res = await ctx.call({
      method: 'POST',
      path: `${post}?digest=${encodeURIComponent(desc.digest)}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) },
      body: bytes,
      scopes: ctx.pushScopes(),
      what,
      expect: [201, 202],
      signal: options.signal,
    });
    if (res.status === 201) return;
    location = uploadLocation(res, what);
  } else {
    const res = await ctx.call({
      method: 'POST',
      path: post,
      scopes: ctx.pushScopes(),
      what,
      expect: [202],
      signal: options.signal,
    });
    location = uploadLocation(res, what);
    const minChunk = Number(header(res.headers, 'oci-chunk-min-length')) || 0;
    const chunkSize = tuning.chunkSize;
    if (chunkSize !== undefined && desc.size > chunkSize) {
      await uploadChunks(ctx, desc, bytes ?? content, location, Math.max(chunkSize, minChunk), options);
      return;
    }
  }
  // A stream is not hashed again here: the registry verifies `?digest=` before the blob becomes
  // visible, and `copy` has verified it on the way. Its length is checked as it is sent: bytes past
  // the Content-Length would go out on the pooled connection as the start of the next request.
  const source = bytes ?? exactLength(content as AsyncIterable<Uint8Array>, desc, what);
  try {
    await ctx.call({
      method: 'PUT',
      path: withQuery(location, 'digest', desc.digest),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body: source,
      scopes: ctx.pushScopes(),
      what,
      expect: [201, 204],
      signal: options.signal,
    });
  } catch (e) {
    await cancelUpload(ctx, location, what, options.signal);
    throw e;
  }
}

/** Passes a stream on, failing with DataLossError as soon as it is longer, or ends shorter, than `desc.size`. */
async function* exactLength(
  content: AsyncIterable<Uint8Array>,
  desc: Descriptor,
  what: string,
): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of content) {
    size += chunk.byteLength;
    if (size > desc.size) {
      throw new DataLossError(
        `${what}: the content is longer than the ${desc.size} bytes its descriptor says`,
        {
          details: { expected: desc.digest, size: desc.size, received: size },
        },
      );
    }
    yield chunk;
  }
  if (size !== desc.size) {
    throw new DataLossError(
      `${what}: the content ended at ${size} of the ${desc.size} bytes its descriptor says`,
      {
        details: { expected: desc.digest, size: desc.size, received: size },
      },
    );
  }
}

async function uploadChunks(
  ctx: RepositoryContext,
  desc: Descriptor,
  content: AsyncIterable<Uint8Array> | Uint8Array,
  firstLocation: string,
  chunkSize: number,
  options: SignalOptions,
): Promise<void> {
  const what = `blob ${desc.digest} to ${ctx.name}`;
  const hasher = createHasher(desc.digest.slice(0, desc.digest.indexOf(':')));
  let location = firstLocation;
  let sent = 0;
  const flush = async (chunk: Uint8Array) => {
    const res = await ctx.call({
      method: 'PATCH',
      path: location,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${sent}-${sent + chunk.byteLength - 1}`,
        'content-length': String(chunk.byteLength),
      },
      body: chunk,
      scopes: ctx.pushScopes(),
      what,
      expect: [202, 204],
      signal: options.signal,
    });
    location = uploadLocation(res, what);
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
    await cancelUpload(ctx, location, what, options.signal);
    throw e;
  }
  await ctx.call({
    method: 'PUT',
    path: withQuery(location, 'digest', desc.digest),
    headers: { 'content-length': '0' },
    scopes: ctx.pushScopes(),
    what,
    expect: [201, 204],
    signal: options.signal,
  });
}

/**
 * Mounts a blob from another repository of this registry (`POST ?mount=&from=`); false when the
 * registry would not (the caller uploads instead).
 */
export async function mountBlob(
  ctx: RepositoryContext,
  desc: Descriptor,
  fromRepository: string,
  options: SignalOptions,
): Promise<boolean> {
  const what = `mount of ${desc.digest} from ${fromRepository} into ${ctx.name}`;
  const res = await ctx.call({
    method: 'POST',
    path: `/v2/${ctx.location.repository}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(fromRepository)}`,
    scopes: [...ctx.pushScopes(), `repository:${fromRepository}:pull`],
    what,
    expect: [201, 202],
    signal: options.signal,
  });
  if (res.status === 201) return true;
  const location = header(res.headers, 'location');
  if (location) {
    await cancelUpload(ctx, location, what, options.signal); // the registry opened an upload instead
  }
  return false;
}

function withQuery(location: string, key: string, value: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

/** Reads a stream into bytes; DataLossError when it is longer or shorter than the descriptor says. */
export async function collect(
  content: AsyncIterable<Uint8Array>,
  desc: Descriptor,
  what: string,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of exactLength(content, desc, what)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
