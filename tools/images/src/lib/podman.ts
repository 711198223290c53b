import { join } from 'node:path';

/**
 * podman's global flags on this host (../shared/peers/NOTES.md: cgroupfs, file events, runc),
 * with its storage, run state and temporary files under `root`.
 *
 * @example
 * execFileSync('podman', [...podmanGlobalFlags('/tmp/p'), 'run', ...podmanRunFlags, image, 'true']);
 */
export function podmanGlobalFlags(root: string, options: { tmpdir?: boolean } = {}): string[] {
  return [
    ...['--root', join(root, 'root'), '--runroot', join(root, 'run')],
    ...(options.tmpdir === false ? [] : ['--tmpdir', join(root, 'tmp')]),
    ...['--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc'],
  ];
}

/** The `run`/`create` flags podman needs on this host: no network, ulimits under the host's hard limits. */
export const podmanRunFlags: readonly string[] = [
  ...['--network', 'none'],
  ...['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'],
];
