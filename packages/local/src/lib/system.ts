// The local engine's system operations (ping, version, info, events) and what only a local engine
// has: the disk use of its state root, and freeing it — `system df`, `system prune` and the gc of
// the whole local state (decision 136: library functions, not engine operations; volumes: decision 196).
import { accessSync, constants, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { fetchAll, type GcResult, isGraphNode, type OciLayout, walk } from '@ocikit/content';
import { type EngineInfo, type EngineVersion, engineError, type Handlers } from '@ocikit/engine';
import {
  chainId,
  type Descriptor,
  isManifestMediaType,
  parseImageConfig,
  parseManifest,
} from '@ocikit/image-spec';
import { type PruneSnapshotsResult, pruneSnapshots } from '@ocikit/snapshot';
import { snapshotterOf } from './container-store.ts';
import { type LocalContext, type LocalEngineOptions, localContext } from './context.ts';
import { readEvents } from './events.ts';
import { openImageStore } from './image-store.ts';
import { containerRecords, imagesInUse } from './image-use.ts';
import { dropLayerSizes, rememberLayerSize } from './layer-size.ts';
import { isActive, pruneContainers, reachable, untagUnused } from './prune.ts';
import { diskUsage as bytesUnder, listVolumes, volumeData, volumeUsers } from './volume-store.ts';
import { volumeHandlers } from './volumes.ts';

/** The Go name of this machine's architecture, as engines report it. */
function goArch(): string {
  const arch: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
  };
  return arch[process.arch] ?? process.arch;
}

let packageVersion: string | undefined;
/** This package's version (from its package.json, next to `src/` and `dist/`). */
function ownVersion(): string {
  packageVersion ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return packageVersion;
}

/** `system.info`: container counts by state, distinct images, the root, the snapshotter, the runtime. */
async function info(ctx: LocalContext): Promise<EngineInfo> {
  const records = await containerRecords(ctx);
  const store = await openImageStore(ctx);
  const images = new Set((await store.list()).map((d) => d.digest)).size;
  const count = (...s: string[]) => records.filter((r) => s.includes(r.status)).length;
  const info = {
    containers: records.length,
    containersRunning: count('running'),
    containersPaused: count('paused'),
    containersStopped: records.length - count('running', 'paused'),
    images,
    storageDriver: snapshotterOf(ctx).kind,
    root: ctx.root,
    defaultRuntime: ctx.runtime,
    cgroupDriver: 'cgroupfs',
  };
  return { ...info, raw: { ...info } };
}

/** The system operations of the local engine: ping, version, info and events. */
export function systemHandlers(ctx: LocalContext): Partial<Handlers> {
  return {
    'system.ping': async () => {
      try {
        accessSync(ctx.root, constants.R_OK | constants.W_OK);
      } catch (e) {
        // a root not made yet is made by the first operation that writes; one we cannot use is not
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
          throw engineError('engine-unreachable', {
            engine: 'local',
            operation: 'system.ping',
            message: `cannot use the state root ${ctx.root}: ${(e as Error).message}`,
            cause: e,
          });
      }
    },
    'system.version': async (): Promise<EngineVersion> => {
      return {
        name: 'ocikit',
        version: ownVersion(),
        os: process.platform,
        arch: goArch(),
        kernelVersion: release(),
      };
    },
    'system.info': () => info(ctx),
    'system.events': (options) => readEvents(ctx, options),
  };
}

/** One row of {@link diskUsage}, as podman's `system df` (`{{.Type}}`, `{{.Total}}`, …); sizes in bytes. */
export interface DiskUsageRow {
  /** What the row counts. */
  type: 'Images' | 'Containers' | 'Local Volumes' | 'Snapshots';
  /** How many there are. */
  total: number;
  /** Of those, in use (by a container in any state; running, for containers). */
  active: number;
  /** Bytes they take (a volume's: the bytes under its data directory, none for a tmpfs or bind volume). */
  size: number;
  /** Bytes of those not in use, which `pruneLocal` with `all` and `volumes` frees. */
  reclaimable: number;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((n, s) => n + s, 0);

/**
 * The `Local Volumes` row, as podman's: a volume is active while a container (in any state) mounts
 * it; its size is the bytes under its data directory, so a tmpfs or bind volume (whose data is
 * elsewhere, and stays when it is removed) counts none.
 */
async function volumesRow(ctx: LocalContext): Promise<DiskUsageRow> {
  const users = await volumeUsers(ctx);
  const volumes = listVolumes(ctx);
  const row: DiskUsageRow = {
    type: 'Local Volumes',
    total: volumes.length,
    active: 0,
    size: 0,
    reclaimable: 0,
  };
  for (const { name } of volumes) {
    const bytes = bytesUnder(volumeData(ctx, name));
    row.size += bytes;
    if (users.has(name)) row.active++;
    else row.reclaimable += bytes;
  }
  return row;
}

/** Where {@link diskUsage}, {@link pruneLocal} and {@link collectLocal} work. */
export type LocalStateOptions = Pick<LocalEngineOptions, 'root' | 'env'> & {
  /** Cancels the work. */
  signal?: AbortSignal | undefined;
};

/**
 * What a local engine's state root holds (`ocikit system df`): images (distinct ones, named or kept
 * for a container; their blobs), containers (their writable snapshots), local volumes (their data)
 * and snapshots (unpacked layers and containers' layers), each with what nothing uses.
 *
 * @example
 * ```ts
 * for (const row of await diskUsage({ root: '/var/lib/ocikit' })) console.log(row.type, row.size);
 * ```
 */
export async function diskUsage(options: LocalStateOptions): Promise<DiskUsageRow[]> {
  const ctx = localContext(options);
  const { signal } = options;
  const store = await openImageStore(ctx, signal);
  const uses = await imagesInUse(ctx, store);
  const images = new Map<string, Descriptor>();
  for (const d of await store.list()) images.set(d.digest, d);
  for (const u of uses) images.set(u.image.digest, u.image);
  const used = new Map(uses.map((u) => [u.image.digest, u.image]));
  const all = await reachable(store, [...images.values()], signal);
  const kept = await reachable(store, [...used.values()], signal);
  const containers = await containerRecords(ctx);
  const snapshotter = snapshotterOf(ctx);
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
    ...(signal ? { signal } : {}),
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
    await volumesRow(ctx),
    {
      type: 'Snapshots',
      total: snapshots.length,
      active: snapshots.length - unused.removed.length,
      size: snapshotBytes,
      reclaimable: unused.bytes,
    },
  ];
}

/** What {@link collectLocal} removed. */
export interface LocalGcResult {
  /** The store's blobs and abandoned ingests. */
  blobs: GcResult;
  /** The snapshots nothing used. */
  snapshots: PruneSnapshotsResult;
}

/**
 * The top chainID of every image manifest reachable from `roots` whose config is in the store (the
 * snapshots an image unpacks to; their parents follow), and every diffID of those images.
 */
async function layersOf(
  store: OciLayout,
  roots: readonly Descriptor[],
  signal: AbortSignal | undefined,
): Promise<{ chainIds: string[]; diffIds: Set<string> }> {
  const out = new Set<string>();
  const diffIds = new Set<string>();
  const opts = signal ? { signal } : {};
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
        for (const d of config.rootfs.diff_ids) diffIds.add(d);
        return false;
      },
      opts,
    );
  }
  return { chainIds: [...out], diffIds };
}

/**
 * Collects a local engine's state (`ocikit gc` without a layout): blobs no image or container uses,
 * every ingest no live process holds (an explicit collection: decision 084), then the snapshots
 * nothing uses (decision 085) and the cached layer sizes of diffs no image has (decision 215).
 */
export async function collectLocal(options: LocalStateOptions): Promise<LocalGcResult> {
  const ctx = localContext(options);
  const { signal } = options;
  const store = await openImageStore(ctx, signal);
  const uses = await imagesInUse(ctx, store);
  const blobs = await store.gc({
    roots: uses.map((u) => u.image),
    ingestTtlMs: 0,
    ...(signal ? { signal } : {}),
  });
  const containers = (await containerRecords(ctx)).map((c) => `container-${c.id}`);
  const images = [...(await store.list()), ...(await imagesInUse(ctx, store)).map((u) => u.image)];
  const layers = await layersOf(store, images, signal);
  const snapshots = await pruneSnapshots(snapshotterOf(ctx), {
    keep: [...containers, ...layers.chainIds],
    ...(signal ? { signal } : {}),
  });
  // the cached uncompressed sizes of diffs no image has (decision 215)
  dropLayerSizes(ctx, layers.diffIds);
  return { blobs, snapshots };
}

/** Options of {@link pruneLocal}. */
export interface PruneLocalOptions extends LocalStateOptions {
  /** Also remove every image no container uses, not only those without a name. */
  all?: boolean | undefined;
  /**
   * Also remove every volume no container uses once the stopped containers are gone — named ones
   * too, as podman 4.3's `system prune --volumes` (decision 196). Without it no volume is touched.
   */
  volumes?: boolean | undefined;
}

/** What {@link pruneLocal} removed. */
export interface PruneLocalResult {
  /** Ids of the containers removed. */
  containers: string[];
  /** Names of the volumes removed (none without `volumes`). */
  volumes: string[];
  /** Names of the images removed. */
  images: string[];
  /** The gc of blobs and ingests. */
  blobs: GcResult;
  /** The snapshots removed. */
  snapshots: PruneSnapshotsResult;
  /** Bytes freed in all. */
  reclaimed: number;
}

/** The local engine's handler of `operation` (all of them are there; `unimplemented` if one is not). */
function handlerOf<O extends keyof Handlers>(handlers: Partial<Handlers>, operation: O): Handlers[O] {
  const handler = handlers[operation];
  if (!handler)
    throw engineError('unimplemented', {
      engine: 'local',
      operation,
      message: `the local engine cannot do ${operation}`,
    });
  return handler as Handlers[O];
}

/**
 * Records uncompressed layer sizes (diffID → bytes of its tar) learnt outside the engine — what
 * `@ocikit/build`'s `onLayerSize` reports for the layers `ocikit build` applies and writes — into
 * the state root's cache (decision 215), so `images` and `history` need not measure those layers.
 *
 * @example
 * ```ts
 * recordLayerSizes({ root: '/var/lib/ocikit' }, [['sha256:…', 2_048_000]]);
 * ```
 */
export function recordLayerSizes(
  options: Pick<LocalStateOptions, 'root'>,
  sizes: Iterable<readonly [string, number]>,
): void {
  const ctx = localContext(options);
  for (const [diffId, size] of sizes) rememberLayerSize(ctx, diffId, size);
}

/**
 * Frees a local engine's state (`ocikit system prune`): the network attachments of containers that
 * are gone or exited (a killed ocikit's), every container not running or paused — exited, and
 * created but never started, as podman and Docker prune them (not one another process is making
 * right now: configured less than 10 minutes ago) — with `volumes` every volume no
 * container uses (named ones too, as podman 4.3), with `all` every name of an image no container
 * uses, then {@link collectLocal}. A volume a container uses is never removed.
 *
 * @example
 * ```ts
 * const { volumes, reclaimed } = await pruneLocal({ root: '/var/lib/ocikit', all: true, volumes: true });
 * ```
 */
export async function pruneLocal(options: PruneLocalOptions): Promise<PruneLocalResult> {
  const ctx = localContext(options);
  const { signal } = options;
  const store = await openImageStore(ctx, signal);
  const pruned = await pruneContainers(ctx, signal ? { signal } : {});
  const containers = pruned.removed;
  let reclaimed = pruned.spaceReclaimed;
  const volumes: string[] = [];
  if (options.volumes) {
    const pruned = await handlerOf(volumeHandlers(ctx), 'volumes.prune')(signal ? { signal } : {});
    volumes.push(...pruned.removed);
    reclaimed += pruned.spaceReclaimed;
  }
  // dangling images are freed by the gc below
  const images = options.all ? (await untagUnused(ctx, store, undefined, signal)).names : [];
  const { blobs, snapshots } = await collectLocal(options);
  reclaimed += blobs.bytes + blobs.ingestBytes + snapshots.bytes;
  return { containers, volumes, images, blobs, snapshots, reclaimed };
}
