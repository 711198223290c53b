// The engine a command talks to: --host/-H, else $CONTAINER_HOST, else $DOCKER_HOST, else the local
// engine on the state root (decision 137). Loaded only by commands that use an engine, and the
// docker/podman drivers (and the HTTP client under them) only when the address names one.
import { resolve } from 'node:path';
import type { Driver, Engine, ResolvedHost } from '@ocikit/engine';
import type { LocalRegistryOptions } from '@ocikit/local';

/** What a command asks of its engine beyond the global flags. */
export interface EngineRequest {
  /**
   * The command's registry flags (`--plain-http`, `--insecure`, `--ca-file`), for the pulls and
   * pushes the local engine makes. A remote engine reaches registries with its own settings (the
   * command passes `tlsVerify` on the calls that take it).
   */
  registry?: LocalRegistryOptions | undefined;
}

/** Where the engine of a command is, and what it is connected with. */
export interface EngineSettings {
  /** `--host`/`-H`, when given. */
  host?: string | undefined;
  /** The local state root (`--root`, `$OCIKIT_ROOT`, …): the local engine's, when it is the one. */
  root: string;
  /** The environment (`CONTAINER_HOST`, `DOCKER_HOST`, `DOCKER_CERT_PATH`, …). */
  env: Readonly<Record<string, string | undefined>>;
  /** Fires when the command is interrupted; bounds the connect. */
  signal?: AbortSignal | undefined;
}

/** The engines one command opened: made on first use, reused, closed when the command ends. */
export interface EngineSession {
  /** The engine for this command, connected on the first call (one per distinct request on the local engine). */
  engine(request?: EngineRequest): Promise<Engine>;
  /** Which engine `engine()` connects to (throws InvalidArgumentError for a bad address). */
  host(): Promise<ResolvedHost>;
  /** Closes every engine it opened; later `engine()` calls connect again. */
  close(): Promise<void>;
}

/**
 * The engine session of one command: `--host`, `$CONTAINER_HOST` (the podman driver),
 * `$DOCKER_HOST` (the docker driver), else ocikit's local engine on `settings.root`. A `local:`
 * address without a path is the state root too, so `--root` holds for it.
 */
export function engineSession(settings: EngineSettings): EngineSession {
  const open = new Map<string, Promise<Engine>>();
  let resolved: Promise<ResolvedHost> | undefined;
  const root = resolve(settings.root);
  const host = () => {
    resolved ??= import('@ocikit/engine').then(({ resolveHost }) => {
      const found = resolveHost({ host: settings.host, env: settings.env, defaultAddress: `local:${root}` });
      return found.driver === 'local' && found.address === 'local:'
        ? { ...found, address: `local:${root}` }
        : found;
    });
    return resolved;
  };
  return {
    host,
    async engine(request = {}) {
      const where = await host();
      // a remote engine is the same whatever the registry flags; the local one is set up with them
      const key = where.driver === 'local' ? JSON.stringify(request.registry ?? {}) : '';
      let engine = open.get(key);
      if (engine === undefined) {
        engine = connect(where, request, settings);
        open.set(key, engine);
        // a failed connect is not kept: the next call tries again
        engine.catch(() => open.delete(key));
      }
      return engine;
    },
    async close() {
      const engines = [...open.values()];
      open.clear();
      await Promise.all(engines.map(async (e) => (await e.catch(() => undefined))?.close()));
    },
  };
}

async function connect(
  where: ResolvedHost,
  request: EngineRequest,
  settings: EngineSettings,
): Promise<Engine> {
  const { Engine } = await import('@ocikit/engine');
  const options = { env: settings.env, signal: settings.signal };
  return Engine.connect(await driverFor(where, request), where.address, options);
}

/** The driver for an address: the HTTP drivers load only when one is named. */
async function driverFor(where: ResolvedHost, request: EngineRequest): Promise<Driver> {
  if (where.driver === 'local') {
    const { localDriver } = await import('@ocikit/local');
    return localDriver(request.registry ? { registry: request.registry } : {});
  }
  const { dockerDriver, podmanDriver } = await import('@ocikit/engine');
  return where.driver === 'podman' ? podmanDriver : dockerDriver;
}
