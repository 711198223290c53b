// `containers.prune` and `images.prune` of the local engine, and the pieces `system prune`
// (pruneLocal) shares with them: removing every container that is not running, untagging every
// image no container uses, and finding the dangling images a gc of the store frees (decision 200).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isGraphNode, type OciLayout, walk } from '@ocikit/content';
import { isDigest } from '@ocikit/digest';
import {
  type ContainerPruneOptions,
  type ContainersPruned,
  type Handlers,
  hasLabel,
  type ImagePruneOptions,
  type ImageRemoved,
  type ImagesPruned,
  type PruneFilters,
} from '@ocikit/engine';
import { Annotation, type Descriptor, isIndexMediaType, isManifestMediaType } from '@ocikit/image-spec';
import type { ContainerRecord } from '@ocikit/shim';
import { removeContainer } from './container-remove.ts';
import { snapshotterOf } from './container-store.ts';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';
import { readRoot, summaryOf } from './image-read.ts';
import { openImageStore } from './image-store.ts';
import { containerRecords, imagesInUse } from './image-use.ts';
import { sweepNetworks } from './network.ts';

const opts = (signal: AbortSignal | undefined) => (signal ? { signal } : {});

/** A running or paused container: not removed by a prune, and counted active by `system df` (as podman counts them: a created one is neither). */
export function isActive(c: ContainerRecord): boolean {
  return c.status === 'running' || c.status === 'paused';
}

/**
 * Whether something made at `created` (RFC 3339; unknown: undefined) with `labels` is selected by
 * `filters` (none: everything), as podman's and Docker's prune filters select.
 */
export function matchesPruneFilters(
  filters: PruneFilters | undefined,
  created: string | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!filters) return true;
  if (filters.until !== undefined) {
    const time = created === undefined ? Number.NaN : Date.parse(created);
    if (!(time < filters.until)) return false;
  }
  if (filters.labels && !filters.labels.every((l) => hasLabel(labels, l))) return false;
  if (filters.notLabels?.some((l) => hasLabel(labels, l))) return false;
  return true;
}

/**
 * Removes every container that is not running or paused — exited, and created but never started,
 * as podman and Docker prune them (not one another process is making right now: configured less
 * than 10 minutes ago) — and that `filters` select, through the remove path (CNI DEL, namespace,
 * mounts, snapshot, record). Network attachments a killed ocikit left behind go first.
 */
export async function pruneContainers(
  ctx: LocalContext,
  options: ContainerPruneOptions = {},
): Promise<ContainersPruned> {
  const { signal } = options;
  // network attachments of containers a killed ocikit left behind (running ones' too, for ps)
  await sweepNetworks(ctx);
  const snapshotter = snapshotterOf(ctx);
  const removed: string[] = [];
  let spaceReclaimed = 0;
  for (const c of await containerRecords(ctx)) {
    signal?.throwIfAborted();
    if (isActive(c) || (c.status === 'configured' && Date.now() - Date.parse(c.createdAt) < 10 * 60_000))
      continue;
    if (!matchesPruneFilters(options.filters, c.createdAt, c.labels ?? {})) continue;
    const usage = await snapshotter.usage(`container-${c.id}`).catch(() => ({ size: 0 }));
    // a created one waits in the runtime for its start: removed with it, as podman and Docker prune it
    await removeContainer(ctx, c.id, { force: c.status === 'created', operation: 'containers.prune' });
    spaceReclaimed += usage.size;
    removed.push(c.id);
  }
  return { removed, spaceReclaimed };
}

/** What {@link untagUnused} did: the names untagged, and the ids of the images that lost their last one. */
export interface UntaggedImages {
  /** Every name untagged. */
  names: string[];
  /** The image ids (config digests) of the images deleted. */
  ids: string[];
}

/**
 * Untags every name of every stored image no container uses (and that `filters` select), with an
 * `untag` event per name and a `delete` event per image: `prune -a`. Their blobs stay for a gc.
 */
export async function untagUnused(
  ctx: LocalContext,
  store: OciLayout,
  filters: PruneFilters | undefined,
  signal: AbortSignal | undefined,
): Promise<UntaggedImages> {
  const used = new Set((await imagesInUse(ctx, store)).map((u) => u.image.digest));
  const unused = new Map<string, { root: Descriptor; names: string[] }>();
  for (const d of await store.list()) {
    const name = d.annotations?.[Annotation.RefName];
    if (name === undefined || used.has(d.digest)) continue;
    const image = unused.get(d.digest) ?? { root: d, names: [] };
    image.names.push(name);
    unused.set(d.digest, image);
  }
  const out: UntaggedImages = { names: [], ids: [] };
  // every name of an unused image goes, so each of them is deleted: the events say both
  for (const { root, names } of unused.values()) {
    const { id, created, labels } = summaryOf(await readRoot(store, root, signal), names);
    if (!matchesPruneFilters(filters, created, labels)) continue;
    for (const name of names) {
      await store.untag(name, opts(signal));
      out.names.push(name);
      await recordEvent(ctx, { type: 'image', action: 'untag', id, attributes: { name } });
    }
    out.ids.push(id);
    await recordEvent(ctx, { type: 'image', action: 'delete', id, attributes: { name: names[0] ?? id } });
  }
  return out;
}

/** Every blob digest reachable from `roots`, with its size (from descriptors; what the store lacks is skipped). */
export async function reachable(
  store: OciLayout,
  roots: readonly Descriptor[],
  signal: AbortSignal | undefined,
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
      opts(signal),
    );
  }
  return sizes;
}

/** The largest blob read to see whether it is a manifest or an index. */
const MAX_DOCUMENT = 4 << 20;

/**
 * The dangling images of the store: manifests and indexes among its blobs that neither a name nor
 * a container reaches (what a gc frees), not counting the manifests of such an index. The store
 * keeps images by name, so an image dangles once a pull, tag, commit or build moved its last name
 * to another image.
 */
async function danglingImages(
  ctx: LocalContext,
  store: OciLayout,
  signal: AbortSignal | undefined,
): Promise<Descriptor[]> {
  const roots = [...(await store.list()), ...(await imagesInUse(ctx, store)).map((u) => u.image)];
  const kept = await reachable(store, roots, signal);
  const dir = join(store.path, 'blobs', 'sha256');
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const found = new Map<string, Descriptor>();
  const children = new Set<string>();
  for (const hex of files) {
    const digest = `sha256:${hex}`;
    if (kept.has(digest) || !isDigest(digest)) continue;
    const file = join(dir, hex);
    const size = statSync(file, { throwIfNoEntry: false })?.size ?? MAX_DOCUMENT;
    if (size >= MAX_DOCUMENT) continue;
    let doc: { mediaType?: unknown; config?: unknown; layers?: unknown; manifests?: unknown };
    try {
      const bytes = readFileSync(file);
      if (bytes[0] !== 0x7b) continue; // not a JSON object: a layer or other blob
      doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
    } catch {
      continue;
    }
    const type = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
    if (Array.isArray(doc.manifests) && (type === undefined || isIndexMediaType(type))) {
      for (const m of doc.manifests as { digest?: unknown }[])
        if (typeof m.digest === 'string') children.add(m.digest);
      found.set(digest, { mediaType: type ?? 'application/vnd.oci.image.index.v1+json', digest, size });
    } else if (
      typeof doc.config === 'object' &&
      Array.isArray(doc.layers) &&
      (type === undefined || isManifestMediaType(type))
    ) {
      found.set(digest, { mediaType: type ?? 'application/vnd.oci.image.manifest.v1+json', digest, size });
    }
  }
  return [...found.values()].filter((d) => !children.has(d.digest));
}

/**
 * `images.prune`: with `all`, every name of every image no container uses first ({@link
 * untagUnused}); then every dangling image `filters` select, freed with a gc of the store (which
 * keeps the dangling images the filters leave out). Gives the names untagged and the ids deleted.
 */
export async function pruneImages(ctx: LocalContext, options: ImagePruneOptions = {}): Promise<ImagesPruned> {
  const { signal, filters } = options;
  const store = await openImageStore(ctx, signal);
  const untagged = options.all ? await untagUnused(ctx, store, filters, signal) : { names: [], ids: [] };
  const ids = new Set(untagged.ids);
  const selected: { root: Descriptor; id: string }[] = [];
  const spared: Descriptor[] = [];
  for (const root of await danglingImages(ctx, store, signal)) {
    const { id, created, labels } = summaryOf(
      await readRoot(store, root, signal).catch(() => ({ descriptor: root })),
      [],
    );
    // an image just untagged above was selected already
    if (ids.has(id)) continue;
    if (matchesPruneFilters(filters, created, labels)) selected.push({ root, id });
    else spared.push(root);
  }
  const inUse = (await imagesInUse(ctx, store)).map((u) => u.image);
  const gc = await store.gc({ roots: [...inUse, ...spared], ...opts(signal) });
  // a dangling image is deleted once the gc took its manifest (it keeps blobs written in the last
  // second, which another process may be about to tag: the next prune takes those)
  const gone = new Set<string>(gc.removed);
  for (const { root, id } of selected) {
    if (!gone.has(root.digest) || ids.has(id)) continue;
    ids.add(id);
    await recordEvent(ctx, { type: 'image', action: 'delete', id, attributes: { name: id } });
  }
  const removed: ImageRemoved[] = [
    ...untagged.names.map((name) => ({ untagged: name })),
    ...[...ids].map((id) => ({ deleted: id })),
  ];
  return { removed, spaceReclaimed: gc.bytes };
}

/** The prune operations of the local engine: `containers.prune` and `images.prune`. */
export function pruneHandlers(ctx: LocalContext): Pick<Handlers, 'containers.prune' | 'images.prune'> {
  return {
    'containers.prune': (options) => pruneContainers(ctx, options),
    'images.prune': (options) => pruneImages(ctx, options),
  };
}
