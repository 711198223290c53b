// The `docker` driver: the Docker Engine API (1.41 and later) over a unix socket or TCP (TLS with
// client certificates), on one keep-alive undici pool per connection.
import type { Connection, ConnectOptions, Driver } from '../contract.ts';
import { resolveEngineAddress } from './address.ts';
import { dockerHandlers } from './handlers.ts';
import { EngineHttp, type TlsSettings } from './http.ts';

/** The API version the driver speaks unless the engine is older or newer (decision 122). */
export const DOCKER_API_VERSION = '1.41';
/** The newest API version whose answers the driver maps (a newer engine is spoken to in this one). */
const NEWEST_API = '1.45';

/** Options of {@link createDockerDriver}. */
export interface DockerDriverOptions {
  /**
   * The API version to speak (`1.41`); default: the engine's own (from `/_ping`), at least 1.41 and
   * at most 1.45.
   */
  apiVersion?: string | undefined;
  /** TLS for `tcp://` addresses; default from `DOCKER_TLS_VERIFY`/`DOCKER_TLS` and `DOCKER_CERT_PATH`. */
  tls?: TlsSettings | undefined;
  /** Milliseconds to establish a connection and have `/_ping` answer on connect (default 5000). */
  connectTimeout?: number | undefined;
}

/**
 * Makes a `docker` driver with options (API version, TLS, connect timeout). `connect` takes
 * `unix:///var/run/docker.sock`, `tcp://host:2375`, `tcp://host:2376` with TLS, or `''`/`default`
 * for `DOCKER_HOST` (else `unix:///var/run/docker.sock`), and fails fast with reason
 * `engine-unreachable` when nothing answers `/_ping` there.
 *
 * @example
 * ```ts
 * const driver = createDockerDriver({ apiVersion: '1.41' });
 * const engine = await Engine.connect(driver, 'tcp://10.0.0.2:2376');
 * ```
 */
export function createDockerDriver(options: DockerDriverOptions = {}): Driver {
  return {
    name: 'docker',
    async connect(address: string, connectOptions: ConnectOptions): Promise<Connection> {
      const target = await resolveEngineAddress(address, {
        hostVariable: 'DOCKER_HOST',
        fallback: 'unix:///var/run/docker.sock',
        env: connectOptions.env,
        tls: options.tls,
      });
      const timeout = options.connectTimeout ?? 5000;
      const http = new EngineHttp(target, { engine: 'docker', connectTimeout: timeout });
      try {
        const apiVersion = options.apiVersion ?? (await negotiate(http, timeout, connectOptions.signal));
        if (options.apiVersion !== undefined) await ping(http, timeout, connectOptions.signal);
        const handlers = dockerHandlers(http, { prefix: `/v${apiVersion}` });
        return { handlers, close: () => http.close() };
      } catch (e) {
        await http.close();
        throw e;
      }
    },
  };
}

/** The docker driver with default options: `Engine.connect(dockerDriver, 'unix:///var/run/docker.sock')`. */
export const dockerDriver: Driver = createDockerDriver();

async function ping(
  http: EngineHttp,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const bounded = signal
    ? AbortSignal.any([signal, AbortSignal.timeout(timeout)])
    : AbortSignal.timeout(timeout);
  const req = { method: 'GET', path: '/_ping', signal: bounded, operation: 'connect' } as const;
  try {
    const res = await http.request(req);
    await res.body.dump();
    const v = res.headers['api-version'];
    return typeof v === 'string' ? v : undefined;
  } catch (e) {
    if (bounded.aborted && !signal?.aborted) {
      throw http.fail('engine-unreachable', req, {
        message: `no answer from ${http.target.socketPath ?? http.target.origin} in ${timeout} ms`,
        cause: e,
      });
    }
    throw e;
  }
}

async function negotiate(
  http: EngineHttp,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<string> {
  const theirs = await ping(http, timeout, signal);
  if (!theirs || !/^\d+\.\d+$/.test(theirs)) return DOCKER_API_VERSION;
  if (compare(theirs, DOCKER_API_VERSION) < 0) return DOCKER_API_VERSION;
  return compare(theirs, NEWEST_API) > 0 ? NEWEST_API : theirs;
}

function compare(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}
