// Retry and redirect, the transport's lower half (as containerd's remotes/docker and
// go-containerregistry's transport.retryTransport/redirect handling): which failures are worth
// another try, how long to wait (backoff with jitter, `Retry-After`), and following redirects
// without sending credentials to another host.
import { AbortedError, isOcikitError, throwIfAborted, UnavailableError } from '@ocikit/errors';
import type { HttpClient, HttpResponse } from './http.ts';
import {
  header,
  isReplayable,
  type RegistryRequest,
  type RegistryResponse,
  type RequestEvent,
} from './request.ts';

/** Statuses a request is retried after. */
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRY_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** True when an error from the socket or the HTTP parser is worth a retry. */
export function isRetryableNetworkError(error: unknown): boolean {
  let e: unknown = error;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRY_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits `ms`, or rejects with AbortedError when the signal fires. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError('aborted', { cause: signal.reason }));
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(new AbortedError('aborted', { cause: signal?.reason }));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** How often and how long a request is retried. */
export interface RetryPolicy {
  /** Retries after the first try. */
  readonly retries: number;
  /** The first retry's delay in ms, doubled each time, with jitter. */
  readonly retryDelay: number;
  /** The longest wait between retries in ms, including `Retry-After`. */
  readonly maxRetryDelay: number;
}

/**
 * Sends a request with `attemptOnce`, again after retryable connection errors and statuses
 * (a streamed body is sent once). `networkError` names a connection failure that is not retried.
 */
export async function sendWithRetries(
  req: RegistryRequest,
  policy: RetryPolicy,
  attemptOnce: (attempt: number) => Promise<RegistryResponse>,
  networkError: (e: unknown, attempt: number) => Error,
): Promise<RegistryResponse> {
  const retries = isReplayable(req.body) ? policy.retries : 0;
  const base = policy.retryDelay;
  const max = policy.maxRetryDelay;
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(req.signal);
    let res: RegistryResponse | undefined;
    try {
      res = await attemptOnce(attempt);
    } catch (e) {
      if (isOcikitError(e) || !isRetryableNetworkError(e) || attempt >= retries) {
        if (req.signal?.aborted) throw new AbortedError(`${req.what}: aborted`, { cause: req.signal.reason });
        if (isOcikitError(e)) throw e;
        throw networkError(e, attempt);
      }
    }
    if (res !== undefined) {
      if (!RETRY_STATUSES.has(res.status) || attempt >= retries) return res;
      await res.body.dump().catch(() => {});
    }
    const backoff = Math.min(max, base * 2 ** attempt);
    const jittered = backoff / 2 + Math.random() * (backoff / 2);
    const after = res ? retryAfterMs(res.headers['retry-after']) : undefined;
    await sleep(Math.min(max, after ?? jittered), req.signal ?? undefined);
  }
}

/** What {@link requestFollowingRedirects} needs besides the request. */
export interface RedirectContext {
  readonly client: Pick<HttpClient, 'request'>;
  /** The registry's own origin: the only one credentials are sent to. */
  readonly origin: URL;
  /** The `Authorization` value for the registry, if any. */
  readonly auth: string | undefined;
  readonly attempt: number;
  readonly userAgent: string | undefined;
  /** The URL for error messages. */
  readonly display: string;
  readonly report: (event: RequestEvent) => void;
}

/** Sends one try of a request, following up to five redirects of GET and HEAD (credentials only to the registry). */
export async function requestFollowingRedirects(
  req: RegistryRequest,
  ctx: RedirectContext,
): Promise<RegistryResponse> {
  const { client, origin, auth, attempt } = ctx;
  let url = new URL(req.path, origin);
  let method = req.method;
  for (let hops = 0; ; hops++) {
    const headers: Record<string, string> = { ...req.headers };
    if (ctx.userAgent) headers['user-agent'] = ctx.userAgent;
    // Credentials go only to the registry itself, never along a redirect to another host.
    if (auth !== undefined && url.origin === origin.origin) headers.authorization = auth;
    const started = Date.now();
    let data: HttpResponse;
    try {
      data = await client.request(url, {
        method,
        headers,
        body: hops === 0 ? req.body : undefined,
        ...(req.signal ? { signal: req.signal } : {}),
      });
    } catch (e) {
      ctx.report({
        method,
        url: `${url.origin}${url.pathname}`,
        status: undefined,
        attempt,
        ms: Date.now() - started,
        error: (e as Error).message,
      });
      throw e;
    }
    ctx.report({
      method,
      url: `${url.origin}${url.pathname}`,
      status: data.statusCode,
      attempt,
      ms: Date.now() - started,
    });
    const response: RegistryResponse = {
      status: data.statusCode,
      headers: data.headers,
      body: data.body,
      url,
    };
    const location = header(data.headers, 'location');
    const follow =
      REDIRECTS.has(data.statusCode) && location !== undefined && (method === 'GET' || method === 'HEAD');
    if (!follow) return response;
    if (hops >= 5) {
      await data.body.dump().catch(() => {});
      throw new UnavailableError(`${req.what}: too many redirects`, {
        details: { url: ctx.display },
      });
    }
    await data.body.dump().catch(() => {});
    url = new URL(location, url);
    if (data.statusCode === 303) method = 'GET';
  }
}
