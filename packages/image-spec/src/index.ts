export { chainId } from './lib/chain.ts';
export {
  Annotation,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  layerCompression,
  layerMediaTypeFor,
  MediaType,
} from './lib/media-types.ts';
export {
  decodeJson,
  MAX_DOCUMENT_SIZE,
  parseDescriptor,
  parseImageConfig,
  parseImageLayout,
  parseIndex,
  parseManifest,
} from './lib/parse.ts';
export {
  formatPlatform,
  hostPlatform,
  matchPlatform,
  normalizePlatform,
  parsePlatform,
} from './lib/platform.ts';
export type {
  Descriptor,
  History,
  ImageConfig,
  ImageExecConfig,
  ImageIndex,
  ImageLayout,
  ImageManifest,
  Platform,
} from './lib/types.ts';
