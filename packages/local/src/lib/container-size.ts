// A container's sizes for `ps -s`, counted as podman 4.3's containers/storage counts them: the
// apparent sizes of the files, links and devices of a layer (directories not counted, a hard-linked
// file once) — its writable layer (`rwSize`) and its image's layers (`rootFsSize`); decision 216.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { randomHex } from '@ocikit/digest';
import type { Snapshotter } from '@ocikit/snapshot';
import { containerSnapshot } from './container-store.ts';

/** A container's `sizeRw` and `sizeRootFs`, in bytes. */
export interface ContainerSizes {
  /** The files it wrote: its writable layer. */
  sizeRw: number;
  /** Its image's layers, each counted on its own. */
  sizeRootFs: number;
}

/** Every entry under `dir` but directories, with its path relative to `dir` (none when `dir` is gone). */
function* entries(dir: string, rel = ''): Generator<[string, Stats]> {
  let names: string[];
  try {
    names = readdirSync(join(dir, rel));
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(rel, name);
    const st = lstatSync(join(dir, path));
    if (st.isDirectory()) yield* entries(dir, path);
    else yield [path, st];
  }
}

/** containers/storage's `directory.Size`: the apparent bytes of what `dir` holds, a hard link once. */
function layerSize(dir: string, changed: (path: string, st: Stats) => boolean = () => true): number {
  const seen = new Set<number>();
  let size = 0;
  for (const [path, st] of entries(dir)) {
    if (seen.has(st.ino) || !changed(path, st)) continue;
    seen.add(st.ino);
    size += st.size;
  }
  return size;
}

/** Whether `st` differs from what `lower` holds at `path` (containers/storage's naive diff). */
function differs(lower: string, path: string, st: Stats): boolean {
  try {
    const old = lstatSync(join(lower, path));
    return (
      old.size !== st.size ||
      old.mtimeMs !== st.mtimeMs ||
      old.mode !== st.mode ||
      old.uid !== st.uid ||
      old.gid !== st.gid
    );
  } catch {
    return true; // new
  }
}

/**
 * The sizes of container `id`'s root file system (`ps -s`): on overlay, its upper directory and
 * each image layer's directory; on the native snapshotter (full copies), the files of its tree that
 * differ from its image's (size, time, mode, owner) and the image's tree. Zero for a container whose
 * snapshot is not made yet.
 *
 * `layers` keeps each image layer's size for the next container on it (one per `ps -s`).
 *
 * @example
 * ```ts
 * const { sizeRw, sizeRootFs } = await containerSizes(snapshotterOf(ctx), record.id, new Map());
 * ```
 */
export async function containerSizes(
  snapshotter: Snapshotter,
  id: string,
  layers: Map<string, number>,
): Promise<ContainerSizes> {
  const key = containerSnapshot(id);
  const mounts = await snapshotter.mounts(key).catch(() => []);
  const overlay = mounts.find((m) => m.type === 'overlay');
  const option = (name: string) =>
    overlay?.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1);
  const upper = option('upperdir');
  if (upper !== undefined) {
    const lowers = (option('lowerdir') ?? '').split(':').filter(Boolean);
    let sizeRootFs = 0;
    for (const lower of lowers) {
      const size = layers.get(lower) ?? layerSize(lower);
      layers.set(lower, size);
      sizeRootFs += size;
    }
    return { sizeRw: layerSize(upper), sizeRootFs };
  }
  const own = mounts[0]?.source;
  if (own === undefined) return { sizeRw: 0, sizeRootFs: 0 };
  const { parent } = await snapshotter.stat(key);
  if (parent === undefined) return { sizeRw: layerSize(own), sizeRootFs: 0 };
  const view = `size-${randomHex(8)}`;
  try {
    const lower = (await snapshotter.view(view, parent))[0]?.source ?? own;
    return { sizeRw: layerSize(own, (path, st) => differs(lower, path, st)), sizeRootFs: layerSize(lower) };
  } finally {
    await snapshotter.remove(view).catch(() => {});
  }
}
