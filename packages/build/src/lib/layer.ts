// A step's working root file system: an active snapshot on the previous step's committed one,
// mounted on the host; after the step its changes become a layer (the snapshot package's diff), the
// layer goes into the store and the snapshot is committed under the chainID of its layers — the
// name image unpacks use, so a built image runs without unpacking it again.
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pusher } from '@ocikit/content';
import { type Digest, randomHex } from '@ocikit/digest';
import { isAlreadyExists, isNotFound } from '@ocikit/errors';
import { chainId, type Descriptor } from '@ocikit/image-spec';
import {
  diffDirectories,
  diffOverlayUpper,
  mountAll,
  type SnapshotMount,
  type Snapshotter,
  unmount,
} from '@ocikit/snapshot';

/** A mounted active snapshot a step writes into. */
export interface WorkingRoot {
  /** The snapshot's key. */
  readonly key: string;
  /** Where it is mounted on the host. */
  readonly dir: string;
  /** The directory that receives its changes (the overlay's upper dir, or the native copy). */
  readonly writable: string;
  /** For a native snapshot on a parent: a view of the parent, mounted, to diff against. */
  readonly lower: { key: string; dir: string } | undefined;
  /** Its mounts. */
  readonly mounts: readonly SnapshotMount[];
}

const option = (m: SnapshotMount | undefined, name: string) =>
  m?.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1);

/**
 * Lazily unmounts whatever is still mounted below `dir` (deepest first), so removing `dir` can never
 * reach into a snapshot through a mount left by an interrupted step.
 */
export function unmountBelow(dir: string): void {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  } catch {
    return;
  }
  const targets = lines
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((t) => t.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const target of targets) spawnSync('umount', ['-l', target]);
}

/** True when the snapshot `name` is committed in `snapshotter`. */
export async function isCommitted(snapshotter: Snapshotter, name: string): Promise<boolean> {
  const info = await snapshotter.stat(name).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  return info?.kind === 'committed';
}

/** Prepares and mounts an active snapshot on `parent` (none: empty) under `tmp`. */
export async function openWorkingRoot(
  snapshotter: Snapshotter,
  parent: string | undefined,
  tmp: string,
): Promise<WorkingRoot> {
  await mkdir(tmp, { recursive: true });
  const key = `build-${randomHex(8)}`;
  const mounts = await snapshotter.prepare(key, parent);
  const dir = await mkdtemp(join(tmp, 'rootfs-'));
  let lower: WorkingRoot['lower'];
  try {
    mountAll(mounts, dir);
    const first = mounts[0];
    let writable = first?.source ?? dir;
    if (first?.type === 'overlay') writable = option(first, 'upperdir') ?? dir;
    else if (parent !== undefined) {
      // the native snapshotter copies the parent: diff against a read-only view of it
      const viewKey = `${key}-lower`;
      const viewDir = await mkdtemp(join(tmp, 'lower-'));
      lower = { key: viewKey, dir: viewDir };
      mountAll(await snapshotter.view(viewKey, parent), viewDir);
    }
    return { key, dir, writable, lower, mounts };
  } catch (e) {
    await closeWorkingRoot(snapshotter, { key, dir, writable: dir, lower, mounts }, { remove: true });
    throw e;
  }
}

/**
 * Unmounts a working root and drops what it used; with `remove`, its snapshot goes too (a failed or
 * aborted step; after {@link commitLayer} the key is gone and nothing is removed).
 */
export async function closeWorkingRoot(
  snapshotter: Snapshotter,
  root: WorkingRoot,
  options: { remove: boolean },
): Promise<void> {
  unmount(root.dir);
  await rm(root.dir, { recursive: true, force: true });
  if (root.lower) {
    unmount(root.lower.dir);
    await rm(root.lower.dir, { recursive: true, force: true });
    await snapshotter.remove(root.lower.key).catch(() => {});
  }
  if (options.remove) await snapshotter.remove(root.key).catch(() => {});
}

/** The layer a step made. */
export interface MadeLayer {
  /** Its descriptor (OCI gzip media type), in the store. */
  descriptor: Descriptor;
  diffId: Digest;
  /** Its uncompressed tar's length in bytes (the diff's size). */
  size: number;
  /** The committed snapshot holding the tree with it: the chainID of all layers so far. */
  chain: Digest;
}

/**
 * Turns a working root into a layer (unmounting it first): its changes diffed into a gzip tar (mtimes clamped
 * to `clampTime`), pushed to the store, and the snapshot committed as the chainID of `diffIds` plus
 * this layer (when another build committed that chainID first, this copy is dropped for it).
 */
export async function commitLayer(
  snapshotter: Snapshotter,
  root: WorkingRoot,
  diffIds: readonly Digest[],
  store: Pusher,
  options: { tmp: string; clampTime?: number | undefined; signal?: AbortSignal | undefined },
): Promise<MadeLayer> {
  unmount(root.dir);
  const out = join(options.tmp, `layer-${randomHex(8)}.tar.gz`);
  const diffOptions = {
    ...(options.clampTime !== undefined ? { clampTime: options.clampTime } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  try {
    const diff = root.lower
      ? await diffDirectories(root.lower.dir, root.writable, out, diffOptions)
      : await diffOverlayUpper(root.writable, out, diffOptions);
    await store.push(
      diff.descriptor,
      createReadStream(out),
      options.signal ? { signal: options.signal } : {},
    );
    const chain = chainId([...diffIds, diff.diffId]);
    try {
      await snapshotter.commit(chain, root.key);
    } catch (e) {
      if (!(isAlreadyExists(e) && (await isCommitted(snapshotter, chain)))) throw e;
      // another build made the same tree: use its snapshot
      await snapshotter.remove(root.key).catch(() => {});
    }
    return { descriptor: diff.descriptor, diffId: diff.diffId, size: diff.size, chain };
  } finally {
    await rm(out, { force: true });
  }
}
