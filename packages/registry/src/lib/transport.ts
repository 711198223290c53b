import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from '@ocikit/errors';
import { Authenticator, basicAuth, type CredentialSource } from './auth.ts';
import { certsFor } from './certs-d.ts';
import type { Credential } from './credentials.ts';
import { responseError } from './errors.ts';
import { type ConnectTls, HttpClient, type HttpRequestInit, type HttpResponse } from './http.ts';
import { ProxyResolver, type ProxySettings, proxySettingsFromEnv } from './proxy.ts';
import {
  isReplayable,
  type RegistryRequest,
  type RegistryResponse,
  type RequestEvent,
  readBody,
} from './request.ts';
import { requestFollowingRedirects, sendWithRetries } from './retry.ts';

export type { CredentialSource } from './auth.ts';
export type { RegistryRequest, RegistryResponse, RequestBody, RequestEvent } from './request.ts';
export { header, readBody } from './request.ts';
export { isRetryableNetworkError, retryAfterMs } from './retry.ts';

/** How the client talks to registries. */
export interface TransportOptions {
  /** Credentials, or a lookup of them per registry host (default: none; the CLI passes Docker's and Podman's files). */
  credentials?: CredentialSource;
  /** Use plain HTTP: for every registry, or those the function picks (loopback registries always do). */
  plainHttp?: boolean | ((registry: string) => boolean);
  /**
   * Skip TLS certificate verification: for every registry, or those the function picks
   * (registries.conf `insecure`: for those, plain HTTP is also tried when HTTPS fails at the TLS
   * level or is refused, as containers/image does).
   */
  insecure?: boolean | ((registry: string) => boolean | Promise<boolean>);
  /** A PEM file of extra trusted CAs, added to the system's and Node's. */
  caFile?: string;
  /**
   * Per-registry TLS directories: roots holding `HOST[:PORT]/` with `*.crt` CAs and `*.cert` +
   * `*.key` client certificates (default `~/.config/containers/certs.d`, `/etc/containers/certs.d`,
   * `/etc/docker/certs.d`; the first that has the registry's directory is used).
   */
  certsDirs?: readonly string[];
  /** One certificates directory for every registry, as podman's `--cert-dir` (`certsDirs` is then not read). */
  certDir?: string;
  /**
   * HTTP proxies, by Go's rules (HTTPS_PROXY for https, HTTP_PROXY for http, NO_PROXY exclusions,
   * never loopback): default from `process.env`; `false` for none. Credentials are never sent to a
   * proxy: HTTPS goes through a CONNECT tunnel.
   */
  proxy?: ProxySettings | false;
  /** `undici` sends every request through undici instead of ocikit's own HTTP/1.1 client (for measuring, decision 060). */
  engine?: 'builtin' | 'undici';
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

const MAX_ERROR_BODY = 64 * 1024;

/** TLS alerts by which a server refuses a missing or unacceptable client certificate (TLS 1.3 and 1.2). */
const CLIENT_CERT_ALERT =
  /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE)|certificate required/i;

/** Node's bundled CAs and the system's (node:tls loaded only when a CA is added: ~13 ms of start-up). */
function systemCas(): string[] {
  const { getCACertificates } = process.getBuiltinModule('node:tls');
  return [...getCACertificates('default'), ...getCACertificates('system')];
}

/** True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port. */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(1, registry.indexOf(']'))
    : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The HTTP layer shared by every repository of a client: keep-alive connection pools per
 * registry, TLS, retries with backoff and jitter (honouring `Retry-After`), redirects without
 * credentials, and registry authentication (Basic, and Bearer tokens per scope set, cached until
 * they expire, refreshed with an identity token where one is known).
 */
export class Transport {
  readonly #options: TransportOptions;
  #client: Promise<HttpClient> | undefined;
  readonly #auth: Authenticator;
  #proxies: ProxyResolver | undefined;
  /** TLS per host (certs.d, CA file, insecure), undefined where the defaults apply. */
  readonly #tls = new Map<string, Promise<ConnectTls | undefined>>();
  /** Insecure registries found to speak plain HTTP (their HTTPS attempt failed at the TLS level). */
  readonly #plainFallback = new Set<string>();
  /** The system's and Node's CAs plus the CA file, read once. */
  #baseCa: Promise<string[] | undefined> | undefined;

  constructor(options: TransportOptions = {}) {
    this.#options = options;
    this.#auth = new Authenticator(options.credentials, (method, url, headers, signal, body) =>
      this.#tokenRequest(method, url, headers, signal, body),
    );
  }

  /** The base URL of a registry host: `https://host` (or `http://` for loopback and plain-HTTP registries). */
  endpoint(registry: string): URL {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    const plain = this.#options.plainHttp;
    const http =
      isLoopback(registry) ||
      plain === true ||
      (typeof plain === 'function' && plain(registry)) ||
      this.#plainFallback.has(registry);
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
      const ca = await this.#caWithFile();
      const insecure = this.#options.insecure === true;
      return new HttpClient({
        connections: this.#options.connections ?? 16,
        timeout: this.#options.timeout ?? 60_000,
        ...(ca ? { ca } : {}),
        ...(insecure ? { insecure } : {}),
        ...(this.#options.engine ? { engine: this.#options.engine } : {}),
      });
    })();
    return this.#client;
  }

  /** Node's and the system's CAs plus `caFile`, or undefined without a CA file. */
  #caWithFile(): Promise<string[] | undefined> {
    this.#baseCa ??= (async () => {
      const { caFile } = this.#options;
      if (caFile === undefined) return undefined;
      let extra: string;
      try {
        extra = await readFile(caFile, 'utf8');
      } catch (e) {
        throw new InvalidArgumentError(`cannot read the CA file ${caFile}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      return [...systemCas(), extra];
    })();
    return this.#baseCa;
  }

  /** TLS for a host: its certs.d directory and `insecure` setting; undefined where the client's defaults do. */
  #tlsFor(url: URL): Promise<ConnectTls | undefined> {
    if (url.protocol !== 'https:') return Promise.resolve(undefined);
    // certs.d is keyed by the name users write: docker.io, not the host it is served from
    const host = url.host === 'registry-1.docker.io' ? 'docker.io' : url.host;
    let p = this.#tls.get(host);
    if (!p) {
      p = (async () => {
        const { insecure, certDir, certsDirs } = this.#options;
        const skip = typeof insecure === 'function' && (await insecure(host));
        const certs = await certsFor(host, { certDir, certsDirs });
        if (!skip && (certs === undefined || (certs.ca.length === 0 && certs.cert.length === 0)))
          return undefined;
        const base = await this.#caWithFile();
        return {
          ...(certs?.ca.length ? { ca: [...(base ?? systemCas()), ...certs.ca] } : {}),
          ...(certs?.cert.length ? { cert: certs.cert, key: certs.key } : {}),
          ...(skip ? { insecure: true } : {}),
        };
      })();
      this.#tls.set(host, p);
    }
    return p;
  }

  #proxyFor(url: URL): URL | undefined {
    const settings = this.#options.proxy;
    if (settings === false) return undefined;
    this.#proxies ??= new ProxyResolver(settings ?? proxySettingsFromEnv(process.env));
    return this.#proxies.proxyFor(url);
  }

  /** The HTTP client with each request's proxy and TLS settings filled in. */
  #routed(client: HttpClient): Pick<HttpClient, 'request'> {
    return {
      request: async (url: URL, init: HttpRequestInit) => {
        const proxy = this.#proxyFor(url);
        const tls = await this.#tlsFor(url);
        return client.request(url, { ...init, ...(proxy ? { proxy } : {}), ...(tls ? { tls } : {}) });
      },
    };
  }

  /**
   * Sends a request: authenticates, retries transient failures, follows redirects (sending no
   * credentials to another host) and returns the response when its status is expected; any
   * other status becomes a typed error built from the registry's error body.
   */
  async send(req: RegistryRequest): Promise<RegistryResponse> {
    let authRetried = false;
    for (;;) {
      const auth = await this.#auth.authorization(req, false);
      const res = await this.#sendWithRetries(req, auth);
      if (res.status === 401 && !authRetried && isReplayable(req.body)) {
        const challenge = this.#auth.learnChallenge(req.registry, res.headers);
        await res.body.dump().catch(() => {});
        if (challenge) {
          authRetried = true;
          const scopes = [...req.scopes];
          const asked = challenge.params.scope;
          if (asked !== undefined) for (const s of asked.split(' ')) if (!scopes.includes(s)) scopes.push(s);
          if ((await this.#auth.authorization({ ...req, scopes }, true)) !== undefined) {
            if (scopes.length !== req.scopes.length) req = { ...req, scopes };
            continue;
          }
        }
        throw new UnauthenticatedError(
          `${req.what}: ${req.method} ${this.#display(req)} → 401: the registry requires credentials`,
          {
            details: {
              reason: 'credentials-required',
              registry: req.registry,
              status: 401,
              method: req.method,
              url: this.#display(req),
            },
            hint: 'give credentials for this registry (the `credentials` option, or a Docker config)',
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

  #display(req: RegistryRequest): string {
    return `${this.endpoint(req.registry).origin}${req.path.split('?')[0]}`;
  }

  #sendWithRetries(req: RegistryRequest, auth: string | undefined): Promise<RegistryResponse> {
    return sendWithRetries(
      req,
      {
        retries: this.#options.retries ?? 4,
        retryDelay: this.#options.retryDelay ?? 200,
        maxRetryDelay: this.#options.maxRetryDelay ?? 30_000,
      },
      async (attempt) => {
        const once = async () =>
          requestFollowingRedirects(req, {
            client: this.#routed(await this.#getClient()),
            origin: this.endpoint(req.registry),
            auth,
            attempt,
            userAgent: this.#options.userAgent,
            display: this.#display(req),
            report: (event) => this.#report(event),
          });
        try {
          return await once();
        } catch (e) {
          if (!(await this.#fallsBackToHttp(req.registry, e))) throw e;
          // registries.conf `insecure`: HTTPS failed, plain HTTP is allowed (as containers/image does)
          this.#plainFallback.add(req.registry);
          return once();
        }
      },
      (e, attempt) => this.#networkError(req, e, attempt),
    );
  }

  /** An insecure registry (by the `insecure` function) whose HTTPS failed at the TLS level or was refused. */
  async #fallsBackToHttp(registry: string, e: unknown): Promise<boolean> {
    const insecure = this.#options.insecure;
    if (typeof insecure !== 'function' || this.endpoint(registry).protocol !== 'https:') return false;
    const code = String((e as { code?: unknown }).code ?? '');
    if (!/^(EPROTO|ECONNREFUSED|ERR_SSL_)/.test(code)) return false;
    return insecure(registry);
  }

  #networkError(req: RegistryRequest, e: unknown, attempt: number): UnavailableError | UnauthenticatedError {
    const reason = (e as { code?: string }).code ?? (e as Error).message;
    if (CLIENT_CERT_ALERT.test(reason)) {
      return new UnauthenticatedError(
        `${req.what}: ${req.registry} requires a TLS client certificate it accepts (${reason})`,
        {
          cause: e,
          details: {
            reason: 'client-certificate-required',
            registry: req.registry,
            url: this.#display(req),
            tlsError: reason,
          },
          hint: `put the client certificate and key as NAME.cert and NAME.key in /etc/containers/certs.d/${req.registry}/ (or ~/.config/containers/certs.d/${req.registry}/, or the certDir option)`,
        },
      );
    }
    return new UnavailableError(
      `${req.what}: cannot reach ${req.registry} (${reason})${attempt > 0 ? ` after ${attempt + 1} tries` : ''}`,
      {
        cause: e,
        details: {
          reason: 'unreachable',
          registry: req.registry,
          method: req.method,
          url: this.#display(req),
          attempts: attempt + 1,
        },
        // after a plain-HTTP attempt the plainHttp option cannot help
        hint:
          this.endpoint(req.registry).protocol === 'http:'
            ? 'check that the registry is up and the address is right (it was tried over plain HTTP)'
            : 'check that the registry is up and the address is right, and whether it speaks plain HTTP (the `plainHttp` option)',
      },
    );
  }

  #report(event: RequestEvent): void {
    try {
      this.#options.onRequest?.(event);
    } catch {
      // a logging callback must not break a transfer
    }
  }

  /** One request to a token service (never retried: a refused credential must not be resent). */
  async #tokenRequest(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    body?: string,
  ): Promise<HttpResponse> {
    const client = this.#routed(await this.#getClient());
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
    const challenge = this.#auth.learnChallenge(registry, first.headers);
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
    return this.#auth.identityToken(registry, challenge, credential, options.signal);
  }
}
