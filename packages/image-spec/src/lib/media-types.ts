/** Media types of the OCI image spec and of Docker's image manifest v2 schema 2. */
export const MediaType = {
  ImageManifest: 'application/vnd.oci.image.manifest.v1+json',
  ImageIndex: 'application/vnd.oci.image.index.v1+json',
  ImageConfig: 'application/vnd.oci.image.config.v1+json',
  ImageLayout: 'application/vnd.oci.layout.header.v1+json',
  ImageLayer: 'application/vnd.oci.image.layer.v1.tar',
  ImageLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ImageLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ImageLayerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ImageLayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ImageLayerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  EmptyJSON: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DockerPluginConfig: 'application/vnd.docker.plugin.v1+json',
} as const;

/** Annotation keys defined by the OCI image spec (annotations.md). */
export const Annotation = {
  Created: 'org.opencontainers.image.created',
  Authors: 'org.opencontainers.image.authors',
  Url: 'org.opencontainers.image.url',
  Documentation: 'org.opencontainers.image.documentation',
  Source: 'org.opencontainers.image.source',
  Version: 'org.opencontainers.image.version',
  Revision: 'org.opencontainers.image.revision',
  Vendor: 'org.opencontainers.image.vendor',
  Licenses: 'org.opencontainers.image.licenses',
  RefName: 'org.opencontainers.image.ref.name',
  Title: 'org.opencontainers.image.title',
  Description: 'org.opencontainers.image.description',
  BaseImageDigest: 'org.opencontainers.image.base.digest',
  BaseImageName: 'org.opencontainers.image.base.name',
} as const;

const manifestTypes = new Set<string>([MediaType.ImageManifest, MediaType.DockerManifest]);
const indexTypes = new Set<string>([MediaType.ImageIndex, MediaType.DockerManifestList]);
const compression: Readonly<Record<string, 'none' | 'gzip' | 'zstd'>> = {
  [MediaType.ImageLayer]: 'none',
  [MediaType.ImageLayerGzip]: 'gzip',
  [MediaType.ImageLayerZstd]: 'zstd',
  [MediaType.ImageLayerNonDistributable]: 'none',
  [MediaType.ImageLayerNonDistributableGzip]: 'gzip',
  [MediaType.ImageLayerNonDistributableZstd]: 'zstd',
  [MediaType.DockerLayer]: 'none',
  [MediaType.DockerLayerGzip]: 'gzip',
  [MediaType.DockerForeignLayerGzip]: 'gzip',
};

/** True for the OCI image manifest and Docker schema2 manifest media types. */
export function isManifestMediaType(mediaType: string): boolean {
  return manifestTypes.has(mediaType);
}

/** True for the OCI image index and Docker manifest list media types. */
export function isIndexMediaType(mediaType: string): boolean {
  return indexTypes.has(mediaType);
}

/** True for every OCI and Docker layer media type (tar, gzip, zstd; distributable or not). */
export function isLayerMediaType(mediaType: string): boolean {
  return mediaType in compression;
}

/** The compression of a layer media type, or undefined when it is not a layer type. */
export function layerCompression(mediaType: string): 'none' | 'gzip' | 'zstd' | undefined {
  return compression[mediaType];
}

const dockerLayer: Readonly<Record<string, string>> = {
  [MediaType.ImageLayerGzip]: MediaType.DockerLayerGzip,
  [MediaType.ImageLayer]: MediaType.DockerLayer,
};
const ociLayer: Readonly<Record<string, string>> = {
  [MediaType.DockerLayerGzip]: MediaType.ImageLayerGzip,
  [MediaType.DockerLayer]: MediaType.ImageLayer,
};

/**
 * A layer media type in the family of `format`, its compression kept: an OCI tar or tar+gzip layer
 * as Docker's `rootfs.diff.tar(.gzip)` and back, as podman and buildah convert layers when they write
 * a Docker (`--format docker`) or an OCI image. A type with no counterpart (zstd, non-distributable,
 * not a layer) is returned as it is.
 *
 * @example
 * ```ts
 * layerMediaTypeFor(MediaType.ImageLayerGzip, 'docker'); // 'application/vnd.docker.image.rootfs.diff.tar.gzip'
 * ```
 */
export function layerMediaTypeFor(mediaType: string, format: 'oci' | 'docker'): string {
  return (format === 'docker' ? dockerLayer : ociLayer)[mediaType] ?? mediaType;
}
