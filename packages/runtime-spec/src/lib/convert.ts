import { InvalidArgumentError, truncate } from '@ocikit/errors';
import type { ImageConfig } from '@ocikit/image-spec';
import { defaultSpec } from './defaults.ts';
import { readInRoot } from './rootfs.ts';
import type { Spec, User } from './types.ts';

/** Options of {@link specFromImageConfig}. */
export interface ConvertOptions {
  /** The unpacked root file system, to resolve user and group names from its /etc/passwd and /etc/group. */
  rootfs?: string;
  /** Replaces the image's Cmd (like `docker run IMAGE ARGS…`). */
  args?: string[];
  /** Replaces the image's Entrypoint (and drops its Cmd unless `args` is given). */
  entrypoint?: string[];
  /** Extra `NAME=VALUE` entries; they replace the image's entries of the same name. */
  env?: string[];
  /** Replaces the image's WorkingDir. */
  cwd?: string;
  /** Replaces the image's User: `user`, `uid`, `user:group`, `uid:gid`, … */
  user?: string;
  /** Attach a terminal (adds TERM=xterm when the image sets none). */
  terminal?: boolean;
  /**
   * Mount the root file system read-only (`root.readonly`), as `podman run --read-only`. Default
   * false: writable, as podman and Docker have it; a `base` given without this keeps its own setting.
   */
  readOnly?: boolean;
  /** The config to start from (default: {@link defaultSpec}). */
  base?: Spec;
  /**
   * Security policy for the image's `Config.Labels`: labels for which this returns true are not
   * copied into `annotations` (conversion.md allows omitting unsafe ones). Default: copy all.
   */
  omitLabel?: (key: string, value: string) => boolean;
  /** Aborts reading the root file system. */
  signal?: AbortSignal;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && f[0] && !f[0].startsWith('#'))
    .map((f) => ({ name: f[0] as string, uid: Number(f[2]), gid: Number(f[3]) }))
    .filter((e) => Number.isInteger(e.uid) && Number.isInteger(e.gid));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && f[0] && !f[0].startsWith('#'))
    .map((f) => ({
      name: f[0] as string,
      gid: Number(f[2]),
      members: (f[3] ?? '').split(',').filter(Boolean),
    }))
    .filter((e) => Number.isInteger(e.gid));
}

const numeric = (s: string) => /^[0-9]+$/.test(s);

/**
 * Resolves an image's `User` (`user`, `uid`, `user:group`, `uid:gid`, `user:gid`, `uid:group`)
 * to numeric IDs using the root file system's /etc/passwd and /etc/group (read with symlinks
 * resolved inside the root). A numeric uid without a group takes its primary gid from /etc/passwd
 * when listed there (0 otherwise). Supplementary groups come from /etc/group membership, and only
 * for a user named without a group, as conversion.md says. A name that is not found is an
 * InvalidArgumentError naming the user and the file.
 */
export async function resolveUser(
  value: string,
  rootfs: string | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<User> {
  if (value === '') return { uid: 0, gid: 0 };
  const colon = value.indexOf(':');
  const userPart = colon < 0 ? value : value.slice(0, colon);
  const groupPart = colon < 0 ? undefined : value.slice(colon + 1);
  for (const [what, part] of [
    ['uid', userPart],
    ['gid', groupPart],
  ] as const) {
    if (part !== undefined && numeric(part) && Number(part) > 4294967295) {
      throw new InvalidArgumentError(
        `user "${truncate(value)}": ${what} ${truncate(part)} does not fit in 32 bits`,
        {
          details: { user: truncate(value), reason: 'id-out-of-range' },
        },
      );
    }
  }
  const needFiles =
    !numeric(userPart) || (groupPart !== undefined && !numeric(groupPart)) || rootfs !== undefined;
  const passwdText = needFiles && rootfs ? await readInRoot(rootfs, '/etc/passwd', options) : undefined;
  const groupText = needFiles && rootfs ? await readInRoot(rootfs, '/etc/group', options) : undefined;
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const where = (file: string, text: string | undefined) =>
    rootfs === undefined
      ? `no root file system was given to read ${file} from`
      : text === undefined
        ? `${file} does not exist in ${rootfs}`
        : `not found in ${rootfs}${file}`;
  let uid: number;
  let gid = 0;
  let name: string | undefined;
  if (numeric(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((e) => e.uid === uid);
    if (entry) {
      gid = entry.gid;
      name = entry.name;
    }
  } else {
    const entry = passwd.find((e) => e.name === userPart);
    if (!entry) {
      throw new InvalidArgumentError(`user "${truncate(userPart)}": ${where('/etc/passwd', passwdText)}`, {
        details: { user: truncate(userPart), file: '/etc/passwd', reason: 'user-not-found' },
        hint: 'use a numeric uid, or a user the image defines',
      });
    }
    uid = entry.uid;
    gid = entry.gid;
    name = entry.name;
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (numeric(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((g) => g.name === groupPart);
      if (!group) {
        throw new InvalidArgumentError(`group "${truncate(groupPart)}": ${where('/etc/group', groupText)}`, {
          details: { group: truncate(groupPart), file: '/etc/group', reason: 'group-not-found' },
          hint: 'use a numeric gid, or a group the image defines',
        });
      }
      gid = group.gid;
    }
  }
  const user: User = { uid, gid };
  // conversion.md: additionalGids only for a user given by name and without a group.
  if (name !== undefined && groupPart === undefined && !numeric(userPart)) {
    const extra = groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid);
    if (extra.length) user.additionalGids = [...new Set(extra)];
  }
  return user;
}

function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...out.values()];
}

/**
 * Builds a runtime config from an image config, following image-spec's conversion.md: Entrypoint +
 * Cmd become `process.args`, Env `process.env` (PATH added when missing), WorkingDir `process.cwd`,
 * User the resolved `process.user`, the root file system writable unless `readOnly`, and the image's os, architecture, variant, os.version,
 * os.features, author, created, StopSignal and ExposedPorts become `org.opencontainers.image.*`
 * annotations, and `Config.Labels` are copied into `annotations`, winning over those.
 * `Config.Volumes` are not turned into mounts (the caller decides how to back them).
 *
 * @example
 * ```ts
 * const spec = await specFromImageConfig(config, { rootfs: 'bundle/rootfs', args: ['echo', 'hi'] });
 * ```
 */
export async function specFromImageConfig(config: ImageConfig, options: ConvertOptions = {}): Promise<Spec> {
  const spec = structuredClone(options.base ?? defaultSpec());
  const exec = config.config ?? {};
  const entrypoint = options.entrypoint ?? exec.Entrypoint ?? [];
  const cmd = options.args ?? (options.entrypoint ? [] : (exec.Cmd ?? []));
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new InvalidArgumentError('the image has no Entrypoint or Cmd, and no command was given', {
      hint: 'give the command to run',
    });
  }
  let env = [...(exec.Env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  if (options.terminal && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  env = mergeEnv(env, options.env ?? []);
  const process = spec.process ?? { cwd: '/' };
  process.args = args;
  process.env = env;
  process.cwd = options.cwd ?? (exec.WorkingDir || '/');
  process.terminal = options.terminal ?? false;
  process.user = await resolveUser(
    options.user ?? exec.User ?? '',
    options.rootfs,
    options.signal ? { signal: options.signal } : {},
  );
  spec.process = process;
  if (options.readOnly !== undefined || options.base === undefined) {
    spec.root = { ...(spec.root ?? { path: 'rootfs' }), readonly: options.readOnly ?? false };
  }
  const annotations: Record<string, string> = { ...spec.annotations };
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') annotations[`org.opencontainers.image.${key}`] = value;
  };
  set('os', config.os);
  set('architecture', config.architecture);
  set('variant', config.variant);
  set('os.version', config['os.version']);
  set('os.features', config['os.features']?.join(','));
  set('author', config.author);
  set('created', config.created);
  set('stopSignal', exec.StopSignal);
  set('exposedPorts', exec.ExposedPorts ? Object.keys(exec.ExposedPorts).join(',') : undefined);
  // Config.Labels take precedence over the implicit annotations above (conversion.md "Annotations").
  for (const [key, value] of Object.entries(exec.Labels ?? {})) {
    if (!options.omitLabel?.(key, value)) annotations[key] = value;
  }
  if (Object.keys(annotations).length) spec.annotations = annotations;
  return spec;
}
