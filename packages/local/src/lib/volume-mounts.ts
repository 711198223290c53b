// A container's volumes (issue 15): the ContainerSpec's volume mounts, `volumesFrom` and the image's
// `Volumes` turned into the bind and tmpfs mounts the runtime makes, the volumes made on first use,
// and Docker's copy-up of the image's files into a new volume.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { ContainerSpec, MountSpec, Operation } from '@ocikit/engine';
import { truncate } from '@ocikit/errors';
import { localError } from './container-errors.ts';
import { getContainer } from './container-store.ts';
import type { LocalContext } from './context.ts';
import {
  type ContainerVolumeMount,
  containerMounts,
  createVolume,
  deleteVolume,
  readVolume,
  saveVolume,
  VOLUME_NAME,
  volumeData,
} from './volume-store.ts';

/** What {@link resolveMounts} gives. */
export interface ResolvedMounts {
  /** The mounts for the runtime spec: binds and tmpfs only. */
  mounts: MountSpec[];
  /** The container's volume and bind mounts, for its bundle's `volumes.json`. */
  recorded: ContainerVolumeMount[];
  /** The new volumes to fill from the image, with the path in the container they are mounted on. */
  copyUps: { name: string; target: string }[];
}

const clean = (path: string) => posix.normalize(path).replace(/(.)\/+$/, '$1');

/**
 * The mounts of a container: `volumesFrom` (the other containers' volumes and binds, their modes
 * unless `:ro`/`:rw` says), then the spec's mounts (over those at the same path), then an anonymous
 * volume for each path of the image's `Volumes` nothing else mounts. Named volumes are made on
 * first use; anonymous ones get 64 hex digits (and are removed again when this fails).
 */
export async function resolveMounts(
  ctx: LocalContext,
  spec: ContainerSpec,
  imageVolumes: readonly string[],
  operation: Operation,
): Promise<ResolvedMounts> {
  const bad = (message: string, hint?: string) =>
    localError('bad-argument', operation, message, hint === undefined ? {} : { hint });
  const byTarget = new Map<string, ContainerVolumeMount | MountSpec>();
  for (const from of spec.volumesFrom ?? []) {
    const match = /^(.+?)(?::(ro|rw))?$/.exec(from);
    const ref = match?.[1] ?? from;
    const mode = match?.[2];
    const other = await getContainer(ctx, ref, operation);
    for (const m of containerMounts(other))
      byTarget.set(m.target, {
        ...m,
        anonymous: false,
        readOnly: mode === undefined ? m.readOnly : mode === 'ro',
      });
  }
  const own = new Set<string>();
  for (const m of spec.mounts ?? []) {
    if (typeof m.target !== 'string' || !isAbsolute(m.target))
      throw bad(`mount target ${JSON.stringify(truncate(String(m.target), 80))} is not absolute`);
    const target = clean(m.target);
    if (own.has(target))
      throw bad(`duplicate mount point ${target}`, 'mount each path in the container once');
    own.add(target);
    if (m.type === 'volume' && m.source !== undefined && !VOLUME_NAME.test(m.source))
      throw bad(
        `invalid volume name ${JSON.stringify(truncate(m.source, 80))}`,
        'a volume name is 2 or more letters, digits, _ . -, starting with a letter or digit; a host path starts with /',
      );
    byTarget.set(target, { ...m, target });
  }
  for (const path of imageVolumes) {
    const target = clean(path);
    if (isAbsolute(target) && !byTarget.has(target)) byTarget.set(target, { type: 'volume', target });
  }

  const made: string[] = [];
  try {
    const out: ResolvedMounts = { mounts: [], recorded: [], copyUps: [] };
    for (const m of byTarget.values()) {
      if (m.type === 'tmpfs') {
        out.mounts.push(m);
        continue;
      }
      if (m.type === 'bind') {
        const readOnly = m.readOnly === true;
        out.mounts.push({ type: 'bind', source: m.source, target: m.target, readOnly });
        out.recorded.push({ type: 'bind', source: m.source, target: m.target, readOnly });
        continue;
      }
      const readOnly = m.readOnly === true;
      let record: ReturnType<typeof readVolume>;
      let anonymous = false;
      if (m.source === undefined) {
        record = await createVolume(ctx, { anonymous: true }, operation);
        made.push(record.name);
        anonymous = true;
      } else {
        record = await createVolume(ctx, { name: m.source }, operation);
        anonymous = 'anonymous' in m && m.anonymous === true;
      }
      out.recorded.push({ type: 'volume', source: record.name, target: m.target, readOnly, anonymous });
      const type = record.options.type;
      if (type === 'tmpfs') {
        const options = (record.options.o ?? '').split(',').filter((o) => o !== '');
        out.mounts.push({
          type: 'tmpfs',
          target: m.target,
          options: readOnly ? [...options, 'ro'] : options,
        });
      } else if (type === 'none' || type === 'bind') {
        const ro = readOnly || (record.options.o ?? '').split(',').includes('ro');
        out.mounts.push({
          type: 'bind',
          source: record.options.device ?? '',
          target: m.target,
          readOnly: ro,
        });
      } else {
        out.mounts.push({ type: 'bind', source: volumeData(ctx, record.name), target: m.target, readOnly });
        if (record.needsCopyUp && !('noCopy' in m && m.noCopy === true))
          out.copyUps.push({ name: record.name, target: m.target });
      }
    }
    return out;
  } catch (e) {
    for (const name of made) await deleteVolume(ctx, name);
    throw e;
  }
}

/** Whether a directory has no entries. */
function isEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/**
 * Docker's copy-up: each new volume mounted over a directory the image populates gets the image's
 * files there first (`cp -a`: owners, modes, times, links kept), and the volume's own directory the
 * owner and mode of the image's. A volume not empty by then keeps its content. A path that leaves
 * the root file system through a link is not followed. Each volume is copied into at most once.
 */
export function copyUp(ctx: LocalContext, rootfs: string, copyUps: ResolvedMounts['copyUps']): void {
  const top = realpathSync(rootfs);
  for (const { name, target } of copyUps) {
    const record = readVolume(ctx, name, 'containers.create');
    if (!record.needsCopyUp) continue;
    const data = volumeData(ctx, name);
    let source = '';
    try {
      source = realpathSync(join(rootfs, target));
    } catch {
      // the image has nothing there
    }
    if (source.startsWith(`${top}/`) && lstatSync(source).isDirectory() && isEmpty(data)) {
      execFileSync('cp', ['-a', '--', `${source}/.`, data], { stdio: ['ignore', 'ignore', 'pipe'] });
      const st = lstatSync(source);
      chownSync(data, st.uid, st.gid);
      chmodSync(data, st.mode & 0o7777);
    }
    saveVolume(ctx, { ...record, needsCopyUp: false });
  }
}
