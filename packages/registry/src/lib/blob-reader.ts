// Blob reading with resume (as containerd's remotes/docker httpReadSeeker and
// go-containerregistry's remote blob reader): one GET, verified as it streams; when the body
// breaks, the rest is asked for with `Range` from the last byte received, within a budget of
// retries; a server that ignores `Range` is read from the start and the known bytes skipped.
import { Readable } from 'node:stream';
import { verifyStream } from '@ocikit/digest';
import { AbortedError, DataLossError, isOcikitError } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import type { RepositoryContext } from './context.ts';
import { header, type RegistryResponse } from './request.ts';
import { isRetryableNetworkError } from './retry.ts';

/** How one blob or manifest is read. */
export interface BlobReadOptions {
  /** What is read, for messages. */
  readonly what: string;
  /** Read from `/manifests/` with this `Accept`, rather than from `/blobs/`. */
  readonly accept?: string | undefined;
  /** Start at this byte (the caller verifies the whole). */
  readonly offset: number;
  /** Verify digest and size as it streams (only from offset 0). */
  readonly verify: boolean;
  /** Resumes of a broken download. */
  readonly resumeRetries: number;
  /** The first resume's delay in ms, doubled each time (at most 5 s). */
  readonly retryDelay: number;
  readonly signal?: AbortSignal | undefined;
}

/** Opens a blob or manifest for reading, resuming with `Range` when the download breaks. */
export async function readBlob(
  ctx: RepositoryContext,
  desc: Descriptor,
  options: BlobReadOptions,
): Promise<Readable> {
  const { what, accept, offset, signal } = options;
  const path = ctx.path(accept !== undefined ? 'manifests' : 'blobs', desc.digest);
  if (offset > 0 && offset === desc.size) {
    // Nothing is left to read, and `Range: bytes=<size>-` is unsatisfiable (416): a HEAD says
    // whether the blob is there (NotFound otherwise), and the stream is empty.
    await ctx.call({
      method: 'HEAD',
      path,
      headers: accept !== undefined ? { accept } : {},
      scopes: ctx.pullScopes(),
      what,
      signal,
    });
    return Readable.from([], { objectMode: false });
  }
  const open = async (from: number): Promise<{ res: RegistryResponse; skip: number }> => {
    const headers: Record<string, string> = accept !== undefined ? { accept } : {};
    if (from > 0) headers.range = `bytes=${from}-`;
    const res = await ctx.send({
      method: 'GET',
      path,
      headers,
      scopes: ctx.pullScopes(),
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
  const retries = options.resumeRetries;
  const delay = options.retryDelay;
  const size = desc.size;
  async function* body(): AsyncGenerator<Uint8Array> {
    let position = offset;
    let current = first;
    let failures = 0;
    try {
      for (;;) {
        // why this response stopped short: a broken connection, or undefined when it ended
        // complete by HTTP (a correctly framed shorter Content-Length) before the blob's end
        let broke: unknown;
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
        } catch (e) {
          if (signal?.aborted) throw new AbortedError(`${what}: aborted`, { cause: signal.reason });
          if (isOcikitError(e)) throw e;
          broke = e;
        }
        // Both are resumed with Range from the last byte received, within the same budget.
        if (broke !== undefined && (!isRetryableNetworkError(broke) || failures >= retries)) {
          throw new DataLossError(
            `${what}: the download broke at byte ${position} of ${size}: ${(broke as Error).message}`,
            {
              cause: broke,
              details: { digest: desc.digest, received: position, size },
              hint: 'try again; the registry or the network dropped the connection',
            },
          );
        }
        if (broke === undefined && failures >= retries) {
          throw new DataLossError(
            `${what}: the registry's response ended short at byte ${position} of ${size}, complete by its Content-Length${failures > 0 ? `, after ${failures} resumes` : ''}`,
            {
              details: { digest: desc.digest, received: position, size, reason: 'short-body' },
              hint: 'a proxy or CDN between here and the registry may be cutting responses short; try again',
            },
          );
        }
        failures++;
        current.res.body.destroy();
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, delay * 2 ** (failures - 1))));
        current = await open(position);
      }
    } finally {
      current.res.body.destroy();
    }
  }
  const source = options.verify
    ? verifyStream(body(), { digest: desc.digest, size }, signal ? { signal } : {})
    : body();
  const stream = Readable.from(source, { objectMode: false, highWaterMark: 1 });
  // A `for await` consumer (copy, fetchAll) takes the chunks straight from the source, without a
  // stream's buffering and ticks per chunk (~20 ms of a 49 MB pull); piping or reading it as a
  // stream still goes through Readable.from. One or the other: the source is read once.
  stream[Symbol.asyncIterator] = () => source[Symbol.asyncIterator]();
  return stream;
}
