// The `--ulimit` names and the namespaced `--sysctl` keys podman 4.3 and Docker 20.10 accept, for
// the `process.rlimits` and `linux.sysctl` of a runtime spec.

const RLIMITS = [
  'as',
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
] as const;

/**
 * The runtime spec's rlimit type of a ulimit name as Docker and podman write it (`nofile` →
 * `RLIMIT_NOFILE`; `RLIMIT_NOFILE` itself is taken too), or undefined for a name neither knows.
 */
export function rlimitType(name: string): string | undefined {
  const short = name.toLowerCase().replace(/^rlimit_/, '');
  return (RLIMITS as readonly string[]).includes(short) ? `RLIMIT_${short.toUpperCase()}` : undefined;
}

/** IPC-namespaced kernel parameters (podman's and runc's list). */
const IPC_SYSCTLS = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
];

/**
 * Why a container may not set kernel parameter `key`, or undefined when it may: it must be in a
 * namespace of the container's own — IPC (`kernel.msg*`, `kernel.sem`, `kernel.shm*`,
 * `fs.mqueue.*`) or network (`net.*`, not when it shares the host's network) — as podman 4.3 and
 * runc check.
 */
export function sysctlRefusal(key: string, options: { hostNetwork?: boolean } = {}): string | undefined {
  if (IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.')) return undefined;
  if (key.startsWith('net.'))
    return options.hostNetwork ? `${key} cannot be set with the host's network namespace` : undefined;
  return `${key} is not a namespaced kernel parameter (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*)`;
}
