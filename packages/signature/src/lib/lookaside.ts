// Lookaside signature storage (containers/image docker_image_src.go getSignaturesFromLookaside,
// docker_image_dest.go putSignaturesToLookaside): simple signing blobs at
// `BASE/REPO@ALGO=HEX/signature-N`, N from 1, read until the first missing one.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Digest, digestAlgorithm, digestEncoded, parseDigest, randomHex } from '@ocikit/digest';
import {
  AbortedError,
  DataLossError,
  FailedPreconditionError,
  InvalidArgumentError,
  throwIfAborted,
  UnavailableError,
} from '@ocikit/errors';
import { MAX_SIGNATURE_SIZE } from './simple-signing.ts';

/** More signatures than this for one manifest are refused (containers/image has no limit; we bound memory). */
export const MAX_LOOKASIDE_SIGNATURES = 128;

/** Options of the lookaside calls. */
export interface LookasideOptions {
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
  /** `fetch` for http(s) lookasides (default the global one). */
  fetch?: typeof fetch | undefined;
}

/**
 * The URL of signature `index` (0-based) of `manifestDigest` under a lookaside base URL that
 * already ends in the repository path ({@link lookasideFor}): `…/library/busybox@sha256=HEX/signature-1`.
 */
export function lookasideSignatureUrl(base: URL, manifestDigest: string, index: number): URL {
  const d: Digest = parseDigest(manifestDigest);
  const url = new URL(base.href);
  url.pathname = `${base.pathname}@${digestAlgorithm(d)}=${digestEncoded(d)}/signature-${index + 1}`;
  return url;
}

function tooLarge(where: string): InvalidArgumentError {
  return new InvalidArgumentError(`signature ${where} is larger than ${MAX_SIGNATURE_SIZE} bytes`, {
    details: { reason: 'invalid-signature' },
  });
}

async function readOneFile(url: URL, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
  const path = fileURLToPath(url);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UnavailableError(`cannot read signature ${path}: ${(e as NodeJS.ErrnoException).code}`, {
      cause: e,
    });
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_SIGNATURE_SIZE) throw tooLarge(path);
    return await readFile(handle, { signal });
  } finally {
    await handle.close();
  }
}

async function readOneHttp(url: URL, options: LookasideOptions): Promise<Uint8Array | undefined> {
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { signal: options.signal ?? null, redirect: 'follow' });
  } catch (e) {
    if ((e as Error).name === 'AbortError')
      throw new AbortedError('reading signatures was cancelled', { cause: e });
    throw new UnavailableError(
      `cannot reach the signature lookaside ${url.origin}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new UnavailableError(`reading signature from ${url.origin}${url.pathname}: status ${res.status}`, {
      details: { status: res.status },
    });
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body !== null) {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > MAX_SIGNATURE_SIZE) {
        await res.body.cancel().catch(() => undefined);
        throw tooLarge(`${url.origin}${url.pathname}`);
      }
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

/**
 * Reads every simple signing signature of `manifestDigest` from a lookaside (`file://` or
 * `http(s)://`): `signature-1`, `signature-2`, … until the first missing one (ENOENT, HTTP 404).
 *
 * @throws InvalidArgumentError for a signature over {@link MAX_SIGNATURE_SIZE} bytes, more than
 *   {@link MAX_LOOKASIDE_SIGNATURES} signatures or an unsupported scheme; UnavailableError when the
 *   lookaside cannot be read.
 */
export async function readLookasideSignatures(
  base: URL,
  manifestDigest: string,
  options: LookasideOptions = {},
): Promise<Uint8Array[]> {
  const sigs: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    throwIfAborted(options.signal);
    if (i >= MAX_LOOKASIDE_SIGNATURES) {
      throw new InvalidArgumentError(
        `more than ${MAX_LOOKASIDE_SIGNATURES} signatures in the lookaside for ${manifestDigest}`,
        {
          details: { reason: 'too-many-signatures' },
        },
      );
    }
    const url = lookasideSignatureUrl(base, manifestDigest, i);
    let blob: Uint8Array | undefined;
    if (url.protocol === 'file:') blob = await readOneFile(url, options.signal);
    else if (url.protocol === 'http:' || url.protocol === 'https:') blob = await readOneHttp(url, options);
    else
      throw new InvalidArgumentError(
        `unsupported scheme when reading signature from ${url.protocol}//${url.host}`,
      );
    if (blob === undefined) return sigs;
    sigs.push(blob);
  }
}

/**
 * Stores `signatures` as the signatures of `manifestDigest` in a `file://` lookaside (normally the
 * `lookaside-staging` one), replacing what was there: `signature-1…N` are written (each through
 * a temp file and a rename), then `signature-N+1…` removed until the first missing one.
 *
 * @throws FailedPreconditionError for an http(s) lookaside (configure a `lookaside-staging:`
 *   file URL to write), InvalidArgumentError for another scheme.
 */
export async function writeLookasideSignatures(
  base: URL,
  manifestDigest: string,
  signatures: readonly Uint8Array[],
  options: LookasideOptions = {},
): Promise<void> {
  if (base.protocol === 'http:' || base.protocol === 'https:') {
    throw new FailedPreconditionError(
      `writing directly to a ${base.protocol.slice(0, -1)} lookaside ${base.origin} is not supported; configure a lookaside-staging: location`,
    );
  }
  if (base.protocol !== 'file:')
    throw new InvalidArgumentError(`unsupported scheme when writing signature to ${base.protocol}`);
  if (signatures.length === 0) return;
  for (const [i, sig] of signatures.entries()) {
    throwIfAborted(options.signal);
    if (sig.byteLength > MAX_SIGNATURE_SIZE) throw tooLarge(`${i + 1}`);
    const path = fileURLToPath(lookasideSignatureUrl(base, manifestDigest, i));
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const tmp = `${path}.tmp-${randomHex(6)}`;
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(sig);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw new DataLossError(`cannot write signature ${path}: ${(e as NodeJS.ErrnoException).code}`, {
        cause: e,
      });
    }
    await fh.close();
    await rename(tmp, path);
  }
  for (let i = signatures.length; ; i++) {
    const path = fileURLToPath(lookasideSignatureUrl(base, manifestDigest, i));
    try {
      await rm(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
  }
}
