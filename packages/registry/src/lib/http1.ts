// GET and HEAD requests on HTTP/1.1 connections of our own (decision 054). A blob download through
// `node:http` gets one fresh 64 KiB buffer and one parser callback per socket read; here the socket
// reads (`onread`) straight into large slabs that are never reused, so a chunk handed to the caller
// stays valid for as long as the caller keeps it, and the body needs no parser at all when its
// length is known. Requests with a body keep going through `node:http` (http.ts).
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import {
  type ConnectTls,
  codedError,
  type HttpClientOptions,
  type HttpResponse,
  MAX_DUMP,
  type ResponseBody,
} from './http-types.ts';

const net = process.getBuiltinModule('node:net');
// node:tls (~13 ms to load) only for https
const tls = () => process.getBuiltinModule('node:tls');

/** Bytes of a response head (status line and headers) we accept. */
const MAX_HEAD = 64 * 1024;
/** Bytes of a chunk-size line (with extensions) we accept. */
const MAX_CHUNK_LINE = 4096;
/** Bytes of a slab the socket reads into; a read takes at most `READ` of it. */
const SLAB = 1 << 20;
const READ = 64 << 10;
/** Body bytes queued unread before the socket is paused. */
const HIGH_WATER = 4 << 20;
/** How long an idle connection is kept. */
const IDLE_MS = 30_000;

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}

/** A protocol violation by the server: the connection is dropped (and the request retryable). */
function protocolError(message: string): Error {
  return codedError(`malformed HTTP response: ${message}`, 'ECONNRESET');
}

/** Reads into slabs: each read gets the free end of the current slab, or a new slab. */
class Slabs {
  #slab = Buffer.allocUnsafe(0);
  #used = 0;

  region(): Buffer {
    if (this.#slab.length - this.#used < READ) {
      this.#slab = Buffer.allocUnsafe(SLAB);
      this.#used = 0;
    }
    return this.#slab.subarray(this.#used, this.#used + READ);
  }

  take(buf: Buffer, n: number): Buffer {
    this.#used += n;
    return buf.subarray(0, n);
  }
}

type Framing =
  | { kind: 'none' }
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; left: number; state: 'size' | 'data' | 'data-crlf' | 'trailers' }
  | { kind: 'close' };

interface Exchange {
  method: 'GET' | 'HEAD';
  /** Bytes of the response head so far. */
  head: Buffer[];
  headBytes: number;
  onHead(res: { statusCode: number; headers: Record<string, string | string[]>; keepAlive: boolean }): void;
  onBody(chunk: Buffer): boolean;
  onEnd(error?: Error): void;
  framing: Framing | undefined;
  /** Interim (1xx) responses skipped so far. */
  interim: number;
  /** Bytes of chunk trailers so far. */
  trailerBytes: number;
  /** The server lets the connection be reused after this response. */
  keepAlive: boolean;
  /** Pending bytes of a chunk-size line or trailer line. */
  line: Buffer[];
  lineBytes: number;
  gotBytes: boolean;
}

class Connection {
  readonly key: string;
  readonly socket: Socket;
  exchange: Exchange | undefined;
  reused = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #slabs = new Slabs();

  readonly #onPark: (c: Connection) => void;

  constructor(
    key: string,
    url: URL,
    options: HttpClientOptions,
    connectTls: ConnectTls | undefined,
    hooks: {
      gone: (c: Connection) => void;
      park: (c: Connection) => void;
      /** TLS sessions kept per origin, so a new connection resumes instead of a full handshake. */
      sessions: Map<string, Buffer>;
    },
  ) {
    this.key = key;
    this.#onPark = hooks.park;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const onread = {
      buffer: () => this.#slabs.region(),
      callback: (n: number, buf: Uint8Array) =>
        n > 0 ? this.#onRead(this.#slabs.take(buf as Buffer, n)) : true,
    };
    this.socket =
      url.protocol === 'https:'
        ? tls().connect({
            host,
            port,
            ...(net.isIP(host) ? {} : { servername: host }),
            ALPNProtocols: ['http/1.1'],
            ...((connectTls?.ca ?? options.ca) ? { ca: [...(connectTls?.ca ?? options.ca ?? [])] } : {}),
            ...(connectTls?.cert?.length
              ? { cert: [...connectTls.cert], key: [...(connectTls.key ?? [])] }
              : {}),
            ...((connectTls?.insecure ?? options.insecure) ? { rejectUnauthorized: false } : {}),
            ...(hooks.sessions.has(key) ? { session: hooks.sessions.get(key) } : {}),
            // TLS sockets take `onread` as net sockets do; Node's types only list it for net
            onread,
          } as ConnectionOptions)
        : net.connect({ host, port, onread });
    this.socket.on('session', (session: Buffer) => hooks.sessions.set(key, session));
    this.socket.setNoDelay(true);
    this.socket.setTimeout(options.timeout, () => {
      this.destroy(codedError(`no progress for ${options.timeout} ms`, 'ETIMEDOUT'));
    });
    this.socket.on('error', (e) => this.#fail(e));
    this.socket.on('end', () => this.#onEnd());
    this.socket.on('close', () => {
      this.#fail(codedError('the connection closed', 'ECONNRESET'));
      clearTimeout(this.#idleTimer);
      hooks.gone(this);
    });
  }

  /** Sends a request; the exchange's callbacks report the response. */
  send(url: URL, headers: Record<string, string>, exchange: Exchange): void {
    clearTimeout(this.#idleTimer);
    this.socket.ref();
    this.exchange = exchange;
    let text = `${exchange.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
        throw new TypeError(`invalid header ${JSON.stringify(name.slice(0, 40))}`);
      }
      if (name.toLowerCase() !== 'host') text += `${name}: ${value}\r\n`;
    }
    this.socket.write(`${text}\r\n`);
  }

  /** Back in the pool: kept (unreferenced) until reused, closed by the server, or idle too long. */
  park(): void {
    this.exchange = undefined;
    this.reused = true;
    this.socket.unref();
    this.#idleTimer = setTimeout(() => this.socket.destroy(), IDLE_MS);
    this.#idleTimer.unref();
    this.#onPark(this);
  }

  destroy(error?: Error): void {
    this.#fail(error ?? codedError('the connection was closed', 'ECONNRESET'));
    this.socket.destroy();
  }

  #fail(error: Error): void {
    const ex = this.exchange;
    this.exchange = undefined;
    ex?.onEnd(error);
  }

  #onEnd(): void {
    const ex = this.exchange;
    if (ex?.framing?.kind === 'close') {
      this.exchange = undefined;
      ex.onEnd();
    }
    this.socket.end();
  }

  /** Returns false to pause the socket. */
  #onRead(data: Buffer): boolean {
    const ex = this.exchange;
    if (!ex) {
      // bytes on an idle connection: the server is confused; drop it
      this.socket.destroy();
      return false;
    }
    ex.gotBytes = true;
    try {
      return this.#consume(ex, data);
    } catch (e) {
      this.destroy(e as Error);
      return false;
    }
  }

  #consume(ex: Exchange, input: Buffer): boolean {
    let data = input;
    if (ex.framing === undefined) {
      // the head: gathered until the empty line
      ex.head.push(data);
      ex.headBytes += data.length;
      const all = ex.head.length === 1 ? data : Buffer.concat(ex.head);
      const end = all.indexOf('\r\n\r\n');
      if (end > MAX_HEAD || (end < 0 && ex.headBytes > MAX_HEAD)) {
        throw protocolError(`a head longer than ${MAX_HEAD} bytes`);
      }
      if (end < 0) return true;
      ex.head = [];
      ex.headBytes = 0;
      const parsed = parseHead(all.subarray(0, end).toString('latin1'), ex.method);
      if (parsed === 'interim') {
        // 1xx (103 Early Hints, say): skipped; the final response follows
        if (++ex.interim > 8) throw protocolError('more than 8 interim responses');
        const rest = all.subarray(end + 4);
        return rest.length > 0 ? this.#consume(ex, rest) : true;
      }
      ex.framing = parsed.framing;
      ex.keepAlive = parsed.keepAlive;
      ex.onHead(parsed);
      data = all.subarray(end + 4);
      if (parsed.framing.kind === 'none') {
        if (data.length > 0) throw protocolError('bytes after a response without a body');
        this.#done(ex, parsed.keepAlive);
        return true;
      }
      if (this.exchange !== ex) return false; // the caller dropped it
    }
    return this.#body(ex, data);
  }

  #body(ex: Exchange, input: Buffer): boolean {
    const f = ex.framing as Framing;
    let data = input;
    let more = true;
    if (f.kind === 'close') return data.length > 0 ? ex.onBody(data) : true;
    if (f.kind === 'length') {
      if (data.length > f.left) throw protocolError('more bytes than Content-Length');
      f.left -= data.length;
      if (data.length > 0) more = ex.onBody(data);
      if (f.left === 0) this.#done(ex, ex.keepAlive);
      return more;
    }
    if (f.kind !== 'chunked') return true;
    while (data.length > 0) {
      if (f.state === 'data') {
        const take = Math.min(f.left, data.length);
        if (take > 0) more = ex.onBody(data.subarray(0, take)) && more;
        f.left -= take;
        data = data.subarray(take);
        if (f.left === 0) f.state = 'data-crlf';
        continue;
      }
      const nl = data.indexOf('\n');
      const piece = nl < 0 ? data : data.subarray(0, nl + 1);
      ex.line.push(piece);
      ex.lineBytes += piece.length;
      data = data.subarray(piece.length);
      if (nl < 0) {
        if (ex.lineBytes > MAX_CHUNK_LINE) throw protocolError('a chunk-size line too long');
        continue;
      }
      const line = Buffer.concat(ex.line).toString('latin1');
      ex.line = [];
      ex.lineBytes = 0;
      if (!line.endsWith('\r\n')) throw protocolError('a chunk line not ended by CRLF');
      const text = line.slice(0, -2);
      if (f.state === 'data-crlf') {
        if (text !== '') throw protocolError('chunk data longer than its size');
        f.state = 'size';
      } else if (f.state === 'size') {
        const m = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(text);
        if (!m) throw protocolError(`a bad chunk size ${JSON.stringify(text.slice(0, 40))}`);
        f.left = Number.parseInt(m[1] as string, 16);
        f.state = f.left === 0 ? 'trailers' : 'data';
      } else if (text !== '') {
        ex.trailerBytes += line.length;
        if (ex.trailerBytes > MAX_HEAD) throw protocolError(`trailers longer than ${MAX_HEAD} bytes`);
      } else {
        // the end of the trailers
        if (data.length > 0) throw protocolError('bytes after the last chunk');
        this.#done(ex, ex.keepAlive);
        return more;
      }
    }
    return more;
  }

  #done(ex: Exchange, reusable: boolean): void {
    if (this.exchange !== ex) return;
    this.exchange = undefined;
    ex.onEnd();
    if (!reusable) this.socket.destroy();
    else this.park();
  }
}

/** Parses a response head (status line and headers, without the final empty line). */
function parseHead(
  text: string,
  method: 'GET' | 'HEAD',
):
  | 'interim'
  | {
      statusCode: number;
      headers: Record<string, string | string[]>;
      keepAlive: boolean;
      framing: Framing;
    } {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) ([1-9]\d{2})(?: .*)?$/.exec(lines[0] ?? '');
  if (!status) throw protocolError(`a bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
  const statusCode = Number(status[2]);
  if (statusCode === 101) throw protocolError('a protocol switch nobody asked for');
  if (statusCode < 200) return 'interim';
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw protocolError(`a bad header line ${JSON.stringify(line.slice(0, 60))}`);
    }
    const value = line.slice(colon + 1).trim();
    const had = headers[name];
    headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const connection = (one('connection') ?? '').toLowerCase();
  let keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  let framing: Framing;
  const te = one('transfer-encoding');
  const cl = headers['content-length'];
  if (method === 'HEAD' || statusCode === 204 || statusCode === 304) framing = { kind: 'none' };
  else if (te !== undefined) {
    if (cl !== undefined) throw protocolError('both Transfer-Encoding and Content-Length');
    const codings = te
      .toLowerCase()
      .split(',')
      .map((s) => s.trim());
    if (codings.at(-1) !== 'chunked') {
      framing = { kind: 'close' };
      keepAlive = false;
    } else if (codings.length === 1) framing = { kind: 'chunked', left: 0, state: 'size' };
    else throw protocolError(`an unsupported Transfer-Encoding ${JSON.stringify(te.slice(0, 40))}`);
  } else if (cl !== undefined) {
    const values = (Array.isArray(cl) ? cl : [cl]).flatMap((v) => v.split(',').map((s) => s.trim()));
    if (!values.every((v) => /^\d{1,15}$/.test(v)) || new Set(values).size !== 1) {
      throw protocolError(`a bad Content-Length ${JSON.stringify(String(cl).slice(0, 40))}`);
    }
    const length = Number(values[0]);
    framing = length === 0 ? { kind: 'none' } : { kind: 'length', left: length };
  } else {
    framing = { kind: 'close' };
    keepAlive = false;
  }
  return { statusCode, headers, keepAlive, framing };
}

/** Keep-alive connections for GET and HEAD requests, per origin, at most `connections` per origin. */
export class Http1Pool {
  readonly #options: HttpClientOptions;
  readonly #idle = new Map<string, Connection[]>();
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();
  readonly #all = new Set<Connection>();
  readonly #sessions = new Map<string, Buffer>();
  /** Connections are pooled per origin and TLS settings: an id per settings object. */
  readonly #tlsIds = new WeakMap<ConnectTls, number>();
  #nextTlsId = 1;
  readonly #tls = new Map<string, ConnectTls | undefined>();

  constructor(options: HttpClientOptions) {
    this.#options = options;
  }

  #key(url: URL, tls: ConnectTls | undefined): string {
    let id = 0;
    if (tls !== undefined) {
      id = this.#tlsIds.get(tls) ?? this.#nextTlsId++;
      this.#tlsIds.set(tls, id);
    }
    const key = id === 0 ? `${url.protocol}//${url.host}` : `${url.protocol}//${url.host} ${id}`;
    this.#tls.set(key, tls);
    return key;
  }

  async request(
    url: URL,
    init: {
      method: 'GET' | 'HEAD';
      headers: Record<string, string>;
      signal?: AbortSignal | undefined;
      tls?: ConnectTls | undefined;
    },
  ): Promise<HttpResponse> {
    const key = this.#key(url, init.tls);
    const signal = init.signal;
    if (signal?.aborted) throw abortError(signal);
    await this.#slot(key, signal);
    // the exchange releases the slot when its response ends or fails
    return this.#exchange(url, init.method, key, init.headers, signal, true);
  }

  #slot(key: string, signal: AbortSignal | undefined): Promise<void> {
    const active = this.#active.get(key) ?? 0;
    if (active < this.#options.connections) {
      this.#active.set(key, active + 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.#waiting.get(key) ?? [];
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        queue.splice(queue.indexOf(go), 1);
        reject(abortError(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(go);
      this.#waiting.set(key, queue);
    });
  }

  #release(key: string): void {
    const next = this.#waiting.get(key)?.shift();
    if (next) next();
    else this.#active.set(key, (this.#active.get(key) ?? 1) - 1);
  }

  #connection(key: string, url: URL): Connection {
    const idle = this.#idle.get(key);
    while (idle && idle.length > 0) {
      const c = idle.pop() as Connection;
      if (!c.socket.destroyed) return c;
    }
    const c = new Connection(key, url, this.#options, this.#tls.get(key), {
      gone: (gone) => {
        this.#all.delete(gone);
        const list = this.#idle.get(gone.key);
        if (list?.includes(gone)) list.splice(list.indexOf(gone), 1);
      },
      sessions: this.#sessions,
      park: (parked) => {
        const list = this.#idle.get(parked.key) ?? [];
        list.push(parked);
        this.#idle.set(parked.key, list);
      },
    });
    this.#all.add(c);
    return c;
  }

  #exchange(
    url: URL,
    method: 'GET' | 'HEAD',
    key: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    mayRetry: boolean,
  ): Promise<HttpResponse> {
    let conn: Connection;
    try {
      conn = this.#connection(key, url);
    } catch (e) {
      this.#release(key);
      return Promise.reject(e);
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      let body: BodyQueue | undefined;
      let settled = false;
      const onAbort = () => conn.destroy(abortError(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        signal?.removeEventListener('abort', onAbort);
        this.#release(key);
      };
      const exchange: Exchange = {
        method,
        head: [],
        headBytes: 0,
        framing: undefined,
        interim: 0,
        trailerBytes: 0,
        keepAlive: false,
        line: [],
        lineBytes: 0,
        gotBytes: false,
        onHead: (head) => {
          settled = true;
          body = new BodyQueue(conn, head.headers['content-length']);
          resolve({ statusCode: head.statusCode, headers: head.headers, body: body.api });
        },
        onBody: (chunk) => (body as BodyQueue).push(chunk),
        onEnd: (error) => {
          if (body) {
            body.end(error);
            finish();
            return;
          }
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          // a kept connection the server had closed meanwhile: once more on a fresh one
          if (error && mayRetry && conn.reused && !exchange.gotBytes && !signal?.aborted) {
            conn.socket.destroy();
            this.#exchange(url, method, key, headers, signal, false).then(resolve, reject);
            return;
          }
          finish();
          reject(error ?? codedError('the connection closed', 'ECONNRESET'));
        },
      };
      try {
        conn.send(url, headers, exchange);
      } catch (e) {
        settled = true;
        conn.exchange = undefined;
        conn.socket.destroy();
        signal?.removeEventListener('abort', onAbort);
        finish();
        reject(e);
      }
    });
  }

  /** Closes every connection. */
  close(): void {
    for (const c of this.#all) c.destroy();
    this.#all.clear();
    this.#idle.clear();
  }
}

/** A response body as an async iterable, fed by the connection, pausing it when unread bytes pile up. */
class BodyQueue {
  readonly #conn: Connection;
  readonly #length: number;
  #chunks: Buffer[] = [];
  #queued = 0;
  #received = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  #paused = false;
  readonly api: ResponseBody;

  constructor(conn: Connection, length: string | string[] | undefined) {
    this.#conn = conn;
    this.#length = typeof length === 'string' ? Number(length) : Number.NaN;
    this.api = {
      [Symbol.asyncIterator]: () => this.#iterate(),
      dump: () => this.#dump(),
      destroy: () => {
        if (!this.#ended) this.#conn.destroy();
        this.#ended = true;
      },
    };
  }

  push(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.#received += chunk.length;
    this.#wake?.();
    if (this.#queued >= HIGH_WATER) {
      this.#paused = true;
      return false;
    }
    return true;
  }

  end(error?: Error): void {
    if (this.#ended && this.#error === undefined && error === undefined) return;
    this.#ended = true;
    this.#error ??= error;
    this.#wake?.();
  }

  async *#iterate(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const chunk = this.#chunks.shift();
        if (chunk) {
          this.#queued -= chunk.length;
          if (this.#paused && this.#queued < HIGH_WATER / 2) {
            this.#paused = false;
            this.#conn.socket.resume();
          }
          yield chunk;
          continue;
        }
        if (this.#ended) {
          if (this.#error) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    } finally {
      if (!this.#ended) {
        // the caller stopped early: the connection cannot be reused
        this.#ended = true;
        this.#conn.destroy();
      }
    }
  }

  async #dump(): Promise<void> {
    if (this.#ended) return;
    const left = this.#length - this.#received;
    if (!(left <= MAX_DUMP)) {
      this.#ended = true;
      this.#conn.destroy();
      return;
    }
    this.#chunks = [];
    this.#queued = 0;
    if (this.#paused) {
      this.#paused = false;
      this.#conn.socket.resume();
    }
    while (!this.#ended) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
      this.#chunks = [];
      this.#queued = 0;
    }
  }
}
