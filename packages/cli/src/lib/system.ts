// `system df` and `system prune`: what the local state holds and frees (issue 19 item 9).
import { join } from 'node:path';
import { isGraphNode, type OciLayout, walk } from '@ocikit/content';
import { Annotation, type Descriptor } from '@ocikit/image-spec';
import type { ContainerRecord } from '@ocikit/shim';
import { defaultSnapshotter, pruneSnapshots } from '@ocikit/snapshot';
import type { Context } from './command.ts';
import { containerRecords, imagesInUse } from './image-use.ts';

/** One row of `system df`, as podman's (`{{.Type}}`, `{{.Total}}`, …); sizes in bytes. */
export interface DiskUsageRow {
  type: 'Images' | 'Containers' | 'Snapshots';
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** A container that is running or about to (its process exists): not removed by a prune. */
export function isActive(c: ContainerRecord): boolean {
  return c.status === 'running' || c.status === 'paused' || c.status === 'created';
}

/** Every blob digest reachable from `roots`, with its size (from descriptors; what the store lacks is skipped). */
async function reachable(
  store: OciLayout,
  roots: readonly Descriptor[],
  ctx: Context,
): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const root of roots) {
    await walk(
      store,
      root,
      async (d) => {
        sizes.set(d.digest, d.size);
        // an index's other platforms are usually not in the store: not walked into
        return !isGraphNode(d) || (await store.exists(d));
      },
      { signal: ctx.signal },
    );
  }
  return sizes;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((n, s) => n + s, 0);

/**
 * What the local state holds: images (distinct ones, named or kept for a container; their blobs),
 * containers (their writable snapshots) and snapshots (unpacked layers and containers' layers).
 * Reclaimable is what `system prune -a` would free.
 */
export async function diskUsage(ctx: Context, store: OciLayout): Promise<DiskUsageRow[]> {
  const uses = await imagesInUse(ctx, store);
  const images = new Map<string, Descriptor>();
  for (const d of await store.list()) images.set(d.digest, d);
  for (const u of uses) images.set(u.image.digest, u.image);
  const used = new Map(uses.map((u) => [u.image.digest, u.image]));
  const all = await reachable(store, [...images.values()], ctx);
  const kept = await reachable(store, [...used.values()], ctx);
  const containers = await containerRecords(ctx);
  const snapshotter = defaultSnapshotter(join(ctx.root, 'snapshots'));
  let size = 0;
  let reclaimable = 0;
  for (const c of containers) {
    const usage = await snapshotter.usage(`container-${c.id}`).catch(() => ({ size: 0 }));
    size += usage.size;
    if (!isActive(c)) reclaimable += usage.size;
  }
  // unpacked layers and containers' writable layers; reclaimable: all but the containers' chains
  const snapshots = await snapshotter.list();
  let snapshotBytes = 0;
  for (const snap of snapshots)
    snapshotBytes += (await snapshotter.usage(snap.name).catch(() => ({ size: 0 }))).size;
  const unused = await pruneSnapshots(snapshotter, {
    keep: containers.map((c) => `container-${c.id}`),
    dryRun: true,
    signal: ctx.signal,
  });
  return [
    {
      type: 'Images',
      total: images.size,
      active: used.size,
      size: sum(all),
      reclaimable: sum(all) - sum(kept),
    },
    {
      type: 'Containers',
      total: containers.length,
      active: containers.filter(isActive).length,
      size,
      reclaimable,
    },
    {
      type: 'Snapshots',
      total: snapshots.length,
      active: snapshots.length - unused.removed.length,
      size: snapshotBytes,
      reclaimable: unused.bytes,
    },
  ];
}

/**
 * The names `system prune -a` removes: every name of an image no container uses (after the
 * stopped containers are gone).
 */
export async function unusedImageNames(ctx: Context, store: OciLayout): Promise<string[]> {
  const used = new Set((await imagesInUse(ctx, store)).map((u) => u.image.digest));
  return (await store.list()).flatMap((d) => {
    const name = d.annotations?.[Annotation.RefName];
    return name !== undefined && !used.has(d.digest) ? [name] : [];
  });
}
