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

/** One stored image as the contract lists it, with all its names. */
export function summaryOf(raw: LocalImageRaw, names: readonly string[]): ImageSummary {
  const { descriptor, index, manifest, config } = raw;
  let size = descriptor.size;
  let platform: string | undefined;
  if (index) {
    const platforms = index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : []));
    if (platforms.length > 0) platform = [...new Set(platforms)].join(', ');
  } else if (manifest && config) {
    // a manifest, its config and its layers, compressed: what the store holds of it
    size += manifest.manifest.config.size + manifest.manifest.layers.reduce((n, l) => n + l.size, 0);
    platform = configPlatform(config);
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
