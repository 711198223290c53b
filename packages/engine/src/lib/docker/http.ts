// The HTTP layer of the Docker-API drivers (docker, and podman on top): one keep-alive undici Pool
// per connection (unix socket or TCP, TLS with client certificates), requests with a signal each,
// JSON and JSON-stream bodies, hijacked (upgraded) connections for attach and exec, and every
// failure made a standard engine error. Credentials in headers (X-Registry-Auth) never reach an
// error or a log: errors are built from the status, the engine's message and the request's path.
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { type OcikitError, truncate } from '@ocikit/errors';
import type { Dispatcher, Pool } from 'undici';
import type { Operation } from '../contract.ts';
import { type EngineErrorReason, engineError } from '../errors.ts';
import { describe, reasonFor, type Subject } from './errors.ts';

type Undici = Pick<typeof import('undici'), 'Pool'>;
let loaded: Undici | undefined;
// loaded on the first connection, through require (the CLI's bundle keeps undici outside and runs as
// a vm.Script, no import()): a program that only imports @ocikit/engine — the CLI on the local
// engine — does not pay for undici. And only the pool and its request API, as undici's own index
// wires them (the API mixed into Dispatcher.prototype), not the index's proxies, mocks, fetch and
// cache: 63 ms to load instead of 182 ms, 5 MiB less (decision 122)
const undici = (): Undici => {
  if (!loaded) {
    const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
    const Dispatcher = require('undici/lib/dispatcher/dispatcher') as { prototype: object };
    Object.assign(Dispatcher.prototype, require('undici/lib/api') as object);
    loaded = { Pool: require('undici/lib/dispatcher/pool') as Undici['Pool'] };
  }
  return loaded;
};

/** Where an engine listens and how to reach it (see `resolveEngineAddress`). */
export interface HttpTarget {
  /** `http://localhost` for a unix socket, else `http(s)://host:port`. */
  origin: string;
  /** The unix socket's path, for `unix://` addresses. */
  socketPath?: string | undefined;
  /** TLS settings for `https` origins. */
  tls?: TlsSettings | undefined;
}

/** TLS for a TCP engine (`DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`'s `ca.pem`, `cert.pem`, `key.pem`). */
export interface TlsSettings {
  /** The CA certificate(s) that signed the engine's certificate (PEM). */
  ca?: string | Buffer | undefined;
  /** The client certificate (PEM). */
  cert?: string | Buffer | undefined;
  /** The client certificate's key (PEM). */
  key?: string | Buffer | undefined;
  /** Verify the engine's certificate (`DOCKER_TLS_VERIFY`); default true. */
  verify?: boolean | undefined;
}

/** Options of {@link EngineHttp}. */
export interface EngineHttpOptions {
  /** The driver's name, for errors (`docker`, `podman`). */
  engine: string;
  /** Milliseconds to establish a connection (default 5000). */
  connectTimeout?: number | undefined;
}

/** Query parameters: `undefined` ones are left out, arrays repeat the key. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** One request to the engine. */
export interface HttpRequest {
  /** `GET`, `POST`, `DELETE`, … */
  method: Dispatcher.HttpMethod;
  /** The path, API prefix included (`/v1.41/containers/json`). */
  path: string;
  /** Query parameters. */
  query?: Query | undefined;
  /** Extra headers (never put in errors). */
  headers?: Record<string, string> | undefined;
  /** A JSON body. */
  json?: unknown;
  /** A raw body, with its content type in `headers`. */
  body?: Uint8Array | AsyncIterable<Uint8Array> | undefined;
  /** Cancels the request (and the body read). */
  signal?: AbortSignal | undefined;
  /** The contract operation, for errors. */
  operation: Operation | 'connect';
  /** What the request is about, to map a bare 404/409. */
  subject?: Subject | undefined;
  /** The id or name the request is about, for error messages. */
  target?: string | undefined;
  /** Statuses that are not failures besides 2xx (Docker's 304 for start/stop that did nothing). */
  accept?: readonly number[] | undefined;
}

/** A response whose status was 2xx (or accepted); its body must be read or dumped. */
export interface HttpResponse {
  /** The HTTP status. */
  status: number;
  /** The response headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** The body: an async iterable of chunks with `text()`, `json()`, `dump()`. */
  body: Dispatcher.ResponseData['body'];
}

const unreachableCodes = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EACCES',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/**
 * An HTTP connection to a Docker-API engine: a keep-alive pool over the engine's socket, with
 * helpers for the body shapes the API uses. Every failure is a standard engine error (see
 * `engineError`); an aborted request rejects with the signal's reason so the `Engine` reports
 * `aborted` or `timeout`.
 */
export class EngineHttp {
  /** The driver's name, for errors. */
  readonly engine: string;
  /** Where it connects. */
  readonly target: HttpTarget;
  readonly #pool: Pool;
  #closed = false;

  constructor(target: HttpTarget, options: EngineHttpOptions) {
    this.engine = options.engine;
    this.target = target;
    const timeout = options.connectTimeout ?? 5000;
    const tls = target.tls;
    this.#pool = new (undici().Pool)(target.origin, {
      connect: {
        timeout,
        ...(target.socketPath === undefined ? {} : { socketPath: target.socketPath }),
        ...(tls === undefined
          ? {}
          : {
              ...(tls.ca === undefined ? {} : { ca: tls.ca }),
              ...(tls.cert === undefined ? {} : { cert: tls.cert }),
              ...(tls.key === undefined ? {} : { key: tls.key }),
              rejectUnauthorized: tls.verify !== false,
            }),
      },
      // signals bound every call; a quiet `logs -f`, `events` or `wait` must not time out here
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 10_000,
    });
  }

  /** Sends a request; a status that is not 2xx (or accepted) becomes a standard error. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    if (this.#closed) throw this.fail('engine-unreachable', req, { message: 'the connection is closed' });
    const { body, contentType } = bodyOf(req);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#pool.request({
        method: req.method,
        path: pathOf(req),
        headers: { ...(contentType ? { 'content-type': contentType } : {}), ...req.headers },
        body,
        signal: req.signal ?? null,
      });
    } catch (e) {
      throw this.transportError(e, req);
    }
    const { statusCode: status } = res;
    if ((status >= 200 && status < 300) || req.accept?.includes(status)) {
      return { status, headers: res.headers, body: res.body };
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      throw this.transportError(e, req);
    }
    throw this.statusError(status, text, req);
  }

  /** Sends a request and parses its JSON answer (a body that is not JSON is `bad-response`). */
  async json<T = unknown>(req: HttpRequest): Promise<T> {
    const res = await this.request(req);
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      throw this.transportError(e, req);
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw this.fail('bad-response', req, {
        message: `the engine's answer is not JSON: ${JSON.stringify(truncate(text, 80))}`,
        status: res.status,
        cause: e,
      });
    }
  }

  /** Sends a request whose answer carries nothing (204, 304), and drops the body. */
  async ok(req: HttpRequest): Promise<number> {
    const res = await this.request(req);
    try {
      await res.body.dump();
    } catch (e) {
      throw this.transportError(e, req);
    }
    return res.status;
  }

  /** The body's chunks as they come. */
  async *bytes(req: HttpRequest): AsyncGenerator<Uint8Array> {
    const res = await this.request(req);
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) yield chunk;
    } catch (e) {
      throw this.transportError(e, req);
    } finally {
      res.body.destroy();
    }
  }

  /**
   * The body as a stream of JSON values, one a line (Docker's pull/push/load progress, events).
   * A line that is not JSON is `bad-response`.
   */
  async *jsonLines(req: HttpRequest): AsyncGenerator<unknown> {
    const res = await this.request(req);
    yield* this.parseLines(res.body as AsyncIterable<Buffer>, req, res.body);
  }

  /** Splits a body into JSON values, one a line. */
  async *parseLines(
    body: AsyncIterable<Uint8Array>,
    req: HttpRequest,
    destroyable?: { destroy(): void },
  ): AsyncGenerator<unknown> {
    const decoder = new TextDecoder();
    let rest = '';
    const parse = (line: string): unknown => {
      try {
        return JSON.parse(line);
      } catch (e) {
        throw this.fail('bad-response', req, {
          message: `the engine sent a line that is not JSON: ${JSON.stringify(truncate(line, 80))}`,
          cause: e,
        });
      }
    };
    try {
      for await (const chunk of body) {
        rest += decoder.decode(chunk, { stream: true });
        let nl = rest.indexOf('\n');
        while (nl >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line) yield parse(line);
          nl = rest.indexOf('\n');
        }
      }
      rest += decoder.decode();
      if (rest.trim()) yield parse(rest.trim());
    } catch (e) {
      throw this.transportError(e, req);
    } finally {
      destroyable?.destroy();
    }
  }

  /**
   * Sends a request that hijacks the connection (`Connection: Upgrade`, `Upgrade: tcp`: Docker's
   * attach and exec start) and gives the raw socket. An ordinary answer is a standard error.
   */
  upgrade(req: HttpRequest): Promise<Duplex> {
    if (this.#closed) {
      return Promise.reject(this.fail('engine-unreachable', req, { message: 'the connection is closed' }));
    }
    const { body, contentType } = bodyOf(req);
    const signal = req.signal;
    return new Promise<Duplex>((resolve, reject) => {
      let status = 0;
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      let controllerRef: Dispatcher.DispatchController | undefined;
      const onAbort = () => controllerRef?.abort(signal?.reason as Error);
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (controller) => {
          controllerRef = controller;
          if (signal?.aborted) controller.abort(signal.reason as Error);
        },
        onRequestUpgrade: (_controller, statusCode, _headers, socket) => {
          settle(() => {
            if (statusCode === 101) resolve(socket);
            else {
              socket.destroy();
              reject(this.fail('bad-response', req, { message: `upgrade answered HTTP ${statusCode}` }));
            }
          });
        },
        onResponseStart: (_controller, statusCode) => {
          status = statusCode;
        },
        onResponseData: (_controller, chunk) => {
          if (size < 65_536) chunks.push(chunk);
          size += chunk.length;
        },
        onResponseEnd: () => {
          const text = Buffer.concat(chunks).toString('utf8');
          settle(() =>
            reject(
              status >= 200 && status < 300
                ? this.fail('bad-response', req, {
                    message: `the engine did not hijack the connection (HTTP ${status})`,
                    status,
                  })
                : this.statusError(status, text, req),
            ),
          );
        },
        onResponseError: (_controller, err) => {
          settle(() => reject(this.transportError(err, req)));
        },
      };
      try {
        this.#pool.dispatch(
          {
            method: req.method,
            path: pathOf(req),
            headers: { ...(contentType ? { 'content-type': contentType } : {}), ...req.headers },
            body,
            upgrade: 'tcp',
          },
          handler,
        );
      } catch (e) {
        settle(() => reject(this.transportError(e, req)));
      }
    });
  }

  /** A standard error for this engine and request. */
  fail(
    reason: EngineErrorReason,
    req: Pick<HttpRequest, 'operation'>,
    facts: {
      message: string;
      status?: number | undefined;
      engineMessage?: string | undefined;
      cause?: unknown;
    },
  ): OcikitError {
    return engineError(reason, {
      engine: this.engine,
      operation: req.operation,
      message: facts.message,
      status: facts.status,
      engineMessage: facts.engineMessage,
      cause: facts.cause,
    });
  }

  /** The standard error for an answer with a failure status and its body. */
  statusError(status: number, text: string, req: HttpRequest): OcikitError {
    let engineMessage: string | undefined;
    try {
      const parsed = JSON.parse(text) as { message?: unknown; cause?: unknown };
      if (typeof parsed?.message === 'string') engineMessage = parsed.message;
    } catch {
      // not JSON: below
    }
    if (engineMessage === undefined) {
      const plain = text.trim();
      // Docker and podman always answer failures in JSON; HTML or nothing is not their protocol
      if (!plain || /^</.test(plain) || status < 400) {
        return this.fail('bad-response', req, {
          message: `HTTP ${status} with ${plain ? `a body that is not the engine's JSON: ${JSON.stringify(truncate(plain, 80))}` : 'no body'}`,
          status,
        });
      }
      engineMessage = truncate(plain, 500);
    }
    return this.messageError(status, engineMessage, req);
  }

  /** The standard error for an engine message (from a status answer or a stream's error line). */
  messageError(
    status: number,
    engineMessage: string,
    req: HttpRequest,
    fallback?: EngineErrorReason,
  ): OcikitError {
    let reason = reasonFor(status, engineMessage, req.subject, req.operation);
    if (reason === 'engine-error' && fallback) reason = fallback;
    return this.fail(reason, req, {
      message: describe(reason, req.target, status, engineMessage),
      status: status || undefined,
      engineMessage,
    });
  }

  /** The standard error for a failure below HTTP (socket, TLS, parser), or the signal's reason. */
  transportError(e: unknown, req: HttpRequest): unknown {
    if (req.signal?.aborted) return req.signal.reason ?? e;
    const err = e as { code?: string; name?: string; message?: string } | undefined;
    if (err && typeof err === 'object' && 'details' in err) return e; // already standard
    const code = err?.code ?? '';
    const message = err?.message ?? String(e);
    const where = this.target.socketPath ?? this.target.origin;
    if (unreachableCodes.has(code) || /^ERR_TLS|CERT|SELF_SIGNED|^ERR_SSL/.test(code)) {
      return this.fail('engine-unreachable', req, {
        message: `cannot reach the engine at ${where}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`,
        cause: e,
      });
    }
    if (
      code.startsWith('HPE_') ||
      err?.name === 'HTTPParserError' ||
      code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
    ) {
      return this.fail('bad-response', req, {
        message: `the engine at ${where} does not speak HTTP as expected: ${message}`,
        cause: e,
      });
    }
    if (err?.name === 'AbortError' || code === 'UND_ERR_ABORTED') return e;
    return this.fail('engine-error', req, { message: `request failed: ${message}`, cause: e });
  }

  /** Closes the pool: later requests fail with `engine-unreachable`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.destroy();
  }
}

function pathOf(req: HttpRequest): string {
  if (!req.query) return req.path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v as readonly string[]) q.append(k, item);
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${req.path}?${s}` : req.path;
}

function bodyOf(req: HttpRequest): { body: string | Uint8Array | Readable | null; contentType?: string } {
  if (req.json !== undefined) return { body: JSON.stringify(req.json), contentType: 'application/json' };
  if (req.body === undefined) return { body: null };
  if (req.body instanceof Uint8Array) return { body: req.body };
  return { body: Readable.from(req.body, { objectMode: false }) };
}

/** Base64url (padded) of a JSON value, as Docker's `X-Registry-Auth` header wants it. */
export function base64urlJson(value: unknown): string {
  // padded, as Go's base64.URLEncoding (podman refuses the unpadded form with "unexpected EOF")
  return Buffer.from(JSON.stringify(value)).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}
