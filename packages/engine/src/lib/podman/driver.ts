// The `podman` driver: podman's libpod API (v4; Debian's podman 4.3) for what it does beyond the
// Docker-compatible one — pull policy, TLS verification per call, every platform of an index,
// libpod's image and system forms — and the docker driver's handlers over podman's
// Docker-compatible API (`/v1.41`) for containers, save and load. One keep-alive undici pool
// (the docker driver's HTTP layer) serves both.
import type { Connection, ConnectOptions, Driver } from '../contract.ts';
import { resolveEngineAddress } from '../docker/address.ts';
import { containerHandlers } from '../docker/containers.ts';
import { dockerHandlers } from '../docker/handlers.ts';
import { EngineHttp } from '../docker/http.ts';
import { engineError } from '../errors.ts';
import { libpodImageHandlers } from './images.ts';
import { listWithLibpodPorts } from './networks.ts';
import { LIBPOD_PREFIX } from './prefix.ts';
import { libpodSystemHandlers } from './system.ts';

/** The Docker API version spoken on podman's compatible endpoints. */
const COMPAT_PREFIX = '/v1.41';

/** Options of {@link createPodmanDriver}. */
export interface PodmanDriverOptions {
  /** Milliseconds to establish a connection and have libpod's `/_ping` answer on connect (default 5000). */
  connectTimeout?: number | undefined;
}

/** Where podman's service listens by default: root's socket, or the user's under `XDG_RUNTIME_DIR`. */
function defaultAddress(env: Readonly<Record<string, string | undefined>>): string {
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (process.getuid?.() !== 0 && runtimeDir) return `unix://${runtimeDir}/podman/podman.sock`;
  return 'unix:///run/podman/podman.sock';
}

/**
 * Makes a `podman` driver. `connect` takes `unix:///run/podman/podman.sock`, `tcp://host:port`
 * (podman's service speaks plain HTTP on TCP), or `''`/`default` for `CONTAINER_HOST` (else root's
 * `unix:///run/podman/podman.sock`, or `$XDG_RUNTIME_DIR/podman/podman.sock` for other users); a
 * `podman+` prefix (`podman+unix://…`) is allowed. `ssh://` addresses (podman's remote
 * connections) are refused with `UnimplementedError`. Fails fast with reason `engine-unreachable`
 * when nothing answers, and `bad-response` when what answers does not serve libpod (a dockerd).
 *
 * @example
 * ```ts
 * const engine = await Engine.connect(createPodmanDriver({ connectTimeout: 2000 }), '');
 * await engine.images.pull('registry.example/app:1', { policy: 'missing', allPlatforms: true });
 * ```
 */
export function createPodmanDriver(options: PodmanDriverOptions = {}): Driver {
  return {
    name: 'podman',
    async connect(address: string, connectOptions: ConnectOptions): Promise<Connection> {
      const env = connectOptions.env ?? process.env;
      let addr = address.trim();
      if (addr === '' || addr === 'default') addr = env['CONTAINER_HOST']?.trim() || defaultAddress(env);
      addr = addr.replace(/^podman\+/i, '');
      if (/^ssh:\/\//i.test(addr)) {
        throw engineError('unimplemented', {
          engine: 'podman',
          operation: 'connect',
          message: `ssh:// addresses (podman's remote connections) are not supported: ${JSON.stringify(addr.replace(/\/\/[^@/]*@/, '//…@'))}`,
          hint: 'forward the remote socket yourself (ssh -L /tmp/podman.sock:/run/podman/podman.sock HOST) and connect to unix:///tmp/podman.sock',
        });
      }
      // podman's TCP service has no TLS: DOCKER_TLS_* settings are the docker CLI's, not podman's
      const target = await resolveEngineAddress(addr, {
        hostVariable: 'CONTAINER_HOST',
        fallback: defaultAddress(env),
        env: {},
      });
      const timeout = options.connectTimeout ?? 5000;
      const http = new EngineHttp(target, { engine: 'podman', connectTimeout: timeout });
      try {
        await pingLibpod(http, timeout, connectOptions.signal);
        const images = libpodImageHandlers(http, LIBPOD_PREFIX);
        const containers = containerHandlers(http, COMPAT_PREFIX, images['images.pull']);
        const handlers = {
          // all the compatible API answers alike (save and load, and what the docker driver grows)
          ...dockerHandlers(http, { prefix: COMPAT_PREFIX }),
          ...libpodSystemHandlers(http, LIBPOD_PREFIX),
          ...images,
          // a missing image is pulled through libpod (the caller's tlsVerify applies)
          ...containers,
          // a -p range whole (the compatible list gives its first port only)
          'containers.list': listWithLibpodPorts(http, LIBPOD_PREFIX, containers['containers.list']),
        };
        return { handlers, close: () => http.close() };
      } catch (e) {
        await http.close();
        throw e;
      }
    },
  };
}

/** The podman driver with default options: `Engine.connect(podmanDriver, 'unix:///run/podman/podman.sock')`. */
export const podmanDriver: Driver = createPodmanDriver();

/** Waits for libpod's `/_ping`; an engine without libpod (dockerd answers 404) is `bad-response`. */
async function pingLibpod(http: EngineHttp, timeout: number, signal: AbortSignal | undefined): Promise<void> {
  const bounded = signal
    ? AbortSignal.any([signal, AbortSignal.timeout(timeout)])
    : AbortSignal.timeout(timeout);
  const req = {
    method: 'GET',
    path: `${LIBPOD_PREFIX}/_ping`,
    signal: bounded,
    operation: 'connect',
  } as const;
  const where = http.target.socketPath ?? http.target.origin;
  let res: Awaited<ReturnType<EngineHttp['request']>>;
  try {
    res = await http.request({ ...req, accept: [404] });
  } catch (e) {
    if (bounded.aborted && !signal?.aborted) {
      throw http.fail('engine-unreachable', req, {
        message: `no answer from ${where} in ${timeout} ms`,
        cause: e,
      });
    }
    throw e;
  }
  await res.body.dump().catch(() => {});
  if (res.status === 404 || res.headers['libpod-api-version'] === undefined) {
    throw http.fail('bad-response', req, {
      message: `the engine at ${where} does not serve podman's libpod API (HTTP ${res.status} for ${LIBPOD_PREFIX}/_ping); use the docker driver for dockerd`,
      status: res.status,
    });
  }
}
