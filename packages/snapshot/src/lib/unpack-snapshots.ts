import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fetcher } from '@ocikit/content';
import { type Digest, randomHex } from '@ocikit/digest';
import { InvalidArgumentError, isAlreadyExists, isNotFound, throwIfAborted } from '@ocikit/errors';
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

/** Options of {@link unpackToSnapshots}. */
export interface UnpackToSnapshotsOptions {
  /** The image of this platform, for an index (default: this machine's). */
  platform?: Platform;
  /** Make device nodes and keep owners as a privileged process may. */
  privileged?: boolean;
  /**
   * Called for each layer applied now (not one reused) with its diffID and the uncompressed tar's
   * length in bytes — the diff's size, known once applied (a cache of layer sizes keeps it).
   */
  onApplied?: (diffId: Digest, size: number) => void;
  /** Cancels the unpack. */
  signal?: AbortSignal;
}

// Layers being unpacked by this process, per snapshotter: a second unpack of the same chainID waits
// for the first instead of applying the layer again (containerd's duplication suppressor).
const inFlight = new WeakMap<Snapshotter, Map<string, Promise<boolean>>>();

async function committed(snapshotter: Snapshotter, name: string): Promise<boolean> {
  const info = await snapshotter.stat(name).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  return info?.kind === 'committed';
}

/**
 * Unpacks an image into a snapshotter, one committed snapshot per layer, named by the chainID of
 * the layers up to it — so a layer stack shared by many images is unpacked once. Each layer is
 * applied through a mount of a fresh active snapshot (overlayfs records its own whiteouts), then
 * committed. Unpacks of the same image running at once, in this process or in others on the same
 * snapshotter, converge: within a process the second waits for the first; across processes, the one
 * whose commit finds the chainID already committed drops its own copy and reuses that one, as
 * containerd's unpacker does.
 */
export async function unpackToSnapshots(
  fetcher: Fetcher,
  desc: Descriptor,
  snapshotter: Snapshotter,
  options: UnpackToSnapshotsOptions = {},
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
  const running = inFlight.get(snapshotter) ?? new Map<string, Promise<boolean>>();
  inFlight.set(snapshotter, running);
  let parent: Digest | undefined;
  let applied = 0;
  let reused = 0;
  for (const [i, layer] of manifest.layers.entries()) {
    throwIfAborted(options.signal);
    const name = chainId(diffIds.slice(0, i + 1));
    let pending = running.get(name);
    while (pending) {
      // another unpack in this process is making it: wait, then look again (it may have failed)
      await pending.catch(() => {});
      pending = running.get(name);
    }
    if (await committed(snapshotter, name)) {
      reused++;
      parent = name;
      continue;
    }
    const made = unpackLayer(fetcher, layer, diffIds[i] as Digest, name, parent, snapshotter, options);
    running.set(name, made);
    try {
      if (await made) applied++;
      else reused++;
    } finally {
      running.delete(name);
    }
    parent = name;
  }
  return { manifest: manifestDesc, config, chainId: parent as Digest, applied, reused };
}

/**
 * Applies one layer into a new active snapshot on `parent` and commits it as `name`. False when
 * another process committed `name` first: the copy made here is removed and theirs is used.
 */
async function unpackLayer(
  fetcher: Fetcher,
  layer: Descriptor,
  diffId: Digest,
  name: Digest,
  parent: Digest | undefined,
  snapshotter: Snapshotter,
  options: UnpackToSnapshotsOptions,
): Promise<boolean> {
  const key = `extract-${randomHex(6)} ${name}`;
  const mounts = await snapshotter.prepare(key, parent);
  const target = await mkdtemp(join(tmpdir(), 'ocikit-apply-'));
  try {
    mountAll(mounts, target);
    try {
      const applied = await fetchAndApply(fetcher, layer, diffId, target, options);
      options.onApplied?.(diffId, applied.size);
    } finally {
      unmount(target);
    }
    await snapshotter.commit(name, key);
    return true;
  } catch (e) {
    await snapshotter.remove(key).catch(() => {});
    // another process committed the same layer stack while this one applied it: use theirs
    if (isAlreadyExists(e) && (await committed(snapshotter, name))) return false;
    throw e;
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}
