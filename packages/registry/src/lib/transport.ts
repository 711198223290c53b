import { readFile } from 'node:fs/promises';
import {
  AbortedError,
  InvalidArgumentError,
  isOcikitError,
  throwIfAborted,
  truncate,
  UnauthenticatedError,
  UnavailableError,
} from '@ocikit/errors';
import type { Credential } from './credentials.ts';
import { responseError } from './errors.ts';
import { HttpClient, type HttpResponse, type ResponseBody } from './http.ts';
import { type AuthChallenge, parseWwwAuthenticate } from './www-authenticate.ts';

/** Where credentials for a registry come from: fixed, or looked up per registry host. */
export type CredentialSource =
  | Credential
  | ((registry: string, options: { signal?: AbortSignal }) => Promise<Credential | undefined>);

/** One HTTP exchange, reported to {@link TransportOptions.onRequest} (never holds credentials). */
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

/** How the client talks to registries. */
export interface TransportOptions {
  /** Credentials, or a lookup of them per registry host (default: none; the CLI passes Docker's and Podman's files). */
  credentials?: CredentialSource;
  /** Use plain HTTP: for every registry, or those the function picks (loopback registries always do). */
  plainHttp?: boolean | ((registry: string) => boolean);
  /** Skip TLS certificate verification. */
  insecure?: boolean;
  /** A PEM file of extra trusted CAs, added to the system's and Node's. */
  caFile?: string;
  /** Retries of a request after connection errors, 408, 429 and 5xx (default 4). */
  retries?: number;
  /** The first retry's delay in ms, doubled each time, with jitter (default 200). */
  retryDelay?: number;
  /** The longest wait between retries in ms, including `Retry-After` (default 30 000). */
  maxRetryDelay?: number;
  /** Milliseconds to wait for response headers, and between body chunks (default 60 000). */
  timeout?: number;
  /** Connections kept per registry (default 16). */
  connections?: number;
  /** The `User-Agent` header. */
  userAgent?: string;
  /** Called after every HTTP exchange (for `--debug`). */
  onRequest?: (event: RequestEvent) => void;
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

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

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
const MAX_ERROR_BODY = 64 * 1024;
const MAX_TOKEN_BODY = 1024 * 1024;

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

/** True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port. */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(1, registry.indexOf(']'))
    : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
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

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
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

/**
 * The HTTP layer shared by every repository of a client: keep-alive connection pools per
 * registry, TLS, retries with backoff and jitter (honouring `Retry-After`), redirects without
 * credentials, and registry authentication (Basic, and Bearer tokens per scope set, cached until
 * they expire, refreshed with an identity token where one is known).
 */
export class Transport {
  readonly #options: TransportOptions;
  #client: Promise<HttpClient> | undefined;
  readonly #challenges = new Map<string, AuthChallenge | null>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();
  readonly #credentials = new Map<string, Promise<Credential | undefined>>();

  constructor(options: TransportOptions = {}) {
    this.#options = options;
  }

  /** The base URL of a registry host: `https://host` (or `http://` for loopback and plain-HTTP registries). */
  endpoint(registry: string): URL {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    const plain = this.#options.plainHttp;
    const http = isLoopback(registry) || plain === true || (typeof plain === 'function' && plain(registry));
    return new URL(`${http ? 'http' : 'https'}://${host}`);
  }

  /** Closes the connection pools. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) (await client).close();
  }

  #getClient(): Promise<HttpClient> {
    this.#client ??= (async () => {
      const { caFile, insecure } = this.#options;
      let ca: string[] | undefined;
      if (caFile !== undefined) {
        let extra: string;
        try {
          extra = await readFile(caFile, 'utf8');
        } catch (e) {
          throw new InvalidArgumentError(`cannot read the CA file ${caFile}: ${(e as Error).message}`, {
            cause: e,
          });
        }
        // node:tls only here, where a CA file is given: importing it costs ~13 ms of start-up
        const { getCACertificates } = process.getBuiltinModule('node:tls');
        ca = [...getCACertificates('default'), ...getCACertificates('system'), extra];
      }
      return new HttpClient({
        connections: this.#options.connections ?? 16,
        timeout: this.#options.timeout ?? 60_000,
        ...(ca ? { ca } : {}),
        ...(insecure ? { insecure } : {}),
      });
    })();
    return this.#client;
  }

  #credentialFor(registry: string, signal?: AbortSignal): Promise<Credential | undefined> {
    const source = this.#options.credentials;
    if (source === undefined) return Promise.resolve(undefined);
    if (typeof source !== 'function') return Promise.resolve(source);
    let p = this.#credentials.get(registry);
    if (!p) {
      p = source(registry, signal ? { signal } : {});
      this.#credentials.set(registry, p);
      p.catch(() => this.#credentials.delete(registry));
    }
    return p;
  }

  /**
   * Sends a request: authenticates, retries transient failures, follows redirects (sending no
   * credentials to another host) and returns the response when its status is expected; any
   * other status becomes a typed error built from the registry's error body.
   */
  async send(req: RegistryRequest): Promise<RegistryResponse> {
    let authRetried = false;
    for (;;) {
      const auth = await this.#authorization(req, false);
      const res = await this.#sendWithRetries(req, auth);
      if (res.status === 401 && !authRetried && this.#replayable(req.body)) {
        const challenge = this.#learnChallenge(req.registry, res.headers);
        await res.body.dump().catch(() => {});
        if (challenge) {
          authRetried = true;
          const scopes = [...req.scopes];
          const asked = challenge.params.scope;
          if (asked !== undefined) for (const s of asked.split(' ')) if (!scopes.includes(s)) scopes.push(s);
          if ((await this.#authorization({ ...req, scopes }, true)) !== undefined) {
            if (scopes.length !== req.scopes.length) req = { ...req, scopes };
            continue;
          }
        }
        throw new UnauthenticatedError(
          `${req.what}: ${req.method} ${this.#display(req)} → 401: the registry requires credentials`,
          {
            details: { status: 401, method: req.method, url: this.#display(req) },
            hint: `log in with \`ocikit login ${req.registry}\``,
          },
        );
      }
      const expected = req.expect ?? [];
      if (
        expected.includes(res.status) ||
        (res.status >= 200 && res.status < 300 && req.expect === undefined)
      ) {
        return res;
      }
      const text = await readBody(res.body, MAX_ERROR_BODY, req.what)
        .then((b) => b.toString('utf8'))
        .catch(() => '');
      throw responseError(res.status, text, { method: req.method, url: this.#display(req), what: req.what });
    }
  }

  #replayable(body: RequestBody | undefined): boolean {
    return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
  }

  #display(req: RegistryRequest): string {
    return `${this.endpoint(req.registry).origin}${req.path.split('?')[0]}`;
  }

  async #sendWithRetries(req: RegistryRequest, auth: string | undefined): Promise<RegistryResponse> {
    const retries = this.#replayable(req.body) ? (this.#options.retries ?? 4) : 0;
    const base = this.#options.retryDelay ?? 200;
    const max = this.#options.maxRetryDelay ?? 30_000;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(req.signal);
      let res: RegistryResponse | undefined;
      try {
        res = await this.#sendFollowing(req, auth, attempt);
      } catch (e) {
        if (isOcikitError(e) || !isRetryableNetworkError(e) || attempt >= retries) {
          if (req.signal?.aborted)
            throw new AbortedError(`${req.what}: aborted`, { cause: req.signal.reason });
          if (isOcikitError(e)) throw e;
          throw this.#networkError(req, e, attempt);
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

  #networkError(req: RegistryRequest, e: unknown, attempt: number): UnavailableError {
    const reason = (e as { code?: string }).code ?? (e as Error).message;
    return new UnavailableError(
      `${req.what}: cannot reach ${req.registry} (${reason})${attempt > 0 ? ` after ${attempt + 1} tries` : ''}`,
      {
        cause: e,
        details: {
          registry: req.registry,
          method: req.method,
          url: this.#display(req),
          attempts: attempt + 1,
        },
        hint: 'check that the registry is up and the address is right; for a plain-HTTP registry add --plain-http',
      },
    );
  }

  async #sendFollowing(
    req: RegistryRequest,
    auth: string | undefined,
    attempt: number,
  ): Promise<RegistryResponse> {
    const client = await this.#getClient();
    const origin = this.endpoint(req.registry);
    let url = new URL(req.path, origin);
    let method = req.method;
    for (let hops = 0; ; hops++) {
      const headers: Record<string, string> = { ...req.headers };
      if (this.#options.userAgent) headers['user-agent'] = this.#options.userAgent;
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
        this.#report({
          method,
          url: `${url.origin}${url.pathname}`,
          status: undefined,
          attempt,
          ms: Date.now() - started,
          error: (e as Error).message,
        });
        throw e;
      }
      this.#report({
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
          details: { url: this.#display(req) },
        });
      }
      await data.body.dump().catch(() => {});
      url = new URL(location, url);
      if (data.statusCode === 303) method = 'GET';
    }
  }

  #report(event: RequestEvent): void {
    try {
      this.#options.onRequest?.(event);
    } catch {
      // a logging callback must not break a transfer
    }
  }

  #learnChallenge(registry: string, headers: RegistryResponse['headers']): AuthChallenge | undefined {
    const raw = headers['www-authenticate'];
    const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    let chosen: AuthChallenge | undefined;
    for (const v of values) {
      let parsed: AuthChallenge[];
      try {
        parsed = parseWwwAuthenticate(v);
      } catch {
        continue;
      }
      chosen =
        parsed.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined) ??
        parsed.find((c) => c.scheme === 'basic') ??
        chosen;
    }
    if (chosen) this.#challenges.set(registry, chosen);
    return chosen;
  }

  /** The Authorization header for a request, fetching a token if needed; undefined when anonymous. */
  async #authorization(req: RegistryRequest, force: boolean): Promise<string | undefined> {
    const challenge = this.#challenges.get(req.registry);
    if (!challenge) return undefined;
    const cred = await this.#credentialFor(req.registry, req.signal ?? undefined);
    if (challenge.scheme === 'basic') {
      if (cred?.username === undefined || cred.password === undefined) return undefined;
      return basicAuth(cred);
    }
    if (cred?.registryToken !== undefined) return `Bearer ${cred.registryToken}`;
    const scopes = [...new Set(req.scopes)].sort();
    const key = `${req.registry}|${scopes.join(' ')}`;
    const cached = this.#tokens.get(key);
    if (!force && cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return `Bearer ${token.token}`;
      if (this.#tokens.get(key) !== cached) return this.#authorization(req, false);
    }
    // One token request per scope set at a time: concurrent requests share it.
    const pending = this.#fetchToken(req, challenge, scopes, cred);
    this.#tokens.set(key, pending);
    pending.catch(() => {
      if (this.#tokens.get(key) === pending) this.#tokens.delete(key);
    });
    return `Bearer ${(await pending).token}`;
  }

  async #fetchToken(
    req: RegistryRequest,
    challenge: AuthChallenge,
    scopes: readonly string[],
    cred: Credential | undefined,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (realm === undefined) {
      throw new UnauthenticatedError(
        `${req.what}: ${req.registry} asked for a Bearer token but named no realm`,
      );
    }
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new UnauthenticatedError(
        `${req.what}: ${req.registry} named an invalid token realm: ${truncate(realm, 80)}`,
      );
    }
    if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') {
      throw new UnauthenticatedError(`${req.what}: unsupported token realm scheme ${realmUrl.protocol}`);
    }
    const service = challenge.params.service;
    const what = `token for ${req.registry}`;
    let data: HttpResponse | undefined;
    try {
      if (cred?.identityToken !== undefined) {
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: cred.identityToken,
          client_id: 'ocikit',
        });
        if (service !== undefined) form.set('service', service);
        if (scopes.length > 0) form.set('scope', scopes.join(' '));
        data = await this.#tokenRequest(
          'POST',
          realmUrl,
          { 'content-type': 'application/x-www-form-urlencoded' },
          req.signal,
          form.toString(),
        );
        if (data.statusCode === 404 || data.statusCode === 405) {
          await data.body.dump().catch(() => {});
          data = undefined; // the issuer has no OAuth2 endpoint: fall back to the Docker token flow
        }
      }
      if (data === undefined) {
        const url = new URL(realmUrl);
        if (service !== undefined) url.searchParams.set('service', service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = {};
        if (cred?.username !== undefined && cred.password !== undefined) {
          url.searchParams.set('account', cred.username);
          headers.authorization = basicAuth(cred);
        }
        data = await this.#tokenRequest('GET', url, headers, req.signal);
      }
    } catch (e) {
      if (isOcikitError(e)) throw e;
      throw new UnavailableError(
        `${what}: cannot reach the token service at ${realmUrl.origin}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    const text = (await readBody(data.body, MAX_TOKEN_BODY, what)).toString('utf8');
    if (data.statusCode === 401 || data.statusCode === 403) {
      throw new UnauthenticatedError(
        `${what}: the token service at ${realmUrl.origin} refused the credentials (${data.statusCode})`,
        { details: { status: data.statusCode }, hint: `log in again with \`ocikit login ${req.registry}\`` },
      );
    }
    if (data.statusCode !== 200) {
      throw responseError(data.statusCode, text, {
        method: 'GET',
        url: `${realmUrl.origin}${realmUrl.pathname}`,
        what,
      });
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new UnauthenticatedError(`${what}: the token service answered with something that is not JSON`);
    }
    const token = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new UnauthenticatedError(`${what}: the token service's answer holds no token`);
    }
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    const issued = typeof parsed.issued_at === 'string' ? Date.parse(parsed.issued_at) : Number.NaN;
    const start = Number.isNaN(issued) || issued > Date.now() ? Date.now() : issued;
    // Renew a little early so a token never expires in flight.
    return { token, expiresAt: start + expiresIn * 1000 - Math.min(10_000, (expiresIn * 1000) / 4) };
  }

  /** One request to a token service (never retried: a refused credential must not be resent). */
  async #tokenRequest(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    body?: string,
  ): Promise<HttpResponse> {
    const client = await this.#getClient();
    const started = Date.now();
    const data = await client.request(url, {
      method,
      headers,
      body,
      ...(signal ? { signal } : {}),
    });
    this.#report({
      method,
      url: `${url.origin}${url.pathname}`,
      status: data.statusCode,
      attempt: 0,
      ms: Date.now() - started,
    });
    return data;
  }

  /**
   * Asks a Bearer token service for an identity (refresh) token with username and password, as
   * `docker login` does with `offline_token=true`; undefined when the registry uses Basic auth or
   * the service gives none. Verifies the credentials either way (UnauthenticatedError when wrong).
   */
  async login(
    registry: string,
    credential: Credential,
    options: { signal?: AbortSignal } = {},
  ): Promise<string | undefined> {
    const req: RegistryRequest = {
      registry,
      method: 'GET',
      path: '/v2/',
      scopes: [],
      what: `login to ${registry}`,
      expect: [200, 401],
      signal: options.signal,
    };
    const first = await this.#sendWithRetries(req, undefined);
    await first.body.dump().catch(() => {});
    if (first.status === 200) return undefined;
    const challenge = this.#learnChallenge(registry, first.headers);
    if (!challenge)
      throw new UnauthenticatedError(`login to ${registry}: the registry answered 401 without a challenge`);
    if (challenge.scheme === 'basic') {
      const res = await this.#sendWithRetries(req, basicAuth(credential));
      await res.body.dump().catch(() => {});
      if (res.status !== 200) {
        throw new UnauthenticatedError(
          `login to ${registry}: the registry refused the credentials (${res.status})`,
          {
            details: { status: res.status },
          },
        );
      }
      return undefined;
    }
    const realm = challenge.params.realm;
    if (realm === undefined)
      throw new UnauthenticatedError(`login to ${registry}: the Bearer challenge names no realm`);
    const url = new URL(realm);
    if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('offline_token', 'true');
    url.searchParams.set('client_id', 'ocikit');
    url.searchParams.set('account', credential.username ?? '');
    const data = await this.#tokenRequest(
      'GET',
      url,
      { authorization: basicAuth(credential) },
      options.signal,
    );
    const text = (await readBody(data.body, MAX_TOKEN_BODY, `login to ${registry}`)).toString('utf8');
    if (data.statusCode !== 200) {
      throw new UnauthenticatedError(
        `login to ${registry}: the token service refused the credentials (${data.statusCode})`,
        {
          details: { status: data.statusCode },
        },
      );
    }
    try {
      const parsed = JSON.parse(text) as { refresh_token?: unknown };
      return typeof parsed.refresh_token === 'string' && parsed.refresh_token !== ''
        ? parsed.refresh_token
        : undefined;
    } catch {
      throw new UnauthenticatedError(
        `login to ${registry}: the token service answered with something that is not JSON`,
      );
    }
  }
}

/** The `Authorization` value for Basic auth. */
function basicAuth(cred: Credential): string {
  return `Basic ${Buffer.from(`${cred.username ?? ''}:${cred.password ?? ''}`).toString('base64')}`;
}
