export type { LocalEngineOptions, LocalRegistryOptions } from './lib/context.ts';
export { localDriver, localHandlers, localRoot } from './lib/driver.ts';
