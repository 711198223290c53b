import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import type { ImageConfig } from '@ocikit/image-spec';
import { type Spec, specFromImageConfig } from '@ocikit/runtime-spec';
import { fileError } from './input.ts';

/** The flags `run` and `create` share. */
export const runFlags = {
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  volume: { type: 'string', short: 'v', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  'read-only': { type: 'boolean' },
  hostname: { type: 'string' },
  memory: { type: 'string', short: 'm' },
  cpus: { type: 'string' },
  'pids-limit': { type: 'string' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  network: { type: 'string' },
  name: { type: 'string' },
  rm: { type: 'boolean' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  runtime: { type: 'string' },
  platform: { type: 'string' },
  pull: { type: 'string' },
  'plain-http': { type: 'boolean' },
  insecure: { type: 'boolean' },
  'ca-file': { type: 'string' },
} as const;

/** Help text of {@link runFlags}. */
export const runFlagsHelp = {
  env: 'set an environment variable (K=V, or K to copy it from here)',
  'env-file': 'read K=V lines from a file',
  workdir: 'working directory inside the container',
  user: 'user[:group] (names resolved in the image)',
  entrypoint: "replace the image's entrypoint",
  volume: 'bind mount HOST:CONTAINER[:ro|rw]',
  tmpfs: 'mount a tmpfs at CONTAINER[:options]',
  'read-only': 'mount the root file system read-only',
  hostname: 'the container host name (default: its short id)',
  memory: 'memory limit (e.g. 512m, 1g)',
  cpus: 'CPU limit (e.g. 1.5)',
  'pids-limit': 'most processes at once',
  'cap-add': 'add a capability (or ALL)',
  'cap-drop': 'drop a capability (or ALL)',
  network: 'none (default: loopback only) or host',
  name: 'a name for the container',
  rm: 'remove the container when it exits',
  interactive: 'keep stdin open',
  tty: 'allocate a terminal',
  runtime: 'runc (default), crun, or a path',
  platform: 'image platform when pulling (os/arch[/variant])',
  pull: 'missing (default), always or never',
  'plain-http': 'use plain HTTP for the registry',
  insecure: 'skip TLS verification',
  'ca-file': 'extra CA certificates (PEM)',
} as const;

/** Parsed values of {@link runFlags}. */
export interface RunValues {
  env?: string[] | undefined;
  'env-file'?: string[] | undefined;
  workdir?: string | undefined;
  user?: string | undefined;
  entrypoint?: string | undefined;
  volume?: string[] | undefined;
  tmpfs?: string[] | undefined;
  'read-only'?: boolean | undefined;
  hostname?: string | undefined;
  memory?: string | undefined;
  cpus?: string | undefined;
  'pids-limit'?: string | undefined;
  'cap-add'?: string[] | undefined;
  'cap-drop'?: string[] | undefined;
  network?: string | undefined;
  tty?: boolean | undefined;
}

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

function capName(flag: string, value: string): string {
  const upper = value.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!CAPS.includes(name))
    throw new InvalidArgumentError(`--${flag}: unknown capability ${JSON.stringify(truncate(value, 40))}`);
  return name;
}

/**
 * The size of the terminal ocikit runs in, for a `-t` process's `consoleSize`: the runtime sizes
 * the new console before the process starts. Without it runc sizes it from our terminal only after
 * it has the console, and a process that asks at once (`stty size`) could find it 0x0.
 */
export function consoleSizeOfTerminal(): { height: number; width: number } | undefined {
  const out = process.stdout;
  return out.isTTY && out.rows > 0 && out.columns > 0 ? { height: out.rows, width: out.columns } : undefined;
}

/** Parses `512m`, `1g`, `1048576` into bytes. */
export function parseBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(value.trim());
  if (!m)
    throw new InvalidArgumentError(
      `--${flag}: ${JSON.stringify(truncate(value, 40))} is not a size like 512m or 1g`,
    );
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const bytes = Math.floor(Number(m[1]) * mult);
  if (bytes < 6 * 1024 * 1024 && flag === 'memory') {
    throw new InvalidArgumentError(`--memory: ${value} is below the 6 MB a container needs`);
  }
  return bytes;
}

/** Docker's env-file format: `K=V` lines, `K` alone copies it from here, `#` comments. */
export async function readEnvFile(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw fileError(path, e);
  }
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    out.push(envEntry(line, env, `--env-file ${path}`));
  }
  return out;
}

function envEntry(value: string, env: Readonly<Record<string, string | undefined>>, where: string): string {
  const i = value.indexOf('=');
  const key = i < 0 ? value : value.slice(0, i);
  if (!/^[^=\s]+$/.test(key))
    throw new InvalidArgumentError(`${where}: invalid variable ${JSON.stringify(truncate(value, 40))}`);
  if (i >= 0) return value;
  const v = env[key];
  return v === undefined ? key : `${key}=${v}`;
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

/**
 * The runtime spec for `run`/`create`: the image config converted (entrypoint, command, env,
 * user resolved in the image, working directory), then the flags applied.
 */
export async function buildRunSpec(options: {
  config: ImageConfig;
  rootfs: string;
  image: string;
  command: string[];
  values: RunValues;
  id: string;
  env: Readonly<Record<string, string | undefined>>;
}): Promise<Spec> {
  const { values, env } = options;
  const extraEnv: string[] = [];
  for (const file of values['env-file'] ?? []) extraEnv.push(...(await readEnvFile(file, env)));
  for (const e of values.env ?? []) extraEnv.push(envEntry(e, env, '--env'));
  const spec = await specFromImageConfig(options.config, {
    rootfs: options.rootfs,
    ...(options.command.length > 0 ? { args: options.command } : {}),
    ...(values.entrypoint !== undefined
      ? { entrypoint: values.entrypoint === '' ? [] : [values.entrypoint] }
      : {}),
    env: extraEnv,
    ...(values.workdir !== undefined ? { cwd: values.workdir } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    terminal: values.tty === true,
  });
  const proc = spec.process;
  const consoleSize = values.tty === true ? consoleSizeOfTerminal() : undefined;
  if (proc && consoleSize) proc.consoleSize = consoleSize;
  if (!proc || (proc.args ?? []).length === 0) {
    throw new InvalidArgumentError(`${options.image} has no command to run`, {
      hint: `give one: ocikit run ${options.image} CMD…`,
    });
  }
  if (values.workdir !== undefined && !values.workdir.startsWith('/')) {
    throw new InvalidArgumentError(
      `--workdir must be an absolute path, not ${JSON.stringify(truncate(values.workdir, 80))}`,
    );
  }
  spec.hostname = values.hostname ?? options.id.slice(0, 12);
  spec.root = { path: options.rootfs, readonly: values['read-only'] === true };
  const mounts = [...(spec.mounts ?? [])];
  for (const v of values.volume ?? []) {
    const [source, destination, mode, ...extra] = v.split(':');
    if (
      !source ||
      !destination ||
      extra.length > 0 ||
      (mode !== undefined && mode !== 'ro' && mode !== 'rw')
    ) {
      throw new InvalidArgumentError(
        `--volume ${JSON.stringify(truncate(v, 80))}: write HOST:CONTAINER[:ro|rw]`,
      );
    }
    if (!isAbsolute(source) || !isAbsolute(destination)) {
      throw new InvalidArgumentError(
        `--volume ${JSON.stringify(truncate(v, 80))}: both paths must be absolute`,
      );
    }
    if (!existsSync(source))
      throw new InvalidArgumentError(`--volume: ${source} does not exist on this host`);
    mounts.push({ destination, type: 'bind', source, options: ['rbind', mode === 'ro' ? 'ro' : 'rw'] });
  }
  for (const t of values.tmpfs ?? []) {
    const i = t.indexOf(':');
    const destination = i < 0 ? t : t.slice(0, i);
    if (!isAbsolute(destination))
      throw new InvalidArgumentError(`--tmpfs ${JSON.stringify(truncate(t, 80))}: the path must be absolute`);
    const opts =
      i < 0
        ? []
        : t
            .slice(i + 1)
            .split(',')
            .filter(Boolean);
    mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...opts] });
  }
  // parents before children, so a mount inside another lands on top of it
  spec.mounts = mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => a.m.destination.split('/').length - b.m.destination.split('/').length || a.i - b.i)
    .map(({ m }) => m);

  spec.linux ??= {};
  const linux = spec.linux;
  linux.resources ??= {};
  const resources = linux.resources;
  if (values.memory !== undefined)
    resources.memory = { ...resources.memory, limit: parseBytes('memory', values.memory) };
  if (values.cpus !== undefined) {
    const cpus = Number(values.cpus);
    if (!(cpus > 0 && cpus <= 1024))
      throw new InvalidArgumentError(`--cpus must be a positive number, not ${JSON.stringify(values.cpus)}`);
    resources.cpu = { ...resources.cpu, period: 100_000, quota: Math.round(cpus * 100_000) };
  }
  if (values['pids-limit'] !== undefined) {
    const n = Number(values['pids-limit']);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(
        `--pids-limit must be a positive whole number, not ${JSON.stringify(values['pids-limit'])}`,
      );
    resources.pids = { limit: n };
  }
  const network = values.network ?? 'none';
  if (network !== 'none' && network !== 'host') {
    throw new InvalidArgumentError(
      `--network must be none or host, not ${JSON.stringify(truncate(network, 40))}`,
    );
  }
  if (network === 'host') linux.namespaces = (linux.namespaces ?? []).filter((n) => n.type !== 'network');
  else if (!(linux.namespaces ?? []).some((n) => n.type === 'network'))
    linux.namespaces = [...(linux.namespaces ?? []), { type: 'network' }];

  const add = (values['cap-add'] ?? []).map((c) => capName('cap-add', c));
  const drop = (values['cap-drop'] ?? []).map((c) => capName('cap-drop', c));
  if (add.length > 0 || drop.length > 0) {
    const caps = proc.capabilities ?? {};
    const edit = (set: string[] | undefined): string[] => {
      let next = drop.includes('ALL') ? [] : (set ?? []).filter((c) => !drop.includes(c));
      next = add.includes('ALL') ? [...CAPS] : [...new Set([...next, ...add])];
      return next;
    };
    proc.capabilities = {
      bounding: edit(caps.bounding),
      effective: edit(caps.effective),
      permitted: edit(caps.permitted),
      ...(caps.inheritable ? { inheritable: caps.inheritable } : {}),
      ...(caps.ambient ? { ambient: caps.ambient } : {}),
    };
  }
  // rlimits never above this host's hard limits (the runtime would refuse to start)
  const hard = hostHardLimits();
  proc.rlimits = (proc.rlimits ?? []).map((r) => {
    const max = hard.get(r.type);
    return max === undefined ? r : { type: r.type, hard: Math.min(r.hard, max), soft: Math.min(r.soft, max) };
  });
  return spec;
}
