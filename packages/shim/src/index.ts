export type { ContainerErrorReason, ContainersOptions, PrepareOptions } from './lib/containers.ts';
export { Containers } from './lib/containers.ts';
export type { ForegroundOptions } from './lib/foreground.ts';
export { writeTo } from './lib/foreground.ts';
export type { LogLine } from './lib/logs.ts';
export { parseLogLine } from './lib/logs.ts';
export type { ContainerRecord, ContainerStatus } from './lib/records.ts';
export type {
  CreateOptions,
  ExecOptions,
  OutputSink,
  RunOptions,
  RunResult,
  RuntimeOptions,
  Stdio,
} from './lib/runtime.ts';
export {
  checkId,
  commandFailure,
  hasHybridCgroups,
  lastLogError,
  proxySignals,
  Runtime,
  START_FAILURE_CODES,
  signalNumber,
} from './lib/runtime.ts';
