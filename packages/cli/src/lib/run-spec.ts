// `run`/`create` flags → the engine contract's ContainerSpec: the flags are read here, the container
// is made by the engine (issue 14).
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { ContainerSpec, CreateOptions, DeviceMapping, MountSpec, Ulimit } from '@ocikit/engine';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { rlimitType, sysctlRefusal } from '@ocikit/runtime-spec';
import { signalNumber } from '@ocikit/shim';
import { fileError, keyValues } from './input.ts';
import { localStoreRef } from './location.ts';
import { type NetworkRunValues, networkRunFlags, networkRunFlagsHelp, networkSpec } from './network-flags.ts';

/** The flags `run` and `create` share. */
export const runFlags = {
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  volume: { type: 'string', short: 'v', multiple: true },
  mount: { type: 'string', multiple: true },
  'volumes-from': { type: 'string', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  'read-only': { type: 'boolean' },
  hostname: { type: 'string', short: 'h' },
  memory: { type: 'string', short: 'm' },
  cpus: { type: 'string' },
  'pids-limit': { type: 'string' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  ulimit: { type: 'string', multiple: true },
  sysctl: { type: 'string', multiple: true },
  'shm-size': { type: 'string' },
  'group-add': { type: 'string', multiple: true },
  device: { type: 'string', multiple: true },
  'security-opt': { type: 'string', multiple: true },
  privileged: { type: 'boolean' },
  init: { type: 'boolean' },
  network: { type: 'string' },
  ...networkRunFlags,
  name: { type: 'string' },
  label: { type: 'string', short: 'l', multiple: true },
  'label-file': { type: 'string', multiple: true },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  rm: { type: 'boolean' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  runtime: { type: 'string' },
  platform: { type: 'string' },
  pull: { type: 'string' },
  'plain-http': { type: 'boolean' },
  insecure: { type: 'boolean' },
  'ca-file': { type: 'string' },
  'signature-policy': { type: 'string' },
} as const;

/** Help text of {@link runFlags}. */
export const runFlagsHelp = {
  env: 'set an environment variable (K=V, or K to copy it from here)',
  'env-file': 'read K=V lines from a file',
  workdir: 'working directory inside the container',
  user: 'user[:group] (names resolved in the image)',
  entrypoint: "replace the image's entrypoint",
  volume:
    'HOST-PATH:CONTAINER[:ro|rw] (a bind), NAME:CONTAINER[:ro|rw][,nocopy] (a volume, made on first use), or CONTAINER (an anonymous volume)',
  mount:
    "type=bind|volume|tmpfs,src=…,dst=…[,ro][,volume-nocopy][,tmpfs-size=…][,tmpfs-mode=…] (docker's syntax)",
  'volumes-from': "mount another container's volumes and binds: CONTAINER[:ro|rw]",
  tmpfs: 'mount a tmpfs at CONTAINER[:options]',
  'read-only': 'mount the root file system read-only',
  hostname: 'the container host name (default: its short id)',
  memory: 'memory limit (e.g. 512m, 1g)',
  cpus: 'CPU limit (e.g. 1.5)',
  'pids-limit': 'most processes at once',
  'cap-add': 'add a capability (or ALL)',
  'cap-drop': 'drop a capability (or ALL)',
  ulimit: 'a resource limit NAME=SOFT[:HARD] (nofile, nproc, core, memlock, stack…)',
  sysctl: 'a namespaced kernel parameter K=V (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*)',
  'shm-size': 'the size of /dev/shm (e.g. 64m; default 64m)',
  init: 'run catatonit as PID 1, forwarding signals and reaping zombies (needs the catatonit package)',
  privileged: 'every capability, every host device, nothing masked, /sys writable (decision 207)',
  'security-opt': 'no-new-privileges[=true|false], or seccomp=unconfined (ocikit applies no seccomp profile)',
  device:
    'a host device in the container: HOST[:CONTAINER][:PERMS] (PERMS of r, w, m; default rwm); a HOST directory gives every device node under it, at the same paths under CONTAINER',
  'group-add': "an extra group for the process: a gid or a name in the image's /etc/group",
  network:
    "none (the local engine's default: loopback only), host, bridge (the engine's default network) or a network's name",
  ...networkRunFlagsHelp,
  name: 'a name for the container',
  label: 'set a label on the container (K=V, or K for an empty value)',
  'label-file': 'read K=V label lines from a file (# comments; --label wins over it)',
  'stop-signal': "the signal stop sends first (SIGINT, INT or 2; default: the image's, else SIGTERM)",
  'stop-timeout': 'seconds stop waits before SIGKILL when stop is given no -t (default 10)',
  rm: 'remove the container when it exits',
  interactive: 'keep stdin open',
  tty: 'allocate a terminal',
  runtime: 'runc (default), crun, or a path',
  platform: 'image platform when pulling (os/arch[/variant])',
  pull: 'missing (default), always or never',
  'plain-http': 'use plain HTTP for the registry',
  insecure: 'skip TLS verification',
  'ca-file': 'extra CA certificates (PEM)',
  'signature-policy': 'check a pulled image against this containers-policy.json',
} as const;

/** Parsed values of {@link runFlags}. */
export interface RunValues extends NetworkRunValues {
  env?: string[] | undefined;
  'env-file'?: string[] | undefined;
  workdir?: string | undefined;
  user?: string | undefined;
  entrypoint?: string | undefined;
  volume?: string[] | undefined;
  mount?: string[] | undefined;
  'volumes-from'?: string[] | undefined;
  tmpfs?: string[] | undefined;
  'read-only'?: boolean | undefined;
  hostname?: string | undefined;
  memory?: string | undefined;
  cpus?: string | undefined;
  'pids-limit'?: string | undefined;
  'cap-add'?: string[] | undefined;
  'cap-drop'?: string[] | undefined;
  ulimit?: string[] | undefined;
  sysctl?: string[] | undefined;
  'shm-size'?: string | undefined;
  'group-add'?: string[] | undefined;
  device?: string[] | undefined;
  'security-opt'?: string[] | undefined;
  privileged?: boolean | undefined;
  init?: boolean | undefined;
  network?: string | undefined;
  tty?: boolean | undefined;
  name?: string | undefined;
  label?: string[] | undefined;
  'label-file'?: string[] | undefined;
  'stop-signal'?: string | undefined;
  'stop-timeout'?: string | undefined;
  rm?: boolean | undefined;
  interactive?: boolean | undefined;
  runtime?: string | undefined;
  platform?: string | undefined;
  pull?: string | undefined;
  'plain-http'?: boolean | undefined;
  insecure?: boolean | undefined;
  'ca-file'?: string | undefined;
  'signature-policy'?: string | undefined;
}

/**
 * The size of the terminal ocikit runs in, for a `-t` process's `consoleSize`: the runtime sizes
 * the new console before the process starts. Without it runc sizes it from our terminal only after
 * it has the console, and a process that asks at once (`stty size`) could find it 0x0.
 */
export function consoleSizeOfTerminal(): { rows: number; columns: number } | undefined {
  const out = process.stdout;
  return out.isTTY && out.rows > 0 && out.columns > 0 ? { rows: out.rows, columns: out.columns } : undefined;
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

/**
 * The labels of `--label-file` then `--label` (which wins), as podman and docker merge them: file
 * lines `K=V` (leading blanks dropped; as in docker's and podman's parser, a line without `=` is
 * skipped, while `--label K` is an empty value), blank lines and `#` comments skipped. An empty name, a file's name with white space (podman's and docker's file parser refuses
 * it) or a file that cannot be read is refused.
 */
export async function runLabels(
  values: Pick<RunValues, 'label' | 'label-file'>,
): Promise<Record<string, string>> {
  const labels: Record<string, string> = {};
  for (const path of values['label-file'] ?? []) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`--label-file: ${fileError(path, e).message}`, { cause: e });
    }
    const lines = text
      .split(/\r?\n/)
      .map((line) => line.trimStart())
      .filter((line) => line.includes('=') && !line.startsWith('#'));
    const fromFile = keyValues(lines, `--label-file ${path}:`);
    for (const key of Object.keys(fromFile))
      if (/\s/.test(key))
        throw new InvalidArgumentError(
          `--label-file ${path}: ${JSON.stringify(truncate(key, 60))}: a label name has no white space`,
        );
    Object.assign(labels, fromFile);
  }
  return Object.assign(labels, keyValues(values.label, '--label'));
}

/** `--stop-signal` as podman reads it (`int`, `SIGINT`, `2`): `SIGINT`, or the number given. */
export function stopSignalFlag(value: string): string {
  try {
    signalNumber(value);
  } catch (e) {
    throw new InvalidArgumentError(`--stop-signal: ${(e as Error).message}`, { cause: e });
  }
  if (/^\d+$/.test(value)) {
    if (Number(value) < 1 || Number(value) > 64)
      throw new InvalidArgumentError(`--stop-signal: ${value} is not a signal number (1-64)`);
    return value;
  }
  const upper = value.toUpperCase();
  return upper.startsWith('SIG') ? upper : `SIG${upper}`;
}

/** `--ulimit NAME=SOFT[:HARD]` as podman reads it (HARD is SOFT when left out; -1 is unlimited, RLIM_INFINITY). */
export function ulimitFlag(value: string): Ulimit {
  const bad = (why: string) =>
    new InvalidArgumentError(`--ulimit ${JSON.stringify(truncate(value, 60))}: ${why}`, {
      hint: 'write NAME=SOFT[:HARD], e.g. nofile=1024:2048',
    });
  const m = /^([A-Za-z_]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
  if (!m) throw bad('not NAME=SOFT[:HARD] with whole numbers');
  const [, name = '', softText = '', hardText] = m;
  if (!rlimitType(name)) throw bad(`unknown limit ${JSON.stringify(name)}`);
  const soft = Number(softText);
  const hard = hardText === undefined ? soft : Number(hardText);
  if (soft < -1 || hard < -1) throw bad('a limit is a whole number, or -1 for unlimited');
  // -1 is unlimited: above every number (podman refuses core=-1:0 too)
  if (hard !== -1 && (soft === -1 || soft > hard)) throw bad('the soft limit is above the hard one');
  return { name: name.toLowerCase(), soft, hard };
}

/** `--sysctl K=V` flags, each a namespaced kernel parameter (podman's check; `net.*` not with `--network host`). */
export function sysctlFlags(values: readonly string[], hostNetwork: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of values) {
    const i = kv.indexOf('=');
    if (i <= 0)
      throw new InvalidArgumentError(`--sysctl ${JSON.stringify(truncate(kv, 60))}: write KEY=VALUE`);
    const key = kv.slice(0, i);
    const refusal = sysctlRefusal(key, { hostNetwork });
    if (refusal) throw new InvalidArgumentError(`--sysctl: ${truncate(refusal, 160)}`);
    out[key] = kv.slice(i + 1);
  }
  return out;
}

/**
 * `--device HOST[:CONTAINER][:PERMS]` as podman reads it (the node itself is the engine's to check;
 * a HOST directory is the engine's to walk: each device node under it, as podman).
 */
export function deviceFlag(value: string): DeviceMapping {
  const bad = (why: string) =>
    new InvalidArgumentError(`--device ${JSON.stringify(truncate(value, 80))}: ${why}`, {
      hint: 'write HOST[:CONTAINER][:PERMS], e.g. /dev/fuse or /dev/sda:/dev/xvda:rw',
    });
  const parts = value.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw bad('too many or empty fields');
  const [pathOnHost = '', second, third] = parts;
  const perms = (p: string) => /^[rwm]{1,3}$/.test(p) && new Set(p).size === p.length;
  let pathInContainer = pathOnHost;
  let cgroupPermissions = 'rwm';
  if (third !== undefined) {
    pathInContainer = second ?? pathOnHost;
    cgroupPermissions = third;
  } else if (second !== undefined) {
    if (second.startsWith('/')) pathInContainer = second;
    else cgroupPermissions = second;
  }
  if (!isAbsolute(pathOnHost)) throw bad('the host path must be absolute');
  if (!isAbsolute(pathInContainer)) throw bad('the path in the container must be absolute');
  if (!perms(cgroupPermissions))
    throw bad(`permissions are r, w and m, not ${JSON.stringify(cgroupPermissions)}`);
  return { pathOnHost, pathInContainer, cgroupPermissions };
}

/** `--security-opt` as docker's engine takes it: `no-new-privileges:true|false` or `seccomp=unconfined`. */
export function securityOptFlag(value: string): string {
  const nnp = /^no-new-privileges(?:[:=](true|false))?$/.exec(value);
  if (nnp) return `no-new-privileges:${nnp[1] ?? 'true'}`;
  if (/^seccomp[:=]unconfined$/.test(value)) return 'seccomp=unconfined';
  throw new InvalidArgumentError(
    `--security-opt ${JSON.stringify(truncate(value, 60))}: ocikit takes no-new-privileges[=true|false] and seccomp=unconfined`,
  );
}

/** `--group-add GID|NAME`, checked for its form (a name is the engine's to find in the image). */
function groupAddFlag(value: string): string {
  if (!/^(\d+|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/.test(value))
    throw new InvalidArgumentError(
      `--group-add ${JSON.stringify(truncate(value, 40))}: give a gid or a group name`,
    );
  return value;
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

/** What `run`/`create` ask the engine for: the container and how to get its image. */
export interface RunRequest {
  /** The container. */
  spec: ContainerSpec;
  /** The pull policy (`local:REF` is the local store alone: never pulled, decision 083). */
  pull: NonNullable<CreateOptions['pull']>;
}

/** Docker's rule for a volume name (a source that is not a path). */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const volumeHint =
  'write HOST-PATH:CONTAINER[:ro|rw] (a bind), NAME:CONTAINER[:ro|rw] (a named volume) or CONTAINER (an anonymous volume)';

/**
 * `--volume` as Docker reads it: `/host:/ctr[:ro|rw]` a bind, `name:/ctr[:ro|rw]` a named volume (a
 * source without `/`), `/ctr` alone an anonymous volume.
 */
export function volumeMount(v: string): MountSpec {
  const bad = (why: string) =>
    new InvalidArgumentError(`--volume ${JSON.stringify(truncate(v, 80))}: ${why}`, { hint: volumeHint });
  const parts = v.split(':');
  if (parts.length === 1) {
    if (!isAbsolute(v)) throw bad('the path in the container must be absolute');
    return { type: 'volume', target: v };
  }
  const [source = '', target = '', mode, ...extra] = parts;
  if (source === '' || target === '' || extra.length > 0) throw bad('too many or empty fields');
  // modes as Docker's: ro|rw, nocopy (volumes), z|Z (SELinux relabelling: nothing to do without SELinux)
  const modes = mode === undefined ? [] : mode.split(',');
  for (const m of modes)
    if (!['ro', 'rw', 'z', 'Z', 'nocopy'].includes(m))
      throw bad(`unknown mode ${JSON.stringify(truncate(m, 20))}`);
  if (modes.includes('ro') && modes.includes('rw')) throw bad('ro and rw together');
  if (!isAbsolute(target)) throw bad('the path in the container must be absolute');
  const readOnly = modes.includes('ro');
  if (isAbsolute(source)) {
    if (modes.includes('nocopy')) throw bad('nocopy is for volumes, not host paths');
    return { type: 'bind', source, target, readOnly };
  }
  if (source.includes('/') || !VOLUME_NAME.test(source))
    throw bad(
      `${JSON.stringify(truncate(source, 40))} is neither an absolute host path nor a volume name (letters, digits, _ . -)`,
    );
  return { type: 'volume', source, target, readOnly, ...(modes.includes('nocopy') ? { noCopy: true } : {}) };
}

const mountHint =
  'write type=bind,src=/host/path,dst=/path[,ro], type=volume[,src=NAME],dst=/path[,ro][,volume-nocopy] or type=tmpfs,dst=/path[,tmpfs-size=64m][,tmpfs-mode=1777]';

/** `--mount` in Docker's syntax: comma-separated `key=value` (`ro`/`readonly` alone is true). */
export function mountFlag(m: string): MountSpec {
  const bad = (why: string) =>
    new InvalidArgumentError(`--mount ${JSON.stringify(truncate(m, 80))}: ${why}`, { hint: mountHint });
  const fields = new Map<string, string>();
  for (const field of m.split(',')) {
    if (field === '') continue;
    const i = field.indexOf('=');
    const key = (i < 0 ? field : field.slice(0, i)).trim().toLowerCase();
    const canonical = { src: 'source', dst: 'target', destination: 'target', readonly: 'ro' }[key] ?? key;
    if (fields.has(canonical)) throw bad(`${key} given twice`);
    if (i < 0 && canonical !== 'ro' && canonical !== 'volume-nocopy')
      throw bad(`${key} needs a value (${key}=…)`);
    fields.set(canonical, i < 0 ? 'true' : field.slice(i + 1));
  }
  const known = new Set(['type', 'source', 'target', 'ro', 'volume-nocopy', 'tmpfs-size', 'tmpfs-mode']);
  for (const key of fields.keys())
    if (!known.has(key)) throw bad(`unknown field ${JSON.stringify(truncate(key, 30))}`);
  const type = fields.get('type') ?? 'volume';
  const target = fields.get('target');
  if (!target) throw bad('give dst= (the path in the container)');
  if (!isAbsolute(target)) throw bad('dst must be an absolute path');
  const roValue = fields.get('ro');
  if (roValue !== undefined && !['true', 'false', '1', '0'].includes(roValue))
    throw bad(`ro must be true or false, not ${JSON.stringify(truncate(roValue, 20))}`);
  const readOnly = roValue === 'true' || roValue === '1';
  const noCopyValue = fields.get('volume-nocopy');
  if (noCopyValue !== undefined && !['true', 'false', '1', '0'].includes(noCopyValue))
    throw bad(`volume-nocopy must be true or false, not ${JSON.stringify(truncate(noCopyValue, 20))}`);
  const noCopy = noCopyValue === 'true' || noCopyValue === '1';
  if (noCopyValue !== undefined && type !== 'volume') throw bad('volume-nocopy is for type=volume');
  const source = fields.get('source');
  if (type !== 'tmpfs' && (fields.has('tmpfs-size') || fields.has('tmpfs-mode')))
    throw bad('tmpfs-size and tmpfs-mode are for type=tmpfs');
  if (type === 'bind') {
    if (!source) throw bad('a bind needs src= (the host path)');
    if (!isAbsolute(source)) throw bad('src of a bind must be an absolute host path');
    return { type: 'bind', source, target, readOnly };
  }
  if (type === 'volume') {
    if (source !== undefined && !VOLUME_NAME.test(source))
      throw bad(`${JSON.stringify(truncate(source, 40))} is not a volume name (letters, digits, _ . -)`);
    return {
      type: 'volume',
      ...(source !== undefined ? { source } : {}),
      target,
      readOnly,
      ...(noCopy ? { noCopy: true } : {}),
    };
  }
  if (type === 'tmpfs') {
    if (source !== undefined) throw bad('a tmpfs takes no src');
    const options: string[] = [];
    const size = fields.get('tmpfs-size');
    if (size !== undefined) options.push(`size=${parseBytes('mount tmpfs-size', size)}`);
    const mode = fields.get('tmpfs-mode');
    if (mode !== undefined) {
      if (!/^[0-7]{1,4}$/.test(mode))
        throw bad(`tmpfs-mode must be octal (1777), not ${JSON.stringify(truncate(mode, 20))}`);
      options.push(`mode=${mode}`);
    }
    if (readOnly) options.push('ro');
    return { type: 'tmpfs', target, ...(options.length > 0 ? { options } : {}) };
  }
  throw bad(`type must be bind, volume or tmpfs, not ${JSON.stringify(truncate(type, 20))}`);
}

/** `--volumes-from CONTAINER[:ro|rw]`, checked. */
function volumesFromFlag(v: string): string {
  const m = /^([^:]+)(?::(.*))?$/.exec(v);
  if (!m || (m[2] !== undefined && m[2] !== 'ro' && m[2] !== 'rw'))
    throw new InvalidArgumentError(
      `--volumes-from ${JSON.stringify(truncate(v, 80))}: write CONTAINER[:ro|rw]`,
    );
  return v;
}

/** `--tmpfs CONTAINER[:options]` as a tmpfs mount. */
function tmpfsMount(t: string): MountSpec {
  const i = t.indexOf(':');
  const target = i < 0 ? t : t.slice(0, i);
  if (!isAbsolute(target))
    throw new InvalidArgumentError(`--tmpfs ${JSON.stringify(truncate(t, 80))}: the path must be absolute`);
  const options =
    i < 0
      ? []
      : t
          .slice(i + 1)
          .split(',')
          .filter(Boolean);
  return { type: 'tmpfs', target, ...(options.length > 0 ? { options } : {}) };
}

/**
 * What `run`/`create` ask of the engine, from their flags and `IMAGE [CMD…]`: env files read and
 * `-e K` copied from `env`, sizes and counts parsed, mounts and the terminal's size; the image's
 * own config is the engine's to apply.
 */
export async function runRequest(
  values: RunValues,
  positionals: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<RunRequest> {
  const [arg, ...cmd] = positionals;
  if (!arg) throw new InvalidArgumentError('give an image: ocikit run [flags] IMAGE [CMD…]');
  // `local:REF` is the local store and nothing else (decision 083): never pulled
  const image = localStoreRef(arg, 'ocikit run: image');
  const pull = image === arg ? (values.pull ?? 'missing') : 'never';
  if (pull !== 'missing' && pull !== 'always' && pull !== 'never')
    throw new InvalidArgumentError(`--pull must be missing, always or never, not ${JSON.stringify(pull)}`);
  const envs: string[] = [];
  for (const file of values['env-file'] ?? []) envs.push(...(await readEnvFile(file, env)));
  for (const e of values.env ?? []) envs.push(envEntry(e, env, '--env'));
  if (values.workdir !== undefined && !values.workdir.startsWith('/'))
    throw new InvalidArgumentError(
      `--workdir must be an absolute path, not ${JSON.stringify(truncate(values.workdir, 80))}`,
    );
  let nanoCpus: number | undefined;
  if (values.cpus !== undefined) {
    const cpus = Number(values.cpus);
    if (!(cpus > 0 && cpus <= 1024))
      throw new InvalidArgumentError(`--cpus must be a positive number, not ${JSON.stringify(values.cpus)}`);
    nanoCpus = Math.round(cpus * 1e9);
  }
  let pidsLimit: number | undefined;
  if (values['pids-limit'] !== undefined) {
    pidsLimit = Number(values['pids-limit']);
    if (!Number.isInteger(pidsLimit) || pidsLimit < 1)
      throw new InvalidArgumentError(
        `--pids-limit must be a positive whole number, not ${JSON.stringify(values['pids-limit'])}`,
      );
  }
  let stopTimeout: number | undefined;
  if (values['stop-timeout'] !== undefined) {
    stopTimeout = Number(values['stop-timeout']);
    // podman takes a whole number of seconds (a uint)
    if (!/^\d+$/.test(values['stop-timeout']) || !Number.isSafeInteger(stopTimeout))
      throw new InvalidArgumentError(
        `--stop-timeout must be a whole number of seconds, not ${JSON.stringify(values['stop-timeout'])}`,
      );
  }
  const mounts = [
    ...(values.volume ?? []).map(volumeMount),
    ...(values.mount ?? []).map(mountFlag),
    ...(values.tmpfs ?? []).map(tmpfsMount),
  ];
  const volumesFrom = (values['volumes-from'] ?? []).map(volumesFromFlag);
  const consoleSize = values.tty === true ? consoleSizeOfTerminal() : undefined;
  const network = networkSpec(values);
  const labels = await runLabels(values);
  const ulimits = (values.ulimit ?? []).map(ulimitFlag);
  const sysctls = sysctlFlags(values.sysctl ?? [], network.network === 'host');
  const spec: ContainerSpec = {
    image,
    ...(cmd.length > 0 ? { cmd } : {}),
    ...(values.entrypoint !== undefined
      ? { entrypoint: values.entrypoint === '' ? [] : [values.entrypoint] }
      : {}),
    ...(envs.length > 0 ? { env: envs } : {}),
    ...(values.workdir !== undefined ? { workingDir: values.workdir } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.hostname !== undefined ? { hostname: values.hostname } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(values.tty ? { tty: true } : {}),
    ...(values.interactive ? { openStdin: true } : {}),
    ...(consoleSize ? { consoleSize } : {}),
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(volumesFrom.length > 0 ? { volumesFrom } : {}),
    ...(values['read-only'] ? { readOnlyRootfs: true } : {}),
    ...network,
    ...(values['cap-add'] ? { capAdd: values['cap-add'] } : {}),
    ...(values['cap-drop'] ? { capDrop: values['cap-drop'] } : {}),
    ...(values.memory !== undefined ? { memory: parseBytes('memory', values.memory) } : {}),
    ...(nanoCpus !== undefined ? { nanoCpus } : {}),
    ...(pidsLimit !== undefined ? { pidsLimit } : {}),
    ...(ulimits.length > 0 ? { ulimits } : {}),
    ...(Object.keys(sysctls).length > 0 ? { sysctls } : {}),
    ...(values.privileged ? { privileged: true } : {}),
    ...(values.init ? { init: true } : {}),
    ...(values['security-opt'] ? { securityOpt: values['security-opt'].map(securityOptFlag) } : {}),
    ...(values.device ? { devices: values.device.map(deviceFlag) } : {}),
    ...(values['group-add'] ? { groupAdd: values['group-add'].map(groupAddFlag) } : {}),
    ...(values['shm-size'] !== undefined ? { shmSize: parseBytes('shm-size', values['shm-size']) } : {}),
    ...(values.rm ? { autoRemove: true } : {}),
    ...(values['stop-signal'] !== undefined ? { stopSignal: stopSignalFlag(values['stop-signal']) } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    ...(values.runtime !== undefined ? { runtime: values.runtime } : {}),
    ...(values.platform !== undefined ? { platform: values.platform } : {}),
  };
  return { spec, pull };
}
