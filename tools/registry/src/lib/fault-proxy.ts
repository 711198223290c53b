import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { InvalidArgumentError, truncate } from '@ocikit/errors';

/** Which requests a fault applies to: all given conditions must hold. */
export interface FaultMatch {
  /** HTTP method, e.g. `GET`. */
  method?: string;
  /** A substring of, or a regular expression tested against, the request path with query. */
  path?: string | RegExp;
}

interface FaultBase {
  /** Which requests it applies to (default: all). */
  match?: FaultMatch;
  /** Applies to the first N matching requests only (default 1; `Infinity` for `ignore-range`/`slow`). */
  times?: number;
}

/** A fault the proxy injects. */
export type Fault =
  | (FaultBase & { kind: 'reset'; afterBytes: number })
  | (FaultBase & { kind: 'status'; status: number; retryAfter?: number })
  | (FaultBase & { kind: 'ignore-range' })
  | (FaultBase & { kind: 'truncate'; afterBytes: number })
  /**
   * A response complete by HTTP but short of the resource: `Content-Length: bytes` and only the
   * first `bytes` bytes, correctly framed (a truncating proxy or CDN), where the upstream had more.
   */
  | (FaultBase & { kind: 'short-body'; bytes: number })
  | (FaultBase & { kind: 'slow'; delayMs?: number; bytesPerSecond?: number })
  | (FaultBase & { kind: 'corrupt'; offset?: number });

/** One request seen by the proxy. */
export interface ProxiedRequest {
  /** HTTP method. */
  method: string;
  /** Path with query. */
  path: string;
  /** The `kind` of the fault applied, if any. */
  fault: Fault['kind'] | undefined;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The upstream base URL, e.g. a RunningRegistry's `url`. */
  target: string;
  /** Faults tried in order (first applicable wins), or a function choosing one per request. */
  faults: Fault[] | ((req: IncomingMessage) => Fault | undefined);
}

/** A running fault-injecting proxy. */
export interface FaultProxy {
  /** Base URL of the proxy, `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Every request seen, oldest first. */
  requests: ProxiedRequest[];
  /** How many times a fault was applied. */
  applied(fault: Fault): number;
  /** How many requests matched a fault's `match` (applied or not). */
  matched(fault: Fault): number;
  /** Stops the proxy and drops open connections. */
  stop(): Promise<void>;
  /** Same as {@link FaultProxy.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

function matches(fault: Fault, req: IncomingMessage): boolean {
  const m = fault.match;
  if (m === undefined) return true;
  if (m.method !== undefined && m.method.toUpperCase() !== req.method) return false;
  if (m.path !== undefined) {
    const path = req.url ?? '/';
    if (typeof m.path === 'string' ? !path.includes(m.path) : !m.path.test(path)) return false;
  }
  return true;
}

function checkFault(fault: Fault): void {
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`startFaultProxy: ${fault.kind} fault: ${what}`, {
      details: { kind: fault.kind },
    });
  };
  if (fault.times !== undefined && !(fault.times >= 0)) bad('times must be >= 0');
  if (
    (fault.kind === 'reset' || fault.kind === 'truncate') &&
    !(Number.isInteger(fault.afterBytes) && fault.afterBytes >= 0)
  ) {
    bad('afterBytes must be a non-negative integer');
  }
  if (fault.kind === 'short-body' && !(Number.isInteger(fault.bytes) && fault.bytes >= 0))
    bad('bytes must be a non-negative integer');
  if (
    fault.kind === 'status' &&
    !(Number.isInteger(fault.status) && fault.status >= 100 && fault.status <= 599)
  )
    bad('status must be an HTTP status');
  if (fault.kind === 'slow' && fault.bytesPerSecond !== undefined && !(fault.bytesPerSecond > 0))
    bad('bytesPerSecond must be > 0');
}

function defaultTimes(fault: Fault): number {
  return fault.kind === 'ignore-range' || fault.kind === 'slow' ? Number.POSITIVE_INFINITY : 1;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts an HTTP proxy on a free loopback port that forwards to `target` and injects faults:
 * connection resets after N body bytes, 429/503 with `Retry-After`, `Range` ignored, truncated
 * bodies, correctly framed short bodies, slow responses and corrupted bytes. `Location` headers pointing at the target are
 * rewritten to the proxy so uploads keep going through it.
 *
 * @example
 * const proxy = await startFaultProxy({ target: registry.url, faults: [{ kind: 'status', status: 503, retryAfter: 1, times: 2 }] });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let target: URL;
  try {
    target = new URL(options.target);
  } catch (cause) {
    throw new InvalidArgumentError(
      `startFaultProxy: target is not a URL: ${JSON.stringify(truncate(options.target, 80))}`,
      { cause },
    );
  }
  if (target.protocol !== 'http:') {
    throw new InvalidArgumentError(
      `startFaultProxy: target must be http://, not ${JSON.stringify(truncate(options.target, 80))}`,
    );
  }
  if (Array.isArray(options.faults)) for (const fault of options.faults) checkFault(fault);
  const appliedCounts = new Map<Fault, number>();
  const matchedCounts = new Map<Fault, number>();
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let origin = '';

  const choose = (req: IncomingMessage): Fault | undefined => {
    if (typeof options.faults === 'function') {
      const fault = options.faults(req);
      if (fault !== undefined) matchedCounts.set(fault, (matchedCounts.get(fault) ?? 0) + 1);
      return fault;
    }
    let chosen: Fault | undefined;
    for (const fault of options.faults) {
      if (!matches(fault, req)) continue;
      matchedCounts.set(fault, (matchedCounts.get(fault) ?? 0) + 1);
      if (chosen === undefined && (appliedCounts.get(fault) ?? 0) < (fault.times ?? defaultTimes(fault)))
        chosen = fault;
    }
    return chosen;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const fault = choose(req);
    if (fault !== undefined) appliedCounts.set(fault, (appliedCounts.get(fault) ?? 0) + 1);
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', fault: fault?.kind });

    if (fault?.kind === 'status') {
      req.resume();
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      const code = fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
      res.writeHead(fault.status, headers);
      res.end(JSON.stringify({ errors: [{ code, message: 'injected by fault proxy' }] }));
      return;
    }
    if (fault?.kind === 'slow' && fault.delayMs !== undefined) await sleep(fault.delayMs);

    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host };
    if (fault?.kind === 'ignore-range') {
      delete headers.range;
      delete headers['if-range'];
    }
    const upstream = httpRequest({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502);
        res.end();
      } else res.destroy();
    });
    req.pipe(upstream);
    const up = await new Promise<IncomingMessage>((resolve) => upstream.once('response', resolve));
    const outHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(up.headers)) {
      if (value === undefined) continue;
      if (name === 'location' && typeof value === 'string' && value.startsWith(target.origin)) {
        outHeaders[name] = origin + value.slice(target.origin.length);
      } else outHeaders[name] = value;
    }
    // A short body only where the upstream's is longer, so the response stays correctly framed.
    const short =
      fault?.kind === 'short-body' && Number(up.headers['content-length']) > fault.bytes
        ? fault.bytes
        : undefined;
    if (short !== undefined) {
      outHeaders['content-length'] = String(short);
      delete outHeaders['transfer-encoding'];
    }
    res.writeHead(up.statusCode ?? 502, up.statusMessage, outHeaders);

    let sent = 0;
    const started = Date.now();
    for await (const raw of up) {
      let chunk = raw as Buffer;
      if (fault?.kind === 'reset' || fault?.kind === 'truncate') {
        if (sent + chunk.length >= fault.afterBytes) {
          const part = chunk.subarray(0, Math.max(0, fault.afterBytes - sent));
          if (part.length > 0) await new Promise<void>((resolve) => res.write(part, () => resolve()));
          up.destroy();
          if (fault.kind === 'reset') res.socket?.resetAndDestroy();
          else res.socket?.destroySoon();
          return;
        }
      }
      if (short !== undefined && sent + chunk.length >= short) {
        res.end(chunk.subarray(0, short - sent));
        up.destroy();
        return;
      }
      if (fault?.kind === 'corrupt') {
        const offset = fault.offset ?? 0;
        if (offset >= sent && offset < sent + chunk.length) {
          chunk = Buffer.from(chunk);
          const at = offset - sent;
          chunk[at] = (chunk[at] ?? 0) ^ 0xff;
        }
      }
      if (fault?.kind === 'slow' && fault.bytesPerSecond !== undefined) {
        const due = started + ((sent + chunk.length) / fault.bytesPerSecond) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
      }
      sent += chunk.length;
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
    }
    res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  origin = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return stopped;
  };
  return {
    url: origin,
    host: `127.0.0.1:${port}`,
    requests,
    applied: (fault) => appliedCounts.get(fault) ?? 0,
    matched: (fault) => matchedCounts.get(fault) ?? 0,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
