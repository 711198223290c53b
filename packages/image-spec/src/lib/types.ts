import type { Digest } from '@ocikit/digest';

/** A platform an image runs on (image-index.md `platform`). */
export interface Platform {
  /** REQUIRED. CPU architecture, Go's GOARCH values (`amd64`, `arm64`, …). */
  architecture: string;
  /** REQUIRED. Operating system, Go's GOOS values (`linux`, `windows`, …). */
  os: string;
  /** OPTIONAL. Operating system version, e.g. `10.0.14393.1066`. */
  'os.version'?: string;
  /** OPTIONAL. Required OS features, e.g. `win32k`. */
  'os.features'?: string[];
  /** OPTIONAL. CPU variant, e.g. `v7` for arm, `v8` for arm64. */
  variant?: string;
  /** OPTIONAL. Reserved by the spec. */
  features?: string[];
}

/** A content descriptor (descriptor.md): what a blob is, its digest and size. */
export interface Descriptor {
  /** REQUIRED. Media type of the referenced content. */
  mediaType: string;
  /** REQUIRED. Digest of the referenced content. */
  digest: Digest;
  /** REQUIRED. Size of the referenced content in bytes. */
  size: number;
  /** OPTIONAL. URLs the content may be downloaded from. */
  urls?: string[];
  /** OPTIONAL. Arbitrary metadata. */
  annotations?: Record<string, string>;
  /** OPTIONAL. The content itself, base64-encoded. */
  data?: string;
  /** OPTIONAL. Platform of the referenced manifest (in indexes). */
  platform?: Platform;
  /** OPTIONAL. Artifact type of the referenced artifact. */
  artifactType?: string;
}

/** An image manifest (manifest.md), OCI or Docker schema2. */
export interface ImageManifest {
  /** REQUIRED. Always 2. */
  schemaVersion: 2;
  /** SHOULD be set: the manifest's own media type. */
  mediaType?: string;
  /** OPTIONAL (REQUIRED for artifacts with an empty config). */
  artifactType?: string;
  /** REQUIRED. The image configuration. */
  config: Descriptor;
  /** REQUIRED. The layers, base first. */
  layers: Descriptor[];
  /** OPTIONAL. The manifest this one refers to (referrers API). */
  subject?: Descriptor;
  /** OPTIONAL. Arbitrary metadata. */
  annotations?: Record<string, string>;
}

/** An image index (image-index.md), OCI or a Docker manifest list. */
export interface ImageIndex {
  /** REQUIRED. Always 2. */
  schemaVersion: 2;
  /** SHOULD be set: the index's own media type. */
  mediaType?: string;
  /** OPTIONAL. Artifact type when the index is an artifact. */
  artifactType?: string;
  /** REQUIRED. The manifests (or nested indexes) this index lists. */
  manifests: Descriptor[];
  /** OPTIONAL. The manifest this one refers to. */
  subject?: Descriptor;
  /** OPTIONAL. Arbitrary metadata. */
  annotations?: Record<string, string>;
}

/** The execution parameters of an image config (config.md `config`). */
export interface ImageExecConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  [key: string]: unknown;
}

/** One entry of an image config's history. */
export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An image configuration (config.md). */
export interface ImageConfig {
  /** OPTIONAL. RFC 3339 creation time. */
  created?: string;
  /** OPTIONAL. Who made the image. */
  author?: string;
  /** REQUIRED. CPU architecture. */
  architecture: string;
  /** REQUIRED. Operating system. */
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  /** OPTIONAL. Defaults for running a container from the image. */
  config?: ImageExecConfig;
  /** REQUIRED. The layers' uncompressed digests. */
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  /** OPTIONAL. How each layer was made. */
  history?: History[];
  [key: string]: unknown;
}

/** The `oci-layout` file of an image layout. */
export interface ImageLayout {
  /** REQUIRED. `1.0.0`. */
  imageLayoutVersion: string;
}
