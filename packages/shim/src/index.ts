export type {
  ContainerRecord,
  ContainerStatus,
  ContainersOptions,
  LogLine,
  PrepareOptions,
} from './lib/containers.ts';
export { Containers, parseLogLine } from './lib/containers.ts';
export type { CreateOptions, ExecOptions, RunOptions, RuntimeOptions, Stdio } from './lib/runtime.ts';
export { checkId, hasHybridCgroups, proxySignals, Runtime, signalNumber } from './lib/runtime.ts';
