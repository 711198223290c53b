// A real dockerd (Debian's docker.io, Engine 20.10, API 1.41) on a socket of its own, for tests:
// everything it writes — data root, exec root (where it puts the containerd it starts, with that
// containerd's socket and state), pid file, daemon config, log — lives in a fresh temp dir, so two
// of them (or one beside the host's) never collide.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { engineDir, type RunningEngine, startEngineProcess } from './process.ts';

/** Options of {@link startDockerd}. */
export interface StartDockerdOptions {
  /** Registries dockerd reaches over plain HTTP (`--insecure-registry`), e.g. `127.0.0.1:5000`. */
  insecureRegistries?: readonly string[];
  /** Where the temp dir is made (default `/var/tmp`: overlay2 wants a real file system). */
  parentDir?: string;
  /** How long to wait for `/_ping` (default 60 s). */
  startTimeoutMs?: number;
  /** Aborts start-up. */
  signal?: AbortSignal;
}

/**
 * Starts `dockerd` with its own socket, `--data-root`, `--exec-root`, `--pidfile` and an empty
 * `--config-file` under a fresh temp dir, no iptables, no IP forwarding and no bridge (containers
 * get `--network none`), and lets it start its own containerd under the exec root. Resolves once
 * `GET /_ping` answers `OK`; on failure the error carries the tail of dockerd's log.
 *
 * @example
 * await using docker = await startDockerd({ insecureRegistries: [registry.host] });
 * execFileSync('docker', ['version'], { env: { ...process.env, ...docker.env } });
 */
export async function startDockerd(options: StartDockerdOptions = {}): Promise<RunningEngine> {
  const registries = options.insecureRegistries ?? [];
  const dir = await engineDir('startDockerd', 'dockerd', registries, options.parentDir, options.signal);
  const socket = join(dir, 'docker.sock');
  const config = join(dir, 'daemon.json');
  await writeFile(config, '{}\n');
  return startEngineProcess({
    name: 'dockerd',
    dir,
    command: 'dockerd',
    args: [
      ...['--host', `unix://${socket}`],
      ...['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec')],
      ...['--pidfile', join(dir, 'dockerd.pid'), '--config-file', config],
      ...['--iptables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none'],
      '--userland-proxy=false',
      ...registries.flatMap((r) => ['--insecure-registry', r]),
    ],
    socket,
    env: { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config') },
    startTimeoutMs: options.startTimeoutMs,
    signal: options.signal,
  });
}
