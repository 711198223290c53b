// The HTTP/1.1 client under the transport: GET and HEAD on connections of our own (http1.ts,
// decision 054); everything with a body on Node's own `node:http`/`node:https` with keep-alive
// agents. It replaced undici, whose 1.4 MB of JavaScript and WebAssembly parser cost ~50 ms to load
// and ~25 ms to parse a 49 MB pull in every CLI process; Node's client is in its binary (decision 053).
import type { ClientRequest, Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import {
  type ConnectTls,
  codedError,
  type HttpClientOptions,
  type HttpRequestInit,
  type HttpResponse,
  MAX_DUMP,
  type ResponseBody,
} from './http-types.ts';
import { Http1Pool } from './http1.ts';
import { UndiciClient } from './undici-client.ts';

// node:http loads with the first request that has a body (GET and HEAD do not need it: ~3 ms)
const http = () => process.getBuiltinModule('node:http');
// node:https (and TLS with it, ~13 ms) loads on the first https request, not for plain-HTTP registries
const https = () => process.getBuiltinModule('node:https');

export type {
  ConnectTls,
  HttpBody,
  HttpClientOptions,
  HttpRequestInit,
  HttpResponse,
  ResponseBody,
} from './http-types.ts';

function bodyOf(res: IncomingMessage): ResponseBody {
  return {
    [Symbol.asyncIterator]: () => res[Symbol.asyncIterator](),
    destroy: () => {
      res.destroy();
    },
    dump: () =>
      new Promise<void>((resolve) => {
        const length = Number(res.headers['content-length']);
        if (res.readableEnded || res.destroyed) return resolve();
        // a response already parsed whole still has to be read to its end to free the connection
        if (!res.complete && !(length <= MAX_DUMP)) {
          res.destroy();
          return resolve();
        }
        res.once('end', resolve);
        res.once('error', () => resolve());
        res.once('close', resolve);
        res.resume();
      }),
  };
}

function headersOf(res: IncomingMessage): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    if (values === undefined) continue;
    out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}

/**
 * Writes a streamed body, waiting for `drain` when the socket is full: a plain loop, where
 * `Readable.from(body).pipe(req)` added a stream's buffering and ticks per chunk. The body's own
 * failure (a digest that does not match, say) is the request's error.
 */
async function sendBody(
  req: ClientRequest,
  body: AsyncIterable<Uint8Array>,
  fail: (e: unknown) => void,
): Promise<void> {
  const chunks = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      if (req.destroyed) {
        await chunks.return?.();
        return;
      }
      if (!req.write(next.value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            req.off('drain', go);
            req.off('close', go);
            resolve();
          };
          req.on('drain', go);
          req.on('close', go);
        });
      }
    }
    req.end();
  } catch (e) {
    fail(e);
    req.destroy(e as Error);
  }
}

/** Keep-alive HTTP/1.1 connections to any number of hosts, plain or TLS. */
export class HttpClient {
  readonly #options: HttpClientOptions;
  #http: HttpAgent | undefined;
  #https: HttpsAgent | undefined;
  /** GET and HEAD: connections of our own that read bodies into large slabs (decision 054). */
  readonly #get: Http1Pool;
  /** Proxied requests (and all of them with `engine: 'undici'`), loaded on first use. */
  #undici: UndiciClient | undefined;

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#get = new Http1Pool(options);
  }

  #undiciClient(): UndiciClient {
    this.#undici ??= new UndiciClient(this.#options);
    return this.#undici;
  }

  /** Node's per-request TLS options (its agent pools connections by them). */
  #tlsRequestOptions(tls: ConnectTls | undefined) {
    if (tls === undefined) return {};
    return {
      ...(tls.ca ? { ca: [...tls.ca] } : {}),
      ...(tls.cert?.length ? { cert: [...tls.cert], key: [...(tls.key ?? [])] } : {}),
      ...(tls.insecure !== undefined ? { rejectUnauthorized: !tls.insecure } : {}),
    };
  }

  #agentOptions() {
    return { keepAlive: true, maxSockets: this.#options.connections, scheduling: 'lifo' as const };
  }

  #httpAgent(): HttpAgent {
    this.#http ??= new (http().Agent)(this.#agentOptions());
    return this.#http;
  }

  #httpsAgent(): HttpsAgent {
    this.#https ??= new (https().Agent)({
      ...this.#agentOptions(),
      ...(this.#options.ca ? { ca: this.#options.ca } : {}),
      ...(this.#options.insecure ? { rejectUnauthorized: false } : {}),
    });
    return this.#https;
  }

  /**
   * Sends one request and resolves once the response headers arrive. Rejects with the socket's
   * error (`code` ECONNRESET, ECONNREFUSED, ETIMEDOUT, …), the body stream's own error, or an
   * AbortError when `signal` fires.
   */
  request(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
    if (init.proxy !== undefined || this.#options.engine === 'undici') {
      return this.#undiciClient().request(url, init);
    }
    if ((init.method === 'GET' || init.method === 'HEAD') && init.body === undefined) {
      return this.#get.request(url, {
        method: init.method,
        headers: init.headers,
        signal: init.signal,
        tls: init.tls,
      });
    }
    const tls = url.protocol === 'https:';
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      let req: ClientRequest;
      try {
        req = (tls ? https() : http()).request(url, {
          method: init.method,
          headers: init.headers,
          agent: tls ? this.#httpsAgent() : this.#httpAgent(),
          ...(tls ? this.#tlsRequestOptions(init.tls) : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        });
      } catch (e) {
        fail(e);
        return;
      }
      // No progress for `timeout` ms — connecting, waiting for headers, or between body bytes: the
      // request fails, or the body being read does.
      let response: IncomingMessage | undefined;
      req.setTimeout(this.#options.timeout, () => {
        const e = codedError(`no progress for ${this.#options.timeout} ms`, 'ETIMEDOUT');
        if (response) response.destroy(e);
        else req.destroy(e);
      });
      req.on('error', fail); // kept: a socket can fail again after the response began
      req.once('response', (res) => {
        settled = true;
        response = res;
        res.on('error', () => {}); // surfaced to whoever reads the body
        // Node frees the connection only once a response has ended, which takes reading it: one with
        // no body (HEAD, 204, 304, length 0) is read here, as no caller will
        const length = res.headers['content-length'];
        if (init.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 || length === '0')
          res.resume();
        resolve({ statusCode: res.statusCode ?? 0, headers: headersOf(res), body: bodyOf(res) });
      });
      const body = init.body;
      if (body === undefined) req.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else void sendBody(req, body, fail);
    });
  }

  /** Closes every connection. */
  close(): void {
    this.#get.close();
    this.#undici?.close();
    this.#http?.destroy();
    this.#https?.destroy();
  }
}
