export type { ApplyOptions, ApplyResult } from './lib/apply.ts';
export { applyLayer } from './lib/apply.ts';
export type { UnpackOptions, UnpackResult } from './lib/unpack.ts';
export { selectManifest, unpackImage } from './lib/unpack.ts';
