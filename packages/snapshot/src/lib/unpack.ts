import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Fetcher, fetchAll, selectManifest } from '@ocikit/content';
import { type Digest, verifyStream } from '@ocikit/digest';
import { FailedPreconditionError, InvalidArgumentError, throwIfAborted } from '@ocikit/errors';
import {
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
  parseImageConfig,
} from '@ocikit/image-spec';
import { type ApplyResult, applyLayer } from './apply.ts';

/** Options of {@link unpackImage}. */
export interface UnpackOptions {
  /** Which manifest of an index to unpack (default: the host's platform). */
  platform?: Platform;
  /** Create device nodes and set ownership (default: when running as root). */
  privileged?: boolean;
  /** Called after each layer is applied. */
  onLayer?: (layer: Descriptor, result: ApplyResult, index: number, total: number) => void;
  /** Called as each layer's (compressed) bytes arrive: `bytes` more of `layer`. */
  onProgress?: (layer: Descriptor, bytes: number) => void;
  signal?: AbortSignal;
}

/** What {@link unpackImage} unpacked. */
export interface UnpackResult {
  manifest: Descriptor;
  config: ImageConfig;
  layers: ApplyResult[];
}

/** An image resolved to one manifest, with its parsed config; layers and diffIDs agree in number. */
export interface LoadedImage {
  desc: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Resolves `desc` to the platform's manifest and reads its config, checking one diffID per layer. */
export async function loadImage(
  fetcher: Fetcher,
  desc: Descriptor,
  platform: Platform | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<LoadedImage> {
  const { descriptor: manifestDesc, manifest } = await selectManifest(fetcher, desc, {
    ...options,
    ...(platform ? { platform } : {}),
  });
  const config = parseImageConfig(await fetchAll(fetcher, manifest.config, options));
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidArgumentError(
      `image ${manifestDesc.digest} has ${manifest.layers.length} layers but its config lists ${diffIds.length} diffIDs`,
    );
  }
  return { desc: manifestDesc, manifest, config };
}

/**
 * Fetches one layer, verifies it against its digest as it streams (reporting progress), and applies
 * it onto `dir`, checking its diffID.
 */
export async function fetchAndApply(
  fetcher: Fetcher,
  layer: Descriptor,
  diffId: Digest,
  dir: string,
  options: {
    privileged?: boolean;
    onProgress?: (layer: Descriptor, bytes: number) => void;
    signal?: AbortSignal;
  },
): Promise<ApplyResult> {
  const signalOpts = options.signal ? { signal: options.signal } : {};
  const stream = await fetcher.fetch(layer, signalOpts);
  const onProgress = options.onProgress;
  const counted = onProgress
    ? (async function* () {
        for await (const chunk of stream as AsyncIterable<Uint8Array>) {
          onProgress(layer, chunk.byteLength);
          yield chunk;
        }
      })()
    : stream;
  return applyLayer(dir, verifyStream(counted, { digest: layer.digest, size: layer.size }, signalOpts), {
    mediaType: layer.mediaType,
    diffId,
    ...(options.privileged === undefined ? {} : { privileged: options.privileged }),
    ...signalOpts,
  });
}

/** Whether `path` exists (false when a component of it is missing or is a file). */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates `dir` and its parents; when it, or a directory above it, is a file, a
 * FailedPreconditionError (`details.reason` `not-a-directory`) naming that file.
 */
async function makeTargetDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
    // the deepest path that exists is the file in the way
    let path = dir;
    while (!exists(path) && dirname(path) !== path) path = dirname(path);
    throw new FailedPreconditionError(`cannot unpack into ${dir}: ${path} is a file, not a directory`, {
      details: { reason: 'not-a-directory', path },
      hint: 'name a directory, or a path that does not exist yet',
      cause: e,
    });
  }
}

/**
 * Unpacks an image's layers, in order, into `dir` (created if missing; FailedPrecondition naming
 * the file when it, or a directory above it, is a file): each layer's bytes are
 * verified against its digest as they stream, applied safely, and its uncompressed digest checked
 * against the config's diffID.
 *
 * @example
 * ```ts
 * const layout = await openLayout('images');
 * await unpackImage(layout, await layout.resolve('busybox'), 'rootfs');
 * ```
 */
export async function unpackImage(
  fetcher: Fetcher,
  desc: Descriptor,
  dir: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const signalOpts = options.signal ? { signal: options.signal } : {};
  const {
    desc: manifestDesc,
    manifest,
    config,
  } = await loadImage(fetcher, desc, options.platform, signalOpts);
  const diffIds = config.rootfs.diff_ids;
  await makeTargetDir(dir);
  const layers: ApplyResult[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    throwIfAborted(options.signal);
    const result = await fetchAndApply(fetcher, layer, diffIds[i] as Digest, dir, options);
    layers.push(result);
    options.onLayer?.(layer, result, i, manifest.layers.length);
  }
  return { manifest: manifestDesc, config, layers };
}
