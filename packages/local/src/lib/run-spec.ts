// A container's runtime spec (config.json) from its image config and a ContainerSpec (issue 14).
import { existsSync, lstatSync, readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import type { ContainerSpec } from '@ocikit/engine';
import { truncate } from '@ocikit/errors';
import type { ImageConfig } from '@ocikit/image-spec';
import {
  type Device,
  type DeviceCgroup,
  type Mount,
  PODMAN_CAPABILITIES,
  RLIM_INFINITY,
  readInRoot,
  rlimitType,
  type Spec,
  specFromImageConfig,
  sysctlRefusal,
} from '@ocikit/runtime-spec';
import { localError } from './container-errors.ts';
import type { RuntimeNetwork } from './network.ts';

const CAPS = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

/**
 * The capabilities a container's process gets unless capAdd/capDrop say otherwise: podman's
 * (runtime-spec's PODMAN_CAPABILITIES), not the runtime bundle's three (`runc spec`), with which
 * root in a container could neither chown nor read a file it does not own.
 */
const DEFAULT_CAPS = PODMAN_CAPABILITIES;

const bad = (message: string) => localError('bad-argument', 'containers.create', message);

function capName(field: string, value: string): string {
  const upper = value.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!CAPS.includes(name)) throw bad(`${field}: unknown capability ${JSON.stringify(truncate(value, 40))}`);
  return name;
}

/** Where Debian's catatonit package puts the init `init: true` runs (podman's copy first). */
const INIT_BINARIES = ['/usr/libexec/podman/catatonit', '/usr/bin/catatonit'];

/** The capabilities in this process's bounding set (a privileged container gets no more). */
function hostBoundingCaps(): string[] {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapBnd:'));
    const mask = BigInt(`0x${(line ?? '').slice('CapBnd:'.length).trim() || '0'}`);
    return CAPS.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  } catch {
    return [...CAPS];
  }
}

/** The device nodes under the host's /dev (not pts, shm, mqueue), as `--device` mappings of themselves. */
function hostDevices(dir = '/dev'): NonNullable<ContainerSpec['devices']> {
  const out: NonNullable<ContainerSpec['devices']> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!['/dev/pts', '/dev/shm', '/dev/mqueue'].includes(path)) out.push(...hostDevices(path));
    } else if (entry.isCharacterDevice() || entry.isBlockDevice()) {
      // the console and the terminal are the runtime's to make
      if (!['/dev/console', '/dev/tty', '/dev/ptmx'].includes(path))
        out.push({ pathOnHost: path, pathInContainer: path, cgroupPermissions: 'rwm' });
    }
  }
  return out;
}

/** The hard limits of this process (`/proc/self/limits`), by RLIMIT_ name. */
function hostHardLimits(): Map<string, number> {
  const names: Record<string, string> = {
    'Max open files': 'RLIMIT_NOFILE',
    'Max processes': 'RLIMIT_NPROC',
    'Max core file size': 'RLIMIT_CORE',
    'Max stack size': 'RLIMIT_STACK',
    'Max locked memory': 'RLIMIT_MEMLOCK',
  };
  const out = new Map<string, number>();
  try {
    for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n')) {
      for (const [label, name] of Object.entries(names)) {
        if (!line.startsWith(label)) continue;
        const hard = line.slice(label.length).trim().split(/\s+/)[1];
        if (hard !== undefined && hard !== 'unlimited') out.set(name, Number(hard));
      }
    }
  } catch {
    // not Linux: nothing to clamp against
  }
  return out;
}

/** The mounts of a ContainerSpec as runtime mounts, checked (absolute paths, bind sources that exist). */
function mountsOf(spec: ContainerSpec): Mount[] {
  const out: Mount[] = [];
  for (const m of spec.mounts ?? []) {
    if (!isAbsolute(m.target))
      throw bad(`mount target ${JSON.stringify(truncate(m.target, 80))} is not absolute`);
    if (m.type === 'bind') {
      if (!isAbsolute(m.source))
        throw bad(`bind mount source ${JSON.stringify(truncate(m.source, 80))} is not absolute`);
      if (!existsSync(m.source)) throw bad(`bind mount source ${m.source} does not exist on this host`);
      out.push({
        destination: m.target,
        type: 'bind',
        source: m.source,
        options: ['rbind', m.readOnly ? 'ro' : 'rw'],
      });
    } else if (m.type === 'tmpfs') {
      out.push({
        destination: m.target,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', ...(m.options ?? [])],
      });
    } else {
      throw bad(`mount type ${JSON.stringify(String((m as { type: unknown }).type))} is not bind or tmpfs`);
    }
  }
  return out;
}

/**
 * The device nodes under host directory `dir` (its subdirectories too, links not followed), as
 * podman 4.3 walks a `--device DIR`: each at the same path under `target`, in name order.
 */
function devicesUnder(dir: string, target: string): { host: string; container: string }[] {
  const out: { host: string; container: string }[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const host = `${dir}/${entry.name}`;
    const container = posix.join(target, entry.name);
    if (entry.isDirectory()) out.push(...devicesUnder(host, container));
    else if (entry.isCharacterDevice() || entry.isBlockDevice()) out.push({ host, container });
  }
  return out;
}

/**
 * The runtime devices and their cgroup rules of `devices`, from the host's nodes; a directory
 * gives every device node under it (podman's `--device /dev/snd`), none there is refused.
 */
function devicesOf(spec: ContainerSpec): { devices: Device[]; rules: DeviceCgroup[] } {
  const devices: Device[] = [];
  const rules: DeviceCgroup[] = [];
  const add = (host: string, container: string, access: string, st: Stats) => {
    const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
    if (!type) throw bad(`devices (--device): ${JSON.stringify(truncate(host, 80))} is not a device node`);
    // glibc's major()/minor() of a dev_t
    const dev = BigInt(st.rdev);
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
    devices.push({
      path: container,
      type,
      major,
      minor,
      fileMode: st.mode & 0o777,
      uid: st.uid,
      gid: st.gid,
    });
    rules.push({ allow: true, type, major, minor, access });
  };
  for (const d of spec.devices ?? []) {
    const path = JSON.stringify(truncate(d.pathOnHost, 80));
    if (!isAbsolute(d.pathOnHost) || !isAbsolute(d.pathInContainer))
      throw bad(`devices: ${path} and its path in the container must be absolute`);
    if (
      !/^[rwm]{1,3}$/.test(d.cgroupPermissions) ||
      new Set(d.cgroupPermissions).size !== d.cgroupPermissions.length
    )
      throw bad(
        `devices: ${path}: permissions are r, w and m, not ${JSON.stringify(truncate(d.cgroupPermissions, 10))}`,
      );
    let st: Stats;
    try {
      st = statSync(d.pathOnHost);
    } catch {
      throw bad(`devices (--device): ${path} does not exist on this host`);
    }
    if (!st.isDirectory()) {
      add(d.pathOnHost, d.pathInContainer, d.cgroupPermissions, st);
      continue;
    }
    const found = devicesUnder(d.pathOnHost.replace(/(.)\/+$/, '$1'), d.pathInContainer);
    if (found.length === 0)
      throw bad(
        `devices (--device): no device nodes found in ${path}: name a node or a directory holding some`,
      );
    for (const { host, container } of found) add(host, container, d.cgroupPermissions, lstatSync(host));
  }
  return { devices, rules };
}

/** `groupAdd` as gids: numbers as they are, names looked up in the root file system's /etc/group. */
async function groupIds(groups: readonly string[], rootfs: string): Promise<number[]> {
  const names = groups.some((g) => !/^\d+$/.test(g)) ? await readInRoot(rootfs, '/etc/group') : undefined;
  const byName = new Map<string, number>();
  for (const line of (names ?? '').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid !== undefined && /^\d+$/.test(gid)) byName.set(name, Number(gid));
  }
  return groups.map((g) => {
    if (/^\d+$/.test(g)) {
      if (Number(g) > 4294967295) throw bad(`groupAdd: gid ${g} does not fit in 32 bits`);
      return Number(g);
    }
    const gid = byName.get(g);
    if (gid === undefined)
      throw bad(`groupAdd: group ${JSON.stringify(truncate(g, 40))} is not in the image's /etc/group`);
    return gid;
  });
}

/**
 * The runtime spec of a container: the image config converted (entrypoint, command, env, user
 * resolved in the image's files under `rootfs`, working directory), then the ContainerSpec applied
 * (mounts, read-only root, host name, memory/CPU/pids limits, network `none`, `host`, or the
 * namespace and files `network` gives for a CNI network, capabilities, terminal and its size). Bad
 * input is a `bad-argument` engine error.
 */
export async function buildRuntimeSpec(options: {
  config: ImageConfig;
  rootfs: string;
  image: string;
  id: string;
  spec: ContainerSpec;
  network?: RuntimeNetwork | undefined;
}): Promise<Spec> {
  const { spec: want } = options;
  for (const e of want.env ?? []) {
    const key = e.split('=')[0] ?? '';
    if (!/^[^=\s]+$/.test(key)) throw bad(`invalid environment variable ${JSON.stringify(truncate(e, 40))}`);
  }
  if (want.workingDir !== undefined && !want.workingDir.startsWith('/')) {
    throw bad(`workingDir must be an absolute path, not ${JSON.stringify(truncate(want.workingDir, 80))}`);
  }
  const spec = await specFromImageConfig(options.config, {
    rootfs: options.rootfs,
    ...(want.cmd && want.cmd.length > 0 ? { args: want.cmd } : {}),
    ...(want.entrypoint !== undefined ? { entrypoint: want.entrypoint } : {}),
    env: want.env ?? [],
    ...(want.workingDir !== undefined ? { cwd: want.workingDir } : {}),
    ...(want.user !== undefined ? { user: want.user } : {}),
    terminal: want.tty === true,
  });
  const proc = spec.process;
  if (!proc || (proc.args ?? []).length === 0) {
    throw bad(`${options.image} has no command to run`);
  }
  // as podman: a user given (by -u or the image) has its primary group among the supplementary
  // ones too, then the image's memberships and --group-add's
  const userGiven = (want.user ?? options.config.config?.User ?? '') !== '';
  if (userGiven || (want.groupAdd ?? []).length > 0) {
    const user = proc.user ?? { uid: 0, gid: 0 };
    const gids = [
      ...(userGiven ? [user.gid] : []),
      ...(user.additionalGids ?? []),
      ...(await groupIds(want.groupAdd ?? [], options.rootfs)),
    ];
    proc.user = { ...user, additionalGids: [...new Set(gids)] };
  }
  if (want.tty === true && want.consoleSize)
    proc.consoleSize = { height: want.consoleSize.rows, width: want.consoleSize.columns };
  spec.hostname = want.hostname ?? options.id.slice(0, 12);
  spec.root = { path: options.rootfs, readonly: want.readOnlyRootfs === true };
  // parents before children, so a mount inside another lands on top of it
  const netFiles = (options.network?.files ?? []).map(
    (f): Mount => ({ destination: f.destination, type: 'bind', source: f.source, options: ['bind', 'rw'] }),
  );
  spec.mounts = [...(spec.mounts ?? []), ...netFiles, ...mountsOf(want)]
    .map((m, i) => ({ m, i }))
    .sort((a, b) => a.m.destination.split('/').length - b.m.destination.split('/').length || a.i - b.i)
    .map(({ m }) => m);

  if (want.init) {
    const init = INIT_BINARIES.find((p) => existsSync(p));
    if (!init)
      throw bad(`init (--init): no catatonit at ${INIT_BINARIES.join(' or ')} (apt-get install catatonit)`);
    // deeper than any /run mount, so it lands on top of it
    spec.mounts.push({
      destination: '/run/ocikit-init',
      type: 'bind',
      source: init,
      options: ['bind', 'ro', 'nosuid', 'nodev'],
    });
    proc.args = ['/run/ocikit-init', '--', ...(proc.args ?? [])];
  }

  spec.linux ??= {};
  const linux = spec.linux;
  linux.resources ??= {};
  const resources = linux.resources;
  if (want.memory !== undefined) {
    if (!(Number.isInteger(want.memory) && want.memory >= 6 * 1024 * 1024))
      throw bad(`memory: ${want.memory} bytes is below the 6 MB a container needs`);
    resources.memory = { ...resources.memory, limit: want.memory };
  }
  if (want.nanoCpus !== undefined) {
    if (!(want.nanoCpus > 0 && want.nanoCpus <= 1024e9))
      throw bad(`nanoCpus must be a positive number, not ${JSON.stringify(want.nanoCpus)}`);
    resources.cpu = { ...resources.cpu, period: 100_000, quota: Math.round((want.nanoCpus / 1e9) * 100_000) };
  }
  const { devices, rules } = devicesOf(
    want.privileged ? { ...want, devices: [...hostDevices(), ...(want.devices ?? [])] } : want,
  );
  if (devices.length > 0) {
    linux.devices = [
      ...(linux.devices ?? []).filter((d) => !devices.some((n) => n.path === d.path)),
      ...devices,
    ];
    resources.devices = [...(resources.devices ?? []), ...rules];
  }
  if (want.pidsLimit !== undefined) {
    if (!(Number.isInteger(want.pidsLimit) && want.pidsLimit >= 1))
      throw bad(`pidsLimit must be a positive whole number, not ${JSON.stringify(want.pidsLimit)}`);
    resources.pids = { limit: want.pidsLimit };
  }
  const network = want.network ?? 'none';
  if (network !== 'none' && network !== 'host' && !options.network)
    throw bad(`network must be none, host or a network, not ${JSON.stringify(truncate(network, 40))}`);
  const others = (linux.namespaces ?? []).filter((n) => n.type !== 'network');
  if (network === 'host') linux.namespaces = others;
  else if (options.network?.netns)
    linux.namespaces = [...others, { type: 'network', path: options.network.netns }];
  else if (!(linux.namespaces ?? []).some((n) => n.type === 'network'))
    linux.namespaces = [...others, { type: 'network' }];
  // podman's default_sysctls: ping without NET_RAW (ICMP datagram sockets), in the container's own
  // network namespace only — never written into the host's
  if (network !== 'host') linux.sysctl = { 'net.ipv4.ping_group_range': '0 0', ...linux.sysctl };
  for (const [key, value] of Object.entries(want.sysctls ?? {})) {
    const refusal = sysctlRefusal(key, { hostNetwork: network === 'host' });
    if (refusal) throw bad(`sysctls: ${refusal}`);
    linux.sysctl = { ...linux.sysctl, [key]: value };
  }
  if (want.shmSize !== undefined) {
    if (!(Number.isInteger(want.shmSize) && want.shmSize > 0))
      throw bad(`shmSize must be a positive number of bytes, not ${JSON.stringify(want.shmSize)}`);
    const size = `size=${want.shmSize}`;
    spec.mounts = spec.mounts.map((m) =>
      m.destination === '/dev/shm' && m.type === 'tmpfs'
        ? { ...m, options: [...(m.options ?? []).filter((o) => !o.startsWith('size=')), size] }
        : m,
    );
  }

  const add = (want.capAdd ?? []).map((c) => capName('capAdd', c));
  const drop = (want.capDrop ?? []).map((c) => capName('capDrop', c));
  proc.capabilities = {
    ...proc.capabilities,
    bounding: [...DEFAULT_CAPS],
    effective: [...DEFAULT_CAPS],
    permitted: [...DEFAULT_CAPS],
  };
  if (add.length > 0 || drop.length > 0) {
    const caps = proc.capabilities;
    const edit = (set: string[] | undefined): string[] => {
      const next = drop.includes('ALL') ? [] : (set ?? []).filter((c) => !drop.includes(c));
      return add.includes('ALL') ? [...CAPS] : [...new Set([...next, ...add])];
    };
    proc.capabilities = {
      bounding: edit(caps.bounding),
      effective: edit(caps.effective),
      permitted: edit(caps.permitted),
      ...(caps.inheritable ? { inheritable: caps.inheritable } : {}),
      ...(caps.ambient ? { ambient: caps.ambient } : {}),
    };
  }
  if (want.privileged) {
    const all = hostBoundingCaps();
    proc.capabilities = { bounding: all, effective: all, permitted: all };
    // nothing masked or read-only in /proc, /sys writable, every device allowed (podman's --privileged)
    delete linux.maskedPaths;
    delete linux.readonlyPaths;
    resources.devices = [{ allow: true, access: 'rwm' }];
    spec.mounts = spec.mounts.map((m) =>
      m.destination === '/sys' ? { ...m, options: (m.options ?? []).map((o) => (o === 'ro' ? 'rw' : o)) } : m,
    );
  }
  // podman's default (runc spec's is true): setuid programs in the image work unless asked otherwise
  proc.noNewPrivileges = false;
  for (const opt of want.securityOpt ?? []) {
    const nnp = /^no-new-privileges(?:[:=](true|false))?$/.exec(opt);
    if (nnp) proc.noNewPrivileges = nnp[1] !== 'false';
    // no seccomp profile is applied: unconfined is what the container has
    else if (!/^seccomp[:=]unconfined$/.test(opt))
      throw bad(
        `securityOpt (--security-opt): ${JSON.stringify(truncate(opt, 40))} is not no-new-privileges[:true|false] or seccomp=unconfined`,
      );
  }
  // rlimits never above this host's hard limits (the runtime would refuse to start)
  const hard = hostHardLimits();
  proc.rlimits = (proc.rlimits ?? []).map((r) => {
    const max = hard.get(r.type);
    return max === undefined ? r : { type: r.type, hard: Math.min(r.hard, max), soft: Math.min(r.soft, max) };
  });
  // the caller's, as given: above the host's hard limit the runtime refuses it, as podman's does
  for (const u of want.ulimits ?? []) {
    const type = rlimitType(u.name);
    if (!type) throw bad(`ulimits: unknown limit ${JSON.stringify(truncate(u.name, 20))}`);
    const soft = u.soft === -1 ? RLIM_INFINITY : u.soft;
    const hard = u.hard === -1 ? RLIM_INFINITY : u.hard;
    if (!(Number.isInteger(soft) && Number.isInteger(hard) && soft >= 0 && soft <= hard))
      throw bad(
        `ulimits: ${u.name} needs whole numbers (or -1, unlimited) with soft ${u.soft} at most hard ${u.hard}`,
      );
    proc.rlimits = [...proc.rlimits.filter((r) => r.type !== type), { type, soft, hard }];
  }
  return spec;
}
