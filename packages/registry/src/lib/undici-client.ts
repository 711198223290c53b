// Requests through undici: the ones that go through an HTTP proxy (CONNECT tunnels for https, plain
// forwarding for http), and every request when the transport is told to use undici throughout (the
// benchmark's switch, decision 060). undici is loaded on first use only: a process that talks to
// its registries directly never pays its ~1.4 MB of JavaScript (decision 053).
import type { Dispatcher } from 'undici';
import {
  type ConnectTls,
  codedError,
  type HttpClientOptions,
  type HttpRequestInit,
  type HttpResponse,
  MAX_DUMP,
} from './http-types.ts';

type Undici = typeof import('undici');
let loaded: Undici | undefined;
// through require, as the CLI's bundle keeps undici outside and runs as a vm.Script (no import())
const undici = (): Undici => {
  loaded ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('undici') as Undici;
  return loaded;
};

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** undici's errors with the Node codes the transport's retry rules read (the original as `cause`). */
function translate(e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return e;
  if (TIMEOUT_CODES.has(code))
    return Object.assign(codedError((e as Error).message, 'ETIMEDOUT'), { cause: e });
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') {
    const inner = (e as { cause?: { code?: unknown } }).cause?.code;
    return Object.assign(codedError((e as Error).message, typeof inner === 'string' ? inner : 'ECONNRESET'), {
      cause: e,
    });
  }
  return e;
}

function tlsOptions(url: URL, tls: ConnectTls | undefined, defaults: HttpClientOptions) {
  const ca = tls?.ca ?? defaults.ca;
  const insecure = tls?.insecure ?? defaults.insecure;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    ...(ca ? { ca: [...ca] } : {}),
    ...(tls?.cert?.length ? { cert: [...tls.cert], key: [...(tls.key ?? [])] } : {}),
    ...(insecure ? { rejectUnauthorized: false } : {}),
    ...(process.getBuiltinModule('node:net').isIP(host) ? {} : { servername: host }),
  };
}

/** HTTP/1.1 through undici, directly or through a proxy, with the same contract as `HttpClient`. */
export class UndiciClient {
  readonly #options: HttpClientOptions;
  readonly #dispatchers = new Map<string, Dispatcher>();
  readonly #tlsIds = new WeakMap<ConnectTls, number>();
  #nextTlsId = 1;

  constructor(options: HttpClientOptions) {
    this.#options = options;
  }

  #tlsId(tls: ConnectTls | undefined): number {
    if (tls === undefined) return 0;
    let id = this.#tlsIds.get(tls);
    if (id === undefined) {
      id = this.#nextTlsId++;
      this.#tlsIds.set(tls, id);
    }
    return id;
  }

  async #dispatcher(url: URL, tls: ConnectTls | undefined, proxy: URL | undefined): Promise<Dispatcher> {
    const key = `${proxy?.href ?? 'direct'} ${url.origin} ${this.#tlsId(tls)}`;
    let d = this.#dispatchers.get(key);
    if (d) return d;
    const { Agent, ProxyAgent } = undici();
    const common = {
      connections: this.#options.connections,
      headersTimeout: this.#options.timeout,
      bodyTimeout: this.#options.timeout,
      connectTimeout: this.#options.timeout,
    };
    const tlsOpts = url.protocol === 'https:' ? tlsOptions(url, tls, this.#options) : {};
    d = proxy
      ? new ProxyAgent({ ...common, uri: proxy.href, requestTls: tlsOpts })
      : new Agent({ ...common, connect: tlsOpts });
    this.#dispatchers.set(key, d);
    return d;
  }

  /** Sends one request; resolves with the response head, its body to be read. */
  async request(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
    const dispatcher = await this.#dispatcher(url, init.tls, init.proxy);
    let res: Dispatcher.ResponseData<null>;
    try {
      res = await dispatcher.request<null>({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: init.method as Dispatcher.HttpMethod,
        headers: init.headers,
        ...(init.body !== undefined
          ? { body: init.body as NonNullable<Dispatcher.DispatchOptions['body']> }
          : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (e) {
      throw translate(e);
    }
    const body = res.body;
    const headers: Record<string, string | string[] | undefined> = {};
    for (const [name, value] of Object.entries(res.headers)) headers[name.toLowerCase()] = value;
    return {
      statusCode: res.statusCode,
      headers,
      body: {
        [Symbol.asyncIterator]: async function* () {
          try {
            for await (const chunk of body) yield chunk as Uint8Array;
          } catch (e) {
            throw translate(e);
          }
        },
        dump: () => body.dump({ limit: MAX_DUMP }).catch(() => {}),
        destroy: () => {
          body.destroy();
        },
      },
    };
  }

  /** Closes every connection. */
  close(): void {
    for (const d of this.#dispatchers.values()) void d.destroy().catch(() => {});
    this.#dispatchers.clear();
  }
}
