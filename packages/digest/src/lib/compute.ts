import { open } from 'node:fs/promises';
import { DataLossError, throwIfAborted } from '@ocikit/errors';
import { requireAlgorithm } from './algorithms.ts';
import type { Digest } from './digest.ts';

/** Bytes in any of the shapes digests are computed over. */
export type DigestInput = Uint8Array | string | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** Options of the computing functions. */
export interface DigestOptions {
  /** Algorithm to use; `sha256` unless given. */
  algorithm?: string;
  signal?: AbortSignal;
}

/** An incremental digest: feed it chunks, then read the digest and the byte count. */
export interface Hasher {
  update(chunk: Uint8Array): void;
  digest(): Digest;
  readonly size: number;
}

/**
 * Starts an incremental digest computation.
 *
 * @example
 * ```ts
 * const h = createHasher(); h.update(bytes); console.log(h.digest(), h.size);
 * ```
 */
export function createHasher(algorithm = 'sha256'): Hasher {
  const fn = requireAlgorithm(algorithm).createHash();
  let size = 0;
  return {
    update(chunk) {
      size += chunk.byteLength;
      fn.update(chunk);
    },
    digest: () => `${algorithm}:${fn.digest()}` as Digest,
    get size() {
      return size;
    },
  };
}

function isWebStream(
  input: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): input is ReadableStream<Uint8Array> {
  return typeof (input as ReadableStream).getReader === 'function' && !(Symbol.asyncIterator in input);
}

/** Iterates any byte source: an AsyncIterable, or a web ReadableStream without async iteration. */
export async function* iterate(
  input: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in input) {
    yield* input as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = (input as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

const encoder = new TextEncoder();

/**
 * Computes the digest of bytes, a string (UTF-8), or a stream, in bounded memory.
 *
 * @example
 * ```ts
 * const d = await digestOf(createReadStream('layer.tar.gz'));
 * ```
 */
export async function digestOf(input: DigestInput, options: DigestOptions = {}): Promise<Digest> {
  const hasher = createHasher(options.algorithm);
  if (typeof input === 'string') hasher.update(encoder.encode(input));
  else if (input instanceof Uint8Array) hasher.update(input);
  else {
    const source = isWebStream(input) ? iterate(input) : input;
    for await (const chunk of source) {
      throwIfAborted(options.signal);
      hasher.update(chunk);
    }
  }
  throwIfAborted(options.signal);
  return hasher.digest();
}

/** Computes the digest of bytes or a string (UTF-8) synchronously. */
export function digestOfSync(input: Uint8Array | string, options: { algorithm?: string } = {}): Digest {
  const hasher = createHasher(options.algorithm);
  hasher.update(typeof input === 'string' ? encoder.encode(input) : input);
  return hasher.digest();
}

/**
 * Computes the digest of a file. Reads 4 MiB at a time into two alternating buffers, so the next
 * read runs on libuv's thread pool while this thread hashes the previous one.
 */
export async function digestFile(path: string, options: DigestOptions = {}): Promise<Digest> {
  const hasher = createHasher(options.algorithm);
  const fh = await open(path, 'r');
  try {
    const size = 4 << 20;
    const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
    let turn = 0;
    let pending: Promise<{ bytesRead: number; buffer: Buffer }> = fh.read(buffers[0], 0, size, null);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      throwIfAborted(options.signal);
      turn ^= 1;
      pending = fh.read(buffers[turn] as Buffer, 0, size, null);
      hasher.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hasher.digest();
}

/** What a verified stream must turn out to be. */
export interface Expected {
  digest: Digest;
  size?: number;
}

const tooLarge = (expected: Expected, size: number) =>
  new DataLossError(`content ${expected.digest} is larger than its expected ${expected.size} bytes`, {
    details: { digest: expected.digest, expectedSize: expected.size, actualSize: size },
  });
const tooShort = (expected: Expected, size: number) =>
  new DataLossError(`content ${expected.digest} ended after ${size} of its ${expected.size} bytes`, {
    details: { digest: expected.digest, expectedSize: expected.size, actualSize: size },
  });
const mismatch = (expected: Expected, actual: Digest, size: number) =>
  new DataLossError(`content digest mismatch: expected ${expected.digest}, got ${actual}`, {
    details: { digest: expected.digest, actualDigest: actual, size },
  });

/**
 * Passes the chunks of `source` through while hashing them, and fails with a DataLossError as soon
 * as more than `expected.size` bytes arrive, or at the end when the size or digest is wrong. Consumers
 * must not treat the bytes as trusted until the generator has finished without throwing.
 *
 * @example
 * ```ts
 * await pipeline(verifyStream(body, { digest, size }), createWriteStream(tmp));
 * ```
 */
export async function* verifyStream(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  expected: Expected,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<Uint8Array> {
  const algorithm = expected.digest.slice(0, expected.digest.indexOf(':'));
  const hasher = createHasher(algorithm);
  for await (const chunk of iterate(source)) {
    throwIfAborted(options.signal);
    hasher.update(chunk);
    if (expected.size !== undefined && hasher.size > expected.size) throw tooLarge(expected, hasher.size);
    yield chunk;
  }
  if (expected.size !== undefined && hasher.size !== expected.size) throw tooShort(expected, hasher.size);
  const actual = hasher.digest();
  if (actual !== expected.digest) throw mismatch(expected, actual, hasher.size);
}

/**
 * Checks whole bytes against their expected digest and size: the DataLossError `verifyStream`
 * would raise, without a stream.
 *
 * @example
 * ```ts
 * verifyBytes(readFileSync(path), { digest, size });
 * ```
 */
export function verifyBytes(bytes: Uint8Array, expected: Expected): void {
  const size = bytes.byteLength;
  if (expected.size !== undefined && size > expected.size) throw tooLarge(expected, size);
  if (expected.size !== undefined && size < expected.size) throw tooShort(expected, size);
  const actual = digestOfSync(bytes, { algorithm: expected.digest.slice(0, expected.digest.indexOf(':')) });
  if (actual !== expected.digest) throw mismatch(expected, actual, size);
}
