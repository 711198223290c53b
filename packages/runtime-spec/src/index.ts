export type { ConvertOptions } from './lib/convert.ts';
export { resolveUser, specFromImageConfig } from './lib/convert.ts';
export { defaultRootlessSpec, defaultSpec, PODMAN_CAPABILITIES } from './lib/defaults.ts';
export { RLIM_INFINITY, rlimitType, stringifySpec, sysctlRefusal } from './lib/limits.ts';
export { parseFeatures, parseSpec, parseState } from './lib/parse.ts';
export { readInRoot, resolveInRoot } from './lib/rootfs.ts';
export type {
  BlockIoResources,
  Capabilities,
  CpuResources,
  Device,
  DeviceCgroup,
  Features,
  FreeBsd,
  FreeBsdSharing,
  Hook,
  Hooks,
  IdMapping,
  Linux,
  LinuxFeatures,
  LinuxResources,
  MemoryResources,
  Mount,
  Namespace,
  Process,
  Rlimit,
  Scheduler,
  Seccomp,
  SeccompSyscall,
  Solaris,
  Spec,
  State,
  StringMap,
  ThrottleDevice,
  User,
  Vm,
  WeightDevice,
  Windows,
  Zos,
} from './lib/types.ts';
