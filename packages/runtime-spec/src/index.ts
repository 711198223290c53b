export type { ConvertOptions } from './lib/convert.ts';
export { resolveUser, specFromImageConfig } from './lib/convert.ts';
export { defaultRootlessSpec, defaultSpec } from './lib/defaults.ts';
export { parseFeatures, parseSpec, parseState } from './lib/parse.ts';
export { readInRoot, resolveInRoot } from './lib/rootfs.ts';
export type {
  Capabilities,
  Device,
  DeviceCgroup,
  Features,
  Hook,
  Hooks,
  IdMapping,
  Linux,
  LinuxResources,
  Mount,
  Namespace,
  Process,
  Rlimit,
  Scheduler,
  SeccompSyscall,
  Spec,
  State,
  StringMap,
  User,
} from './lib/types.ts';
