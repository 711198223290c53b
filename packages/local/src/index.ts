export type { LocalEngineOptions, LocalRegistryOptions } from './lib/context.ts';
export { localDriver, localHandlers, localRoot } from './lib/driver.ts';
export type { PolicySource, SignaturePolicySettings } from './lib/image-policy.ts';
export { checkSignaturePolicy } from './lib/image-policy.ts';
export type { LocalImageRaw } from './lib/image-read.ts';
export type {
  DiskUsageRow,
  LocalGcResult,
  LocalStateOptions,
  PruneLocalOptions,
  PruneLocalResult,
} from './lib/system.ts';
export { collectLocal, diskUsage, pruneLocal, recordLayerSizes } from './lib/system.ts';
