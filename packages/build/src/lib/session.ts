// What every step of one build shares: the state root's store, snapshotter and runtime, the context,
// where temporary files go, the build's options, and the trees other stages or images offer to
// `COPY --from` and `RUN --mount=from=`.
import type { Existence, Pusher } from '@ocikit/content';
import type { Descriptor } from '@ocikit/image-spec';
import type { Runtime } from '@ocikit/shim';
import type { Snapshotter } from '@ocikit/snapshot';
import type { SourceRange } from './ast.ts';
import type { SourceTree } from './context.ts';

/** Progress of a build, for `onEvent`. */
export type BuildEvent =
  | {
      /** A stage starts. */
      type: 'stage';
      /** Its name (`AS name`) or index. */
      stage: string;
      /** What it is built on: an image reference, a stage, or `scratch`. */
      base: string;
    }
  | {
      /** A step starts (or is taken from the cache). */
      type: 'step';
      /** The stage it belongs to. */
      stage: string;
      /** Its number among the steps of the build, from 1, and how many there are. */
      index: number;
      count: number;
      /** The instruction as written. */
      instruction: string;
      /** True when its result came from the cache: nothing runs. */
      cached: boolean;
    }
  | {
      /** Output of a RUN, as it comes. */
      type: 'output';
      stream: 'stdout' | 'stderr';
      chunk: Uint8Array;
    }
  | {
      /** A step is done. */
      type: 'step-done';
      index: number;
      /** The layer it made (none for config-only steps and cached ones). */
      layer?: Descriptor | undefined;
      durationMs: number;
    };

/** A tree another stage or an image offers, mounted read-only until released. */
export interface BorrowedTree {
  tree: SourceTree;
  /** What identifies its contents: the chainID of its layers (`empty` without any). */
  key: string;
  release(): Promise<void>;
}

/** The shared parts of one build. */
export interface BuildSession {
  /** The state root. */
  readonly root: string;
  /** This build's temporary directory (removed at its end). */
  readonly tmp: string;
  readonly store: Pusher & Existence;
  readonly snapshotter: Snapshotter;
  /** The OCI runtime RUN uses (made when first asked for: FailedPrecondition when it is not installed). */
  readonly runtime: Runtime;
  /** The build context. */
  readonly context: SourceTree;
  /** Layer mtimes are clamped to this (SOURCE_DATE_EPOCH). */
  readonly clampTime: number | undefined;
  /** The network RUN steps get unless they say (`--network=`). */
  readonly network: 'none' | 'host';
  readonly signal: AbortSignal | undefined;
  emit(event: BuildEvent): void;
  /** The root file system of a stage (by name or index) or an image, mounted read-only. */
  borrow(from: string, range: SourceRange): Promise<BorrowedTree>;
}
