export type {
  Attachment,
  AttachOptions,
  CallOptions,
  CommitSpec,
  CommittedImage,
  Connection,
  ConnectOptions,
  ConsoleSize,
  ContainerDetails,
  ContainerListOptions,
  ContainerMount,
  ContainerNetwork,
  ContainerPruneOptions,
  ContainerSpec,
  ContainerState,
  ContainerSummary,
  ContainersPruned,
  CreatedContainer,
  CreateOptions,
  DeviceMapping,
  Driver,
  EngineEvent,
  EngineInfo,
  EngineVersion,
  EventsOptions,
  ExecOptions,
  ExecProcess,
  ExecSpec,
  Handlers,
  HistoryEntry,
  ImageDetails,
  ImageListOptions,
  ImagePruneOptions,
  ImageRemoved,
  ImageRemoveOptions,
  ImageRunConfig,
  ImageSummary,
  ImagesPruned,
  LoadOptions,
  LogsOptions,
  MountSpec,
  NetworkConnectSpec,
  NetworkDetails,
  NetworkDisconnectOptions,
  NetworkSpec,
  NetworksPruned,
  Operation,
  OutputChunk,
  PortBinding,
  ProgressEvent,
  PruneFilters,
  PublishedPort,
  PulledImage,
  PullOptions,
  PushedImage,
  PushOptions,
  RegistryAuth,
  RemoveOptions,
  RunOptions,
  RunResult,
  StartOptions,
  StopOptions,
  Ulimit,
  VolumeDetails,
  VolumeRemoveOptions,
  VolumeSpec,
  VolumesPruned,
  WaitOptions,
} from './lib/contract.ts';
export type { DockerDriverOptions } from './lib/docker/driver.ts';
export { createDockerDriver, dockerDriver } from './lib/docker/driver.ts';
export type { TlsSettings } from './lib/docker/http.ts';
export type { EngineOptions } from './lib/engine.ts';
export { Engine } from './lib/engine.ts';
export type { EngineErrorDetails, EngineErrorReason } from './lib/errors.ts';
export { engineError } from './lib/errors.ts';
export type { HostDriver, HostInput, HostSource, ResolvedHost } from './lib/hosts.ts';
export { resolveHost } from './lib/hosts.ts';
export { hasLabel } from './lib/labels.ts';
export type { PodmanDriverOptions } from './lib/podman/driver.ts';
export { createPodmanDriver, podmanDriver } from './lib/podman/driver.ts';
export type { ContainerStatusFacts } from './lib/status.ts';
export { commandLine, containerStatus, humanDuration } from './lib/status.ts';
export type { RelayInput, RelayOptions, RelayOutput, RelayResult, RelayStreams } from './lib/stdio.ts';
export {
  DEFAULT_DETACH_KEYS,
  DetachKeyFilter,
  PROXIED_SIGNALS,
  parseDetachKeys,
  relayStdio,
} from './lib/stdio.ts';
