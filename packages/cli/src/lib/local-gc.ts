// Garbage collection of the whole local state: the store's blobs and abandoned ingests, and the
// snapshots no container or image uses (issue 19 item 9, decisions 084 and 085).
import { join } from 'node:path';
import { fetchAll, type GcResult, isGraphNode, type OciLayout, walk } from '@ocikit/content';
import {
  chainId,
  type Descriptor,
  isManifestMediaType,
  parseImageConfig,
  parseManifest,
} from '@ocikit/image-spec';
import { defaultSnapshotter, type PruneSnapshotsResult, pruneSnapshots } from '@ocikit/snapshot';
import type { Context } from './command.ts';
import { containerRecords, imagesInUse } from './image-use.ts';

/** What {@link collectLocal} removed. */
export interface LocalGcResult {
  blobs: GcResult;
  snapshots: PruneSnapshotsResult;
}

/**
 * The top chainID of every image manifest reachable from `roots` whose config is in the store: the
 * snapshots an image unpacks to (their parents follow).
 */
export async function chainIdsOf(
  store: OciLayout,
  roots: readonly Descriptor[],
  ctx: Context,
): Promise<string[]> {
  const out = new Set<string>();
  const opts = { signal: ctx.signal };
  for (const root of roots) {
    await walk(
      store,
      root,
      async (d) => {
        // an index's other platforms are usually not in the store: not walked into
        if (!isGraphNode(d) || !(await store.exists(d))) return false;
        if (!isManifestMediaType(d.mediaType)) return true;
        const manifest = parseManifest(await fetchAll(store, d, opts));
        const config = parseImageConfig(await fetchAll(store, manifest.config, opts));
        if (config.rootfs.diff_ids.length > 0) out.add(chainId(config.rootfs.diff_ids));
        return false;
      },
      opts,
    );
  }
  return [...out];
}

/** The snapshot keys containers and the store's images use. */
async function snapshotsInUse(ctx: Context, store: OciLayout): Promise<string[]> {
  const containers = (await containerRecords(ctx)).map((c) => `container-${c.id}`);
  const images = [...(await store.list()), ...(await imagesInUse(ctx, store)).map((u) => u.image)];
  return [...containers, ...(await chainIdsOf(store, images, ctx))];
}

/**
 * Collects the local state: blobs no image or container uses, every ingest no live process holds
 * (an explicit collection: decision 084), then the snapshots nothing uses.
 */
export async function collectLocal(ctx: Context, store: OciLayout): Promise<LocalGcResult> {
  const roots = (await imagesInUse(ctx, store)).map((u) => u.image);
  const blobs = await store.gc({ roots, ingestTtlMs: 0, signal: ctx.signal });
  const snapshots = await pruneSnapshots(defaultSnapshotter(join(ctx.root, 'snapshots')), {
    keep: await snapshotsInUse(ctx, store),
    signal: ctx.signal,
  });
  return { blobs, snapshots };
}
