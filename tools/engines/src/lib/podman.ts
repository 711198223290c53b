// `podman system service` on a socket of its own, for tests: its storage, run state, temp files,
// locks and events under a fresh temp dir, its settings in a containers.conf there (the flags this
// host needs, ../shared/peers/NOTES.md) and a registries.conf marking the test registries insecure
// and searching none (no short name ever reaches Docker Hub).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { podmanGlobalFlags } from '@ocikit/test-images';
import { engineDir, type RunningEngine, startEngineProcess } from './process.ts';

/** Options of {@link startPodmanService}. */
export interface StartPodmanServiceOptions {
  /** Registries podman reaches over plain HTTP (`insecure = true` in registries.conf). */
  insecureRegistries?: readonly string[];
  /** Where the temp dir is made (default `/var/tmp`: overlay storage wants a real file system). */
  parentDir?: string;
  /** How long to wait for `/_ping` (default 60 s). */
  startTimeoutMs?: number;
  /** Aborts start-up. */
  signal?: AbortSignal;
}

/** containers.conf's `[engine]` table for a podman whose state is under `dir` (the flags this host needs). */
export function podmanEngineConf(dir: string): string {
  return `[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${join(dir, 'events', 'events.log')}"
runtime = "runc"
lock_type = "file"
tmp_dir = "${join(dir, 'tmp')}"
`;
}

function containersConf(dir: string): string {
  return `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"

${podmanEngineConf(dir)}`;
}

function registriesConf(registries: readonly string[]): string {
  return [
    'unqualified-search-registries = []',
    ...registries.map((r) => `\n[[registry]]\nlocation = "${r}"\ninsecure = true`),
    '',
  ].join('\n');
}

/**
 * Starts `podman system service --time=0 unix://SOCK` with its own `--root`, `--runroot` and
 * `--tmpdir` (podmanGlobalFlags), `CONTAINERS_CONF` and `CONTAINERS_REGISTRIES_CONF` files in a fresh
 * temp dir. The socket serves the Docker-compatible API (`/v1.41/…`) and libpod's (`/v4.0.0/libpod/…`).
 * Resolves once `GET /_ping` answers `OK`.
 *
 * @example
 * await using podman = await startPodmanService({ insecureRegistries: [registry.host] });
 * const res = await socketRequest(podman.socket, 'GET', '/v4.0.0/libpod/version');
 */
export async function startPodmanService(options: StartPodmanServiceOptions = {}): Promise<RunningEngine> {
  const registries = options.insecureRegistries ?? [];
  const dir = await engineDir('startPodmanService', 'podman', registries, options.parentDir, options.signal);
  const socket = join(dir, 'podman.sock');
  const conf = join(dir, 'containers.conf');
  const regs = join(dir, 'registries.conf');
  await writeFile(conf, containersConf(dir));
  await writeFile(regs, registriesConf(registries));
  const confEnv = { CONTAINERS_CONF: conf, CONTAINERS_REGISTRIES_CONF: regs };
  return startEngineProcess({
    name: 'podman',
    dir,
    command: 'podman',
    args: [...podmanGlobalFlags(dir), 'system', 'service', '--time=0', `unix://${socket}`],
    processEnv: confEnv,
    socket,
    env: {
      DOCKER_HOST: `unix://${socket}`,
      CONTAINER_HOST: `unix://${socket}`,
      DOCKER_CONFIG: join(dir, 'docker-config'),
      ...confEnv,
    },
    startTimeoutMs: options.startTimeoutMs,
    signal: options.signal,
  });
}
