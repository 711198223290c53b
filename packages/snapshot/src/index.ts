export type { ApplyOptions, ApplyResult } from './lib/apply.ts';
export { applyLayer } from './lib/apply.ts';
