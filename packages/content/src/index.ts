export type {
  ArchiveFormat,
  ArchiveImage,
  ImageArchive,
  OpenArchiveOptions,
} from './lib/archive-read.ts';
export { openArchive, openArchiveStream } from './lib/archive-read.ts';
export type { ArchiveWriter, CreateArchiveWriterOptions } from './lib/archive-write.ts';
export { createArchiveWriter } from './lib/archive-write.ts';
export type { CopyEvent, CopyOptions } from './lib/copy.ts';
export { copy } from './lib/copy.ts';
export {
  childrenOf,
  fetchAll,
  isGraphNode,
  pushBytes,
  successors,
  walk,
  withoutRefName,
} from './lib/helpers.ts';
export type {
  FsckProblem,
  FsckResult,
  GcOptions,
  GcResult,
  OciLayout,
  OpenLayoutOptions,
} from './lib/layout.ts';
export { openLayout } from './lib/layout.ts';
export type { Lock, LockOptions } from './lib/lock.ts';
export { acquireLock, withLock } from './lib/lock.ts';
export { MemoryStore } from './lib/memory.ts';
export type { SelectedManifest, SelectManifestOptions } from './lib/select-manifest.ts';
export { selectManifest } from './lib/select-manifest.ts';
export type {
  BytesFetcher,
  ContentWriter,
  Deleter,
  Existence,
  Fetcher,
  FetchOptions,
  Ingester,
  Mounter,
  Pusher,
  ReadOnlyTarget,
  ReferrerLister,
  ResolveOptions,
  Resolver,
  SignalOptions,
  TaggedPusher,
  Tagger,
  TagLister,
  Target,
} from './lib/target.ts';
export {
  isBytesFetcher,
  isDeleter,
  isIngester,
  isMounter,
  isReferrerLister,
  isTaggedPusher,
  isTagLister,
} from './lib/target.ts';
