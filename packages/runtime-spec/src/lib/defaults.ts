import type { Spec } from './types.ts';

const caps = () => ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
const masked = () => [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];
const readonly = () => ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * The capabilities podman and buildah give a container's process by default (containers.conf
 * `default_capabilities`): root in the container may chown, override file permissions, set ids and
 * bind low ports — unlike `runc spec`'s three. Docker's set adds AUDIT_WRITE, MKNOD and NET_RAW.
 *
 * @example
 * ```ts
 * spec.process!.capabilities = { bounding: [...PODMAN_CAPABILITIES], effective: [...PODMAN_CAPABILITIES], permitted: [...PODMAN_CAPABILITIES] };
 * ```
 */
export const PODMAN_CAPABILITIES: readonly string[] = Object.freeze(
  [
    'CHOWN',
    'DAC_OVERRIDE',
    'FOWNER',
    'FSETID',
    'KILL',
    'NET_BIND_SERVICE',
    'SETFCAP',
    'SETGID',
    'SETPCAP',
    'SETUID',
    'SYS_CHROOT',
  ].map((c) => `CAP_${c}`),
);

/**
 * The runtime config `runc spec` writes (runc 1.1's specconv.Example): a fresh object each call.
 *
 * @example
 * ```ts
 * const spec = defaultSpec();
 * spec.process!.args = ['/bin/echo', 'hi'];
 * ```
 */
export function defaultSpec(): Spec {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps(), effective: caps(), permitted: caps(), ambient: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: masked(),
      readonlyPaths: readonly(),
    },
  };
}

/**
 * The runtime config `runc spec --rootless` writes: a user namespace mapping root in the container
 * to `uid`/`gid` on the host (default: this process's), no network namespace, /sys bind-mounted,
 * no device cgroup rules.
 */
export function defaultRootlessSpec(options: { uid?: number; gid?: number } = {}): Spec {
  const spec = defaultSpec();
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const gid = options.gid ?? process.getgid?.() ?? 0;
  spec.mounts = (spec.mounts ?? []).map((m) => {
    if (m.destination === '/sys')
      return {
        destination: '/sys',
        type: 'none',
        source: '/sys',
        options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
      };
    if (m.destination === '/dev/pts')
      return { ...m, options: (m.options ?? []).filter((o) => o !== 'gid=5') };
    return m;
  });
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
    namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }],
    maskedPaths: masked(),
    readonlyPaths: readonly(),
  };
  return spec;
}
