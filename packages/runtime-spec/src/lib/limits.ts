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

/**
 * RLIM_INFINITY (2^64-1, `--ulimit NAME=-1`) as a spec's rlimit holds it in memory: 2^64, the
 * double that `JSON.parse` gives for 18446744073709551615 (2^64-1 has no exact double), written
 * back as that literal by {@link stringifySpec} (decision 214).
 */
export const RLIM_INFINITY: number = 2 ** 64;

/** `JSON.rawJSON` (Node 21+; not yet in TypeScript's lib): a value `JSON.stringify` writes as `text`. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * A runtime spec (or an exec's process) as JSON text for the runtime: as `JSON.stringify`, except
 * that a number {@link RLIM_INFINITY} is written `18446744073709551615`, which runc and crun read
 * as RLIM_INFINITY (`JSON.stringify` would write 18446744073709552000, which overflows a uint64).
 *
 * @example
 * ```ts
 * writeFileSync(join(bundle, 'config.json'), `${stringifySpec(spec, 2)}\n`);
 * ```
 */
export function stringifySpec(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (v === RLIM_INFINITY ? rawJSON('18446744073709551615') : v),
    space,
  );
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
