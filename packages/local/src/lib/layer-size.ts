// The uncompressed size of a stored layer — the size of its diff, as podman keeps it
// (UncompressedSize) and docker counts it — measured once by streaming the decompressed blob and
// cached under the state root by diffID (decision 213); `history`, `images` and `inspect` read it,
// and the gc drops the entries of diffs no image has any more (decision 215).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Fetcher } from '@ocikit/content';
import { randomHex } from '@ocikit/digest';
import type { Descriptor } from '@ocikit/image-spec';
import type { LocalContext } from './context.ts';

// loaded when a size is first measured, not whenever the engine starts
const zlib = () => process.getBuiltinModule('node:zlib');

const cacheDir = (ctx: LocalContext) => join(ctx.root, 'layer-sizes');
/** The cache file of diff `diffId` (`sha256:…` → `sha256-…`). */
const entryOf = (ctx: LocalContext, diffId: string) => join(cacheDir(ctx), diffId.replace(':', '-'));

function cached(ctx: LocalContext, diffId: string): number | undefined {
  try {
    const n = Number(readFileSync(entryOf(ctx, diffId), 'utf8'));
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined; // not measured yet (or a torn file: measured again)
  }
}

/**
 * Records `size` as the uncompressed size of diff `diffId`, learnt where it is known anyway (a layer
 * applied into a snapshot, a layer a commit wrote), so no `images` or `history` measures it.
 *
 * @example
 * ```ts
 * unpackToSnapshots(store, image, snapshotter, { onApplied: (d, n) => rememberLayerSize(ctx, d, n) });
 * ```
 */
export function rememberLayerSize(ctx: LocalContext, diffId: string, size: number): void {
  // a small state file, written synchronously and renamed into place (decision 103)
  mkdirSync(cacheDir(ctx), { recursive: true });
  const file = entryOf(ctx, diffId);
  const tmp = `${file}.${randomHex(4)}.tmp`;
  writeFileSync(tmp, `${size}\n`);
  renameSync(tmp, file);
}

/**
 * The size in bytes of `layer`'s uncompressed tar (its diff `diffId`): the blob's own size when it
 * is stored uncompressed (or is no gzip or zstd layer), else the decompressed stream's length,
 * measured once and then read from `<root>/layer-sizes/<diffID>`.
 *
 * @example
 * ```ts
 * const bytes = await uncompressedLayerSize(ctx, store, manifest.layers[0], config.rootfs.diff_ids[0]);
 * ```
 */
export async function uncompressedLayerSize(
  ctx: LocalContext,
  store: Fetcher,
  layer: Descriptor,
  diffId: string,
  signal?: AbortSignal,
): Promise<number> {
  const zstd = layer.mediaType.includes('zstd');
  // OCI's `.tar`, docker's `diff.tar`, and what is no layer (an artifact's blob): its own size
  if (!zstd && !layer.mediaType.includes('gzip')) return layer.size;
  const known = cached(ctx, diffId);
  if (known !== undefined) return known;
  const opts = signal ? { signal } : {};
  const decompressor = zstd
    ? zlib().createZstdDecompress({ chunkSize: 1 << 20 })
    : zlib().createGunzip({ chunkSize: 1 << 20 });
  let size = 0;
  const count = new Writable({
    write(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      cb();
    },
  });
  await pipeline(await store.fetch(layer, opts), decompressor, count, opts);
  rememberLayerSize(ctx, diffId, size);
  return size;
}

/**
 * The uncompressed size of each of `layers` (an image manifest's), in order: its diff `diffIds[i]`
 * measured once and then cached ({@link uncompressedLayerSize}); a layer the config gives no diffID
 * counts its blob.
 *
 * @example
 * ```ts
 * const sizes = await uncompressedLayerSizes(ctx, store, manifest.layers, config.rootfs.diff_ids);
 * ```
 */
export async function uncompressedLayerSizes(
  ctx: LocalContext,
  store: Fetcher,
  layers: readonly Descriptor[],
  diffIds: readonly string[],
  signal?: AbortSignal,
): Promise<number[]> {
  const sizes: number[] = [];
  for (const [i, layer] of layers.entries()) {
    const diffId = diffIds[i];
    sizes.push(
      diffId === undefined ? layer.size : await uncompressedLayerSize(ctx, store, layer, diffId, signal),
    );
  }
  return sizes;
}

/**
 * Removes the cached sizes of every diff not in `keep` (the diffIDs of the images still stored or
 * kept for a container), as the gc removes their snapshots; a size being written (`*.tmp`) stays.
 * The diffIDs removed.
 *
 * @example
 * ```ts
 * dropLayerSizes(ctx, new Set(config.rootfs.diff_ids));
 * ```
 */
export function dropLayerSizes(ctx: LocalContext, keep: ReadonlySet<string>): string[] {
  let entries: string[];
  try {
    entries = readdirSync(cacheDir(ctx));
  } catch {
    return []; // nothing measured yet
  }
  const removed: string[] = [];
  for (const entry of entries) {
    if (entry.endsWith('.tmp')) continue;
    const diffId = entry.replace('-', ':');
    if (keep.has(diffId)) continue;
    rmSync(join(cacheDir(ctx), entry), { force: true });
    removed.push(diffId);
  }
  return removed;
}
