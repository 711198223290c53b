// Test helpers: small images built in memory (not part of the package's API).
import { randomBytes } from 'node:crypto';
import { MemoryStore, pushBytes } from '@ocikit/content';
import { type Descriptor, MediaType, type Platform } from '@ocikit/image-spec';

/** An image in a MemoryStore: its manifest descriptor and its blobs' bytes. */
export interface TestImage {
  store: MemoryStore;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  bytes: Map<string, Uint8Array>;
}

/** Builds an image with layers of the given sizes (random bytes), tagged `tag` in a MemoryStore. */
export async function makeImage(
  options: { layers?: number[]; tag?: string; platform?: Platform; store?: MemoryStore } = {},
): Promise<TestImage> {
  const store = options.store ?? new MemoryStore();
  const bytes = new Map<string, Uint8Array>();
  const layers: Descriptor[] = [];
  for (const size of options.layers ?? [1024]) {
    const data = randomBytes(size);
    const desc = await pushBytes(store, MediaType.ImageLayer, data);
    bytes.set(desc.digest, data);
    layers.push(desc);
  }
  const platform = options.platform ?? { architecture: 'amd64', os: 'linux' };
  const configBytes = Buffer.from(
    JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }),
  );
  const config = await pushBytes(store, MediaType.ImageConfig, configBytes);
  bytes.set(config.digest, configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config, layers }),
  );
  const manifest = await pushBytes(store, MediaType.ImageManifest, manifestBytes);
  bytes.set(manifest.digest, manifestBytes);
  if (options.tag !== undefined) await store.tag(manifest, options.tag);
  return { store, manifest, config, layers, bytes };
}

/** Builds a two-platform index (linux/amd64, linux/arm64) tagged `tag`. */
export async function makeIndex(
  tag: string,
): Promise<{ store: MemoryStore; index: Descriptor; images: TestImage[] }> {
  const store = new MemoryStore();
  const platforms: Platform[] = [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux', variant: 'v8' },
  ];
  const images: TestImage[] = [];
  for (const platform of platforms) images.push(await makeImage({ store, platform, layers: [2048] }));
  const index = await pushBytes(
    store,
    MediaType.ImageIndex,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageIndex,
        manifests: images.map((img, i) => ({ ...img.manifest, platform: platforms[i] })),
      }),
    ),
  );
  await store.tag(index, tag);
  return { store, index, images };
}
