import { throwIfAborted } from '@ocikit/errors';
import type { SnapshotInfo, Snapshotter } from './snapshotter.ts';

/** Options of {@link pruneSnapshots}. */
export interface PruneSnapshotsOptions {
  /** Snapshots still in use (a container's active snapshot, an image's top chainID): kept with their parents. */
  keep: Iterable<string>;
  /**
   * Active and view snapshots changed within this many milliseconds are kept too (default 10
   * minutes): another process may be filling one (an unpack, a container being made).
   */
  graceMs?: number;
  /** Only say what would be removed and the space it holds; remove nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** What {@link pruneSnapshots} removed. */
export interface PruneSnapshotsResult {
  /** Keys and names removed, children before their parents. */
  removed: string[];
  /** The disk space their own layers held. */
  bytes: number;
}

/**
 * Removes the snapshots nothing uses: every one that is not in `keep`, not a parent (however
 * deep) of one kept, and not an active or view snapshot changed within `graceMs`. Children go
 * before their parents, so a committed chain is removed from the top down.
 *
 * @example
 * ```ts
 * const { removed, bytes } = await pruneSnapshots(snapshotter, { keep: ['container-1', chainId] });
 * ```
 */
export async function pruneSnapshots(
  snapshotter: Snapshotter,
  options: PruneSnapshotsOptions,
): Promise<PruneSnapshotsResult> {
  const all = await snapshotter.list();
  const byName = new Map(all.map((s) => [s.name, s]));
  const grace = options.graceMs ?? 10 * 60_000;
  const now = Date.now();
  const kept = new Set<string>();
  const keepWithParents = (name: string | undefined) => {
    for (let s = name === undefined ? undefined : byName.get(name); s && !kept.has(s.name); ) {
      kept.add(s.name);
      s = s.parent === undefined ? undefined : byName.get(s.parent);
    }
  };
  for (const name of options.keep) keepWithParents(name);
  for (const s of all)
    if (s.kind !== 'committed' && now - Date.parse(s.updated) < grace) keepWithParents(s.name);
  const result: PruneSnapshotsResult = { removed: [], bytes: 0 };
  let left: SnapshotInfo[] = all.filter((s) => !kept.has(s.name));
  // leaves first: a snapshot goes once no remaining one stacks on it
  while (left.length > 0) {
    throwIfAborted(options.signal);
    const parents = new Set(left.map((s) => s.parent));
    const leaves = left.filter((s) => !parents.has(s.name));
    if (leaves.length === 0) break;
    for (const s of leaves) {
      const size = (await snapshotter.usage(s.name).catch(() => ({ size: 0 }))).size;
      if (!options.dryRun) await snapshotter.remove(s.name);
      result.removed.push(s.name);
      result.bytes += size;
    }
    const gone = new Set(leaves.map((s) => s.name));
    left = left.filter((s) => !gone.has(s.name));
  }
  return result;
}
