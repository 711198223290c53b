// RUN in a real container: the previous step's tree as an active snapshot, the command run by the
// OCI runtime with the stage's env/user/workdir (the ARGs in effect added to its environment), its
// --mount's (cache dirs kept in the state root, binds from the context or a stage, tmpfs), and its
// network; the snapshot's changes then become a layer. A failure or an abort removes the
// container and the snapshot: no layer is written.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { acquireLock, type Lock } from '@ocikit/content';
import { randomHex } from '@ocikit/digest';
import {
  AbortedError,
  FailedPreconditionError,
  isOcikitError,
  throwIfAborted,
  truncate,
} from '@ocikit/errors';
import type { ImageConfig } from '@ocikit/image-spec';
import { type Mount, PODMAN_CAPABILITIES, resolveInRoot, specFromImageConfig } from '@ocikit/runtime-spec';
import { START_FAILURE_CODES } from '@ocikit/shim';
import { unmount } from '@ocikit/snapshot';
import type { RunInstruction } from './ast.ts';
import type { ImageState } from './cache.ts';
import { digestSources, matchSources } from './context.ts';
import { makePendingDirs } from './copier.ts';
import { at, badInstruction } from './errors.ts';
import { closeWorkingRoot, commitLayer, type MadeLayer, openWorkingRoot } from './layer.ts';
import type { BorrowedTree, BuildSession } from './session.ts';
import { argsInEffect, envMap, expandIn, type StageScope, shellOf } from './steps.ts';

/** One `--mount=` of a RUN, parsed and expanded. */
interface RunMount {
  type: 'cache' | 'bind' | 'tmpfs';
  target: string;
  options: Record<string, string | true>;
}

/** A RUN ready to go: its argv, mounts, network, and what its cache key is made of. */
export interface RunPlan {
  argv: string[];
  mounts: RunMount[];
  network: 'none' | 'host';
  /** History wording (buildah's): `|N K=V … /bin/sh -c CMD`. */
  createdBy: string;
  /** The ARGs in effect as `K=V`, added to the environment. */
  argEnv: string[];
  /** A script file for `RUN <<EOF` with a shebang: its content, mounted and executed. */
  script?: string | undefined;
}

/** Other names BuildKit takes for mount options. */
const MOUNT_ALIASES: Readonly<Record<string, string>> = {
  dst: 'target',
  destination: 'target',
  src: 'source',
  readonly: 'ro',
  readwrite: 'rw',
};

/** The options each mount type takes here. */
const MOUNT_OPTIONS: Readonly<Record<RunMount['type'], readonly string[]>> = {
  cache: ['type', 'target', 'id', 'sharing', 'mode', 'uid', 'gid', 'ro'],
  bind: ['type', 'target', 'source', 'from', 'ro', 'rw'],
  tmpfs: ['type', 'target', 'size'],
};

function parseMount(text: string, inst: RunInstruction): Omit<RunMount, 'target'> & { target?: string } {
  const options: Record<string, string | true> = {};
  for (const part of text.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const raw = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const key = MOUNT_ALIASES[raw] ?? raw;
    options[key] = eq < 0 ? true : part.slice(eq + 1);
  }
  const type = options['type'] === undefined ? 'bind' : String(options['type']);
  if (type !== 'cache' && type !== 'bind' && type !== 'tmpfs')
    throw badInstruction(
      `RUN --mount: type ${JSON.stringify(type)} is not supported (cache, bind, tmpfs)`,
      inst.range,
    );
  for (const key of Object.keys(options))
    if (!MOUNT_OPTIONS[type].includes(key))
      throw badInstruction(
        `RUN --mount=type=${type}: option ${JSON.stringify(key)} is not supported`,
        inst.range,
      );
  const target = options['target'];
  if (typeof target !== 'string' || target === '')
    throw badInstruction(`RUN --mount=${truncate(text, 80)}: a target is required`, inst.range);
  return { type, target, options };
}

/** The command of a RUN as an argv (heredocs as BuildKit runs them), and its history wording. */
export function planRun(
  inst: RunInstruction,
  config: ImageConfig,
  scope: StageScope,
  defaultNetwork: 'none' | 'host',
): RunPlan {
  const cwd = config.config?.WorkingDir || '/';
  const mounts: RunMount[] = [];
  let network = defaultNetwork;
  for (const f of inst.flags) {
    const value = f.value === true ? '' : expandIn(scope, config, f.value);
    if (f.name === 'mount') {
      const m = parseMount(value, inst);
      mounts.push({ ...m, target: posix.resolve(cwd, m.target ?? '') });
    } else if (f.name === 'network') {
      if (value === 'default') continue;
      if (value !== 'none' && value !== 'host')
        throw badInstruction(`RUN --network=${JSON.stringify(value)}: use none or host`, inst.range);
      network = value;
    } else if (f.name === 'security') {
      if (value !== 'sandbox') throw badInstruction(`RUN --security=${value} is not supported`, inst.range);
    } else throw badInstruction(`RUN: unknown flag --${f.name}`, inst.range);
  }
  const shell = shellOf(config);
  let argv: string[];
  let script: string | undefined;
  if (inst.command.form === 'exec') argv = [...inst.command.args];
  else {
    const text = inst.command.text.trim();
    const only =
      inst.heredocs.length === 1 && /^<<-?["']?[^\s"']+["']?$/.test(text) ? inst.heredocs[0] : undefined;
    if (only?.content.startsWith('#!')) {
      script = only.content;
      argv = ['/dev/pipes/script'];
    } else if (only) argv = [...shell, only.content];
    else {
      // the shell reads the heredocs itself: the command, then each body and its delimiter
      const bodies = inst.heredocs.map((h) => `${h.content}${h.name}\n`).join('');
      argv = [...shell, inst.heredocs.length ? `${inst.command.text}\n${bodies}` : inst.command.text];
    }
  }
  const args = argsInEffect(scope).map(([k, v]) => `${k}=${v}`);
  const original = inst.source.replace(/^\s*RUN\s+/i, '');
  const createdBy = `${args.length ? `|${args.length} ${args.join(' ')} ` : ''}/bin/sh -c ${original}`;
  const env = envMap(config.config?.Env);
  const argEnv = argsInEffect(scope)
    .filter(([k]) => !env.has(k))
    .map(([k, v]) => `${k}=${v}`);
  return { argv, mounts, network, createdBy, argEnv, script };
}

/** What a RUN's cache key is made of beyond its wording: its mounts' sources. */
export async function runKeyMaterial(
  plan: RunPlan,
  session: BuildSession,
  inst: RunInstruction,
): Promise<string> {
  const parts = [plan.createdBy, `network=${plan.network}`, JSON.stringify(plan.argv)];
  for (const m of plan.mounts) {
    parts.push(`mount ${m.type} ${m.target} ${JSON.stringify(Object.entries(m.options).sort())}`);
    if (m.type !== 'bind') continue;
    const source = typeof m.options['source'] === 'string' ? m.options['source'] : '.';
    const from = m.options['from'];
    if (typeof from === 'string') {
      const borrowed = await session.borrow(from, inst.range);
      try {
        parts.push(`from ${borrowed.key}`);
      } finally {
        await borrowed.release();
      }
    } else
      parts.push(
        `context ${await digestSources(session.context, await matchSources(session.context, source, inst.range))}`,
      );
  }
  return parts.join('\n');
}

/** The host dir of a cache mount (created with its mode and owner the first time). */
async function cacheDir(session: BuildSession, m: RunMount, locks: Lock[]): Promise<string> {
  const id = typeof m.options['id'] === 'string' ? m.options['id'] : m.target;
  const base = join(
    session.root,
    'build',
    'cache-mounts',
    createHash('sha256').update(id).digest('hex').slice(0, 32),
  );
  const sharing = typeof m.options['sharing'] === 'string' ? m.options['sharing'] : 'shared';
  let dir = base;
  if (sharing === 'locked') {
    const lock = await acquireLock(`${base}.lock`, {
      timeoutMs: 3_600_000,
      ...(session.signal ? { signal: session.signal } : {}),
    });
    if (lock) locks.push(lock);
  } else if (sharing === 'private') {
    // the first instance no other build holds
    for (let n = 0; ; n++) {
      const lock = await acquireLock(`${base}-${n}.lock`, { tryOnly: true });
      if (!lock) continue;
      locks.push(lock);
      dir = n === 0 ? base : `${base}-${n}`;
      break;
    }
  } else if (sharing !== 'shared')
    throw badInstruction(`RUN --mount: sharing=${sharing} is not shared, private or locked`);
  if (!existsSync(dir)) {
    await mkdir(dir, { recursive: true });
    const mode = typeof m.options['mode'] === 'string' ? Number.parseInt(m.options['mode'], 8) : 0o755;
    await chmod(dir, Number.isNaN(mode) ? 0o755 : mode);
    await lchown(dir, Number(m.options['uid'] ?? 0) || 0, Number(m.options['gid'] ?? 0) || 0);
  }
  return dir;
}

/** A mount point the runtime will have to make, and the directories above it that exist. */
interface MountPoint {
  /** Its path below the root, as the runtime will make it (the first missing component). */
  rel: string;
  /** The existing directories above it, deepest first, with their metadata before the RUN. */
  parents: { rel: string; mode: number; uid: number; gid: number; others?: boolean }[];
}

/** The mount targets that do not exist in the root yet: the runtime will make them. */
async function missingPaths(rootfs: string, targets: readonly string[]): Promise<MountPoint[]> {
  const missing: MountPoint[] = [];
  for (const target of targets) {
    let at = '/';
    for (const part of target.split('/').filter(Boolean)) {
      at = posix.join(at, part);
      const host = await resolveInRoot(rootfs, at);
      if (await lstat(host).catch(() => undefined)) continue;
      const rel = relative(rootfs, host);
      const parents: MountPoint['parents'] = [];
      for (let p = posix.dirname(rel); p !== '.' && p !== '/' && p !== ''; p = posix.dirname(p)) {
        const st = await lstat(join(rootfs, p));
        parents.push({ rel: p, mode: st.mode, uid: st.uid, gid: st.gid });
      }
      missing.push({ rel, parents });
      break;
    }
  }
  return missing;
}

/**
 * Notes, while the root is still mounted, which directories above the mount points show entries
 * other than the mount points themselves — a sign their lower contents show through (not opaque).
 */
async function noteParents(rootfs: string, points: readonly MountPoint[]): Promise<void> {
  const made = new Set(points.map((p) => p.rel));
  for (const point of points) {
    for (const parent of point.parents) {
      const names = await readdir(join(rootfs, parent.rel)).catch(() => [] as string[]);
      parent.others = names.some((n) => !made.has(posix.join(parent.rel, n)));
    }
  }
}

/**
 * Removes mount points the runtime made (empty files and directories only) from the snapshot's
 * changes; on an overlay, also the directories above them that were copied up only for them
 * (empty in the upper dir, metadata unchanged, their lower contents showing) — `/etc` for a
 * `/etc/resolv.conf` bound over an image without one.
 */
async function removeMountPoints(
  writable: string,
  points: readonly MountPoint[],
  overlay: boolean,
): Promise<void> {
  for (const { rel } of points) {
    const host = join(writable, rel);
    const st = await lstat(host).catch(() => undefined);
    if (!st) continue;
    if (st.isFile() && st.size === 0) await rm(host, { force: true });
    else if (st.isDirectory()) {
      // made with its parents (mkdir -p): remove the chain while it is empty
      const prune = async (dir: string): Promise<boolean> => {
        for (const name of await readdir(dir))
          if (!(await prune(join(dir, name)).catch(() => false))) return false;
        await rmdir(dir);
        return true;
      };
      await prune(host).catch(() => {});
    }
  }
  if (!overlay) return;
  const parents = points.flatMap((p) => p.parents).sort((a, b) => b.rel.length - a.rel.length);
  for (const parent of parents) {
    const host = join(writable, parent.rel);
    const st = await lstat(host).catch(() => undefined);
    if (!st?.isDirectory() || !parent.others) continue;
    if (st.mode !== parent.mode || st.uid !== parent.uid || st.gid !== parent.gid) continue;
    if ((await readdir(host)).length === 0) await rmdir(host).catch(() => {});
  }
}

/**
 * Runs a planned RUN on `state`'s tree and makes its layer. A non-zero exit is a FailedPrecondition
 * `run-failed` with `exitCode` and the last lines of output in `output`; an abort is Aborted. Either
 * way the container, its snapshot and its mounts are gone.
 */
export async function runStep(
  session: BuildSession,
  state: ImageState,
  scope: StageScope,
  inst: RunInstruction,
  plan: RunPlan,
): Promise<MadeLayer> {
  const { runtime, snapshotter, signal } = session;
  throwIfAborted(signal);
  const work = await openWorkingRoot(snapshotter, state.chain, session.tmp);
  const id = `ocikit-build-${randomHex(8)}`;
  const bundle = join(session.tmp, id);
  const locks: Lock[] = [];
  const borrowed: BorrowedTree[] = [];
  const cleanups: string[] = [];
  try {
    await makePendingDirs(work.dir, scope);
    const config = state.config;
    const mounts: Mount[] = [];
    for (const m of plan.mounts) {
      const ro = m.options['ro'] === true || m.options['ro'] === 'true';
      if (m.type === 'tmpfs') {
        const size = typeof m.options['size'] === 'string' ? [`size=${m.options['size']}`] : [];
        mounts.push({
          destination: m.target,
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'nodev', ...size],
        });
      } else if (m.type === 'cache') {
        const dir = await cacheDir(session, m, locks);
        mounts.push({
          destination: m.target,
          type: 'bind',
          source: dir,
          options: ['rbind', ro ? 'ro' : 'rw'],
        });
      } else {
        const from = m.options['from'];
        let tree = session.context;
        if (typeof from === 'string') {
          const b = await session.borrow(from, inst.range);
          borrowed.push(b);
          tree = b.tree;
        }
        const source = typeof m.options['source'] === 'string' ? m.options['source'] : '.';
        const [match] = await matchSources(tree, source, inst.range);
        let host = match?.host ?? tree.root;
        const rw = m.options['rw'] === true || m.options['rw'] === 'true';
        if (rw) {
          // writable, but what is written goes nowhere: a scratch copy
          const copy = join(session.tmp, `bind-${randomHex(6)}`);
          execFileSync('cp', ['-a', host, copy]);
          cleanups.push(copy);
          host = copy;
        }
        mounts.push({
          destination: m.target,
          type: 'bind',
          source: host,
          options: ['rbind', rw ? 'rw' : 'ro'],
        });
      }
    }
    if (plan.network === 'host') {
      // the host's name service (the mount points made for it leave the layer afterwards)
      for (const file of ['/etc/resolv.conf', '/etc/hosts']) {
        const inImage = await lstat(await resolveInRoot(work.dir, file)).catch(() => undefined);
        if (existsSync(file) && (inImage === undefined || inImage.isFile()))
          mounts.push({ destination: file, type: 'bind', source: file, options: ['rbind', 'ro'] });
      }
    }
    if (plan.script !== undefined) {
      const dir = join(session.tmp, `script-${randomHex(6)}`);
      await mkdir(dir);
      await writeFile(join(dir, 'script'), plan.script, { mode: 0o755 });
      cleanups.push(dir);
      mounts.push({ destination: '/dev/pipes', type: 'bind', source: dir, options: ['rbind', 'ro'] });
    }
    const missing = await missingPaths(
      work.dir,
      mounts.map((m) => m.destination).filter((d) => !d.startsWith('/dev/')),
    );
    const spec = await specFromImageConfig(config, {
      rootfs: work.dir,
      args: plan.argv,
      entrypoint: [],
      env: plan.argEnv,
      cwd: config.config?.WorkingDir || '/',
      terminal: false,
      ...(signal ? { signal } : {}),
    });
    spec.root = { path: work.dir, readonly: false };
    spec.hostname = 'ocikit-build';
    spec.mounts = [...(spec.mounts ?? []), ...mounts];
    const proc = spec.process ?? { cwd: '/' };
    proc.terminal = false;
    // podman's and buildah's defaults: root in a RUN may chown, bind low ports, …
    proc.capabilities = {
      bounding: [...PODMAN_CAPABILITIES],
      effective: [...PODMAN_CAPABILITIES],
      permitted: [...PODMAN_CAPABILITIES],
    };
    spec.process = proc;
    spec.linux ??= {};
    const namespaces = spec.linux.namespaces ?? [];
    spec.linux.namespaces =
      plan.network === 'host'
        ? namespaces.filter((n) => n.type !== 'network')
        : namespaces.some((n) => n.type === 'network')
          ? namespaces
          : [...namespaces, { type: 'network' }];
    await mkdir(bundle, { recursive: true, mode: 0o755 });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    let tail = '';
    // an abort kills the container; until the runtime has made it, the kill is tried again
    let killer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      const kill = () => runtime.delete(id, { force: true }).catch(() => {});
      kill();
      killer = setInterval(kill, 100);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let exitCode: number;
    try {
      throwIfAborted(signal);
      const ran = await runtime.run(id, {
        bundle,
        stdio: 'ignore',
        output: (stream, chunk) => {
          tail = (tail + chunk.toString('utf8')).slice(-8192);
          session.emit({ type: 'output', stream, chunk });
          return true;
        },
      });
      exitCode = ran.exitCode;
    } catch (e) {
      // killed while the runtime was still making it: the runtime's own error says nothing more
      if (signal?.aborted)
        throw new AbortedError(`the build was interrupted during ${truncate(inst.source, 80)}`);
      const reason = isOcikitError(e) ? e.details['reason'] : undefined;
      const code = typeof reason === 'string' ? START_FAILURE_CODES[reason] : undefined;
      if (code === undefined) throw e;
      exitCode = code;
      tail += `${(e as Error).message}\n`;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearInterval(killer);
      await runtime.delete(id, { force: true }).catch(() => {});
    }
    if (signal?.aborted)
      throw new AbortedError(`the build was interrupted during ${truncate(inst.source, 80)}`);
    if (exitCode !== 0) {
      const output = tail
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-10)
        .join('\n');
      throw new FailedPreconditionError(
        `${truncate(inst.source.trim(), 120)}${at(inst.range)} exited with code ${exitCode}${output ? `:\n${output}` : ''}`,
        { details: { reason: 'run-failed', exitCode, output, line: inst.range.startLine } },
      );
    }
    // mount points the runtime had to make are no change of the step's
    await noteParents(work.dir, missing);
    unmount(work.dir);
    await removeMountPoints(work.writable, missing, work.mounts[0]?.type === 'overlay');
    const layer = await commitLayer(snapshotter, work, state.config.rootfs.diff_ids, session.store, {
      tmp: session.tmp,
      clampTime: session.clampTime,
      signal,
    });
    return layer;
  } finally {
    for (const lock of locks) await lock.release().catch(() => {});
    for (const b of borrowed) await b.release().catch(() => {});
    for (const dir of [bundle, ...cleanups]) await rm(dir, { recursive: true, force: true });
    await closeWorkingRoot(snapshotter, work, { remove: true });
  }
}
