// The images of the local store as the contract shows them: a root descriptor read into its
// manifest, index and config (`readRoot`), and one image's summary (`summaryOf`). Shared by the image
// operations and the prunes.
import { fetchAll, type OciLayout } from '@ocikit/content';
import type { ImageSummary } from '@ocikit/engine';
import {
  type Descriptor,
  formatPlatform,
  hostPlatform,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
  isManifestMediaType,
  matchPlatform,
  parseImageConfig,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import type { LocalContext } from './context.ts';
import { uncompressedLayerSizes } from './layer-size.ts';

/**
 * What `images.inspect` of the local engine gives as `raw`: the image's OCI documents as stored,
 * for what the contract's fields leave out (layer digests and sizes, an index's platforms).
 */
export interface LocalImageRaw {
  /** The root descriptor in the store (a manifest or an index). */
  descriptor: Descriptor;
  /** The root index, when the root is one. */
  index?: ImageIndex | undefined;
  /** The image manifest described (this machine's, for an index that holds it), with its descriptor. */
  manifest?: { descriptor: Descriptor; manifest: ImageManifest } | undefined;
  /** Its image config. */
  config?: ImageConfig | undefined;
}

const opts = (signal: AbortSignal | undefined) => (signal ? { signal } : {});

/** The image of a root: the manifest itself, or this machine's of an index (when the store holds it). */
export async function readRoot(
  store: OciLayout,
  root: Descriptor,
  signal?: AbortSignal,
): Promise<LocalImageRaw> {
  if (isManifestMediaType(root.mediaType)) {
    const manifest = parseManifest(await fetchAll(store, root, opts(signal)));
    const config = parseImageConfig(await fetchAll(store, manifest.config, opts(signal)));
    return { descriptor: root, manifest: { descriptor: root, manifest }, config };
  }
  if (!isIndexMediaType(root.mediaType)) return { descriptor: root };
  const index = parseIndex(await fetchAll(store, root, opts(signal)));
  const host = index.manifests.find(
    (m) => isManifestMediaType(m.mediaType) && m.platform && matchPlatform(hostPlatform(), m.platform),
  );
  if (!host || !(await store.exists(host))) return { descriptor: root, index };
  const manifest = parseManifest(await fetchAll(store, host, opts(signal)));
  const config = parseImageConfig(await fetchAll(store, manifest.config, opts(signal)));
  return { descriptor: root, index, manifest: { descriptor: host, manifest }, config };
}

const configPlatform = (c: ImageConfig) =>
  formatPlatform({
    os: c.os,
    architecture: c.architecture,
    ...(c.variant !== undefined ? { variant: c.variant } : {}),
  });

/**
 * The uncompressed size of each layer of `raw`'s image (none for an index without this machine's
 * image), for {@link summaryOf}: measured once per diff, then read from the state root. Undefined
 * when a layer cannot be read (a missing or corrupt blob): the image is still listed, with its
 * stored sizes, and `history` names the failure.
 */
export async function layerSizesOf(
  ctx: LocalContext,
  store: OciLayout,
  raw: LocalImageRaw,
  signal?: AbortSignal,
): Promise<number[] | undefined> {
  if (!raw.manifest || !raw.config) return [];
  const { layers } = raw.manifest.manifest;
  return uncompressedLayerSizes(ctx, store, layers, raw.config.rootfs.diff_ids, signal).catch(
    (e: unknown) => {
      if (signal?.aborted) throw e;
      return undefined;
    },
  );
}

/**
 * One stored image as the contract lists it, with all its names. Its size is podman 4.3's
 * (decision 215): the layers' uncompressed sizes (`layerSizes`, from {@link layerSizesOf}; their
 * stored sizes when not given, for callers that use no size), its config, its manifest twice (podman's
 * storage keeps it by digest and as the default one) and the index it was stored by; an index
 * without this machine's image counts itself.
 */
export function summaryOf(
  raw: LocalImageRaw,
  names: readonly string[],
  layerSizes?: readonly number[],
): ImageSummary {
  const { descriptor, index, manifest, config } = raw;
  let size = descriptor.size;
  let platform: string | undefined;
  if (index) {
    const platforms = index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : []));
    if (platforms.length > 0) platform = [...new Set(platforms)].join(', ');
  } else if (config) platform = configPlatform(config);
  if (manifest) {
    const { layers } = manifest.manifest;
    const layersSize = (layerSizes ?? layers.map((l) => l.size)).reduce((n, s) => n + s, 0);
    // the root counted above is the index, or the manifest itself (its first copy)
    size += (index ? 2 : 1) * manifest.descriptor.size + manifest.manifest.config.size + layersSize;
  }
  const repoDigests = [
    ...new Set(
      names.flatMap((n) => {
        try {
          return [`${parseReference(n).name}@${descriptor.digest}`];
        } catch {
          return [];
        }
      }),
    ),
  ];
  return {
    id: manifest?.manifest.config.digest ?? descriptor.digest,
    // every stored name, a pulled-by-digest one (`repo:tag@sha256:…`) too: each is a name rmi takes
    repoTags: [...names],
    repoDigests,
    ...(config?.created !== undefined ? { created: config.created } : {}),
    size,
    ...(platform !== undefined ? { platform } : {}),
    labels: { ...(config?.config?.Labels ?? {}) },
    mediaType: descriptor.mediaType,
  };
}
