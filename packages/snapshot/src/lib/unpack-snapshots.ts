import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fetcher } from '@ocikit/content';
import { type Digest, randomHex } from '@ocikit/digest';
import { InvalidArgumentError, isNotFound, throwIfAborted } from '@ocikit/errors';
import { chainId, type Descriptor, type ImageConfig, type Platform } from '@ocikit/image-spec';
import { mountAll, unmount } from './dir-snapshotter.ts';
import type { Snapshotter } from './snapshotter.ts';
import { fetchAndApply, loadImage } from './unpack.ts';

/** What {@link unpackToSnapshots} did. */
export interface SnapshotUnpackResult {
  manifest: Descriptor;
  config: ImageConfig;
  /** The committed snapshot that holds the whole image: the chainID of its layers. */
  chainId: Digest;
  /** Layers applied now, and layers whose snapshot already existed. */
  applied: number;
  reused: number;
}

/**
 * Unpacks an image into a snapshotter, one committed snapshot per layer, named by the chainID of
 * the layers up to it — so a layer stack shared by many images is unpacked once. Each layer is
 * applied through a mount of a fresh active snapshot (overlayfs records its own whiteouts), then
 * committed.
 */
export async function unpackToSnapshots(
  fetcher: Fetcher,
  desc: Descriptor,
  snapshotter: Snapshotter,
  options: { platform?: Platform; privileged?: boolean; signal?: AbortSignal } = {},
): Promise<SnapshotUnpackResult> {
  const signalOpts = options.signal ? { signal: options.signal } : {};
  const {
    desc: manifestDesc,
    manifest,
    config,
  } = await loadImage(fetcher, desc, options.platform, signalOpts);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length === 0)
    throw new InvalidArgumentError(`image ${manifestDesc.digest} has no layers to unpack`);
  let parent: Digest | undefined;
  let applied = 0;
  let reused = 0;
  for (const [i, layer] of manifest.layers.entries()) {
    throwIfAborted(options.signal);
    const name = chainId(diffIds.slice(0, i + 1));
    const existing = await snapshotter.stat(name).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (existing?.kind === 'committed') {
      reused++;
      parent = name;
      continue;
    }
    const key = `extract-${randomHex(6)} ${name}`;
    const mounts = await snapshotter.prepare(key, parent);
    const target = await mkdtemp(join(tmpdir(), 'ocikit-apply-'));
    try {
      mountAll(mounts, target);
      try {
        await fetchAndApply(fetcher, layer, diffIds[i] as Digest, target, options);
      } finally {
        unmount(target);
      }
      await snapshotter.commit(name, key);
    } catch (e) {
      await snapshotter.remove(key).catch(() => {});
      throw e;
    } finally {
      await rm(target, { recursive: true, force: true });
    }
    applied++;
    parent = name;
  }
  return { manifest: manifestDesc, config, chainId: parent as Digest, applied, reused };
}
