// The shapes of a registry request and response, as the repository code builds and reads them,
// and the two helpers every layer uses on a response: a header's first value and a bounded body.
import { InvalidArgumentError } from '@ocikit/errors';
import type { ResponseBody } from './http.ts';

/** One HTTP exchange, reported to `TransportOptions.onRequest` (never holds credentials). */
export interface RequestEvent {
  readonly method: string;
  /** The URL, without its query. */
  readonly url: string;
  /** The response status, or undefined when the connection failed. */
  readonly status: number | undefined;
  /** 0 for the first try, then 1, 2, ... for retries. */
  readonly attempt: number;
  /** Milliseconds until the response headers arrived. */
  readonly ms: number;
  /** The error's message when the connection failed. */
  readonly error?: string;
}

/** A request body that can be sent again on retry (bytes), or only once (a stream). */
export type RequestBody = Uint8Array | AsyncIterable<Uint8Array> | string;

/** A request as the repository code builds it. */
export interface RegistryRequest {
  readonly registry: string;
  readonly method: string;
  /** The path and query, from `/v2/`. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: RequestBody;
  /** Token scopes this request needs, e.g. `repository:app:pull`. */
  readonly scopes: readonly string[];
  /** What the request is for, in error messages. */
  readonly what: string;
  /** Statuses returned to the caller; any other is thrown as a typed error (default 2xx). */
  readonly expect?: readonly number[];
  readonly signal?: AbortSignal | undefined;
}

/** A response with an expected status. */
export interface RegistryResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: ResponseBody;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

/** True when a request body can be sent again (bytes, not a stream). */
export function isReplayable(body: RequestBody | undefined): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/** First value of a header. */
export function header(headers: RegistryResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads at most `max` bytes of a body; InvalidArgumentError (and the body destroyed) past that. */
export async function readBody(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  max: number,
  what: string,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) {
      body.destroy?.();
      throw new InvalidArgumentError(`${what}: response is larger than the ${max} bytes allowed`, {
        details: { reason: 'too-large', limit: max },
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
