export type { ApplyOptions, ApplyResult } from './lib/apply.ts';
export { applyLayer } from './lib/apply.ts';
export type { DiffOptions, DiffResult } from './lib/diff.ts';
export { diffDirectories, diffOverlayUpper } from './lib/diff.ts';
export {
  defaultSnapshotter,
  mountAll,
  nativeSnapshotter,
  overlaySnapshotter,
  overlaySupported,
  unmount,
} from './lib/dir-snapshotter.ts';
export type { PruneSnapshotsOptions, PruneSnapshotsResult } from './lib/prune.ts';
export { pruneSnapshots } from './lib/prune.ts';
export type {
  PrepareOptions,
  SnapshotInfo,
  SnapshotKind,
  SnapshotMount,
  Snapshotter,
  SnapshotUsage,
} from './lib/snapshotter.ts';
export type { UnpackOptions, UnpackResult } from './lib/unpack.ts';
export { unpackImage } from './lib/unpack.ts';
export type { SnapshotUnpackResult, UnpackToSnapshotsOptions } from './lib/unpack-snapshots.ts';
export { unpackToSnapshots } from './lib/unpack-snapshots.ts';
