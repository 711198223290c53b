import type { Readable } from 'node:stream';
import type { Descriptor } from '@ocikit/image-spec';

/** Options of every call that does I/O. */
export interface SignalOptions {
  signal?: AbortSignal;
}

/** Options of `fetch`. */
export interface FetchOptions extends SignalOptions {
  /** Start the stream at this byte (to resume an interrupted transfer). */
  offset?: number;
  /**
   * False when the consumer verifies the bytes itself (as a layout writer does on commit), so a
   * fetcher that would hash the stream (a registry) need not do it twice. Default true.
   */
  verify?: boolean;
}

/** Reads blobs. */
export interface Fetcher {
  /** A stream of the blob's bytes (from `offset`); NotFoundError when it is absent. */
  fetch(desc: Descriptor, options?: FetchOptions): Promise<Readable>;
}

/** Tells whether a blob is present. */
export interface Existence {
  exists(desc: Descriptor, options?: SignalOptions): Promise<boolean>;
}

/** Stores blobs. */
export interface Pusher {
  /**
   * Stores `content` as the blob `desc` names. Digest and size are verified before anything
   * becomes visible (DataLossError otherwise); pushing a blob that is present is a no-op.
   */
  push(
    desc: Descriptor,
    content: AsyncIterable<Uint8Array> | Uint8Array,
    options?: SignalOptions,
  ): Promise<void>;
}

/** Options of `resolve`. */
export interface ResolveOptions extends SignalOptions {
  /**
   * The caller fetches what it resolves next: a target that would otherwise ask twice (a registry's
   * `HEAD` then `GET`) may fetch it at once and serve the fetch that follows from what it kept.
   */
  fetching?: boolean;
}

/** Turns a tag (ref name) or a digest into a descriptor. */
export interface Resolver {
  resolve(ref: string, options?: ResolveOptions): Promise<Descriptor>;
}

/** Points a tag (ref name) at a descriptor. */
export interface Tagger {
  tag(desc: Descriptor, ref: string, options?: SignalOptions): Promise<void>;
}

/** A target that can be read: a copy source. */
export interface ReadOnlyTarget extends Fetcher, Existence, Resolver {}

/** A target that can be read and written: a copy destination. */
export interface Target extends ReadOnlyTarget, Pusher, Tagger {}

/** An in-progress write of one blob that survives interruption. */
export interface ContentWriter {
  /** Bytes already kept from an earlier, interrupted write; send the rest from here. */
  readonly offset: number;
  /**
   * Appends bytes; DataLossError as soon as more than the descriptor's size arrive. The chunk may
   * still be in flight when the promise resolves: do not reuse its memory.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Verifies digest and size and makes the blob visible; DataLossError (and a clean slate) otherwise. */
  commit(): Promise<void>;
  /** Gives up: discards what was written and releases the blob. */
  abort(): Promise<void>;
  /** Stops without discarding: what was written is kept for the next writer to resume from. */
  close(): Promise<void>;
}

/** A target that can resume interrupted blob writes. */
export interface Ingester {
  openWriter(desc: Descriptor, options?: SignalOptions): Promise<ContentWriter>;
}

/** A registry repository that can mount blobs from another repository of the same registry. */
export interface Mounter {
  readonly location: { readonly registry: string; readonly repository: string };
  /** Mounts `desc` from `fromRepository`; false when the registry would not (the caller pushes instead). */
  mount(desc: Descriptor, fromRepository: string, options?: SignalOptions): Promise<boolean>;
}

/**
 * A target that stores a manifest and tags it in one step (a registry's `PUT` by tag), where a
 * plain push and a tag would take two.
 */
export interface TaggedPusher {
  /** Stores the manifest `bytes` (verified against `desc`) and points `ref` at it. */
  pushTagged(desc: Descriptor, bytes: Uint8Array, ref: string, options?: SignalOptions): Promise<void>;
}

/**
 * Reads a small blob whole, without a stream: what `fetchAll` uses for manifests and configs where
 * a target can (the layout store reads them with one system call). The bytes are not verified.
 */
export interface BytesFetcher {
  /** The blob's bytes (at most one more than `desc.size`), or undefined when it is not small. */
  fetchBytes(desc: Descriptor, options?: SignalOptions): Promise<Uint8Array | undefined>;
}

/** Removes blobs or manifests. */
export interface Deleter {
  delete(desc: Descriptor, options?: SignalOptions): Promise<void>;
}

/** Lists tags (ref names). */
export interface TagLister {
  tags(options?: SignalOptions): Promise<string[]>;
}

/** Lists the manifests whose `subject` is a given manifest. */
export interface ReferrerLister {
  referrers(subject: Descriptor, options?: SignalOptions & { artifactType?: string }): Promise<Descriptor[]>;
}

const has = (value: unknown, method: string) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Record<string, unknown>)[method] === 'function';

/** True when `target` can resume blob writes. */
export function isIngester(target: unknown): target is Ingester {
  return has(target, 'openWriter');
}

/** True when `target` can mount blobs across repositories. */
export function isMounter(target: unknown): target is Mounter {
  return has(target, 'mount') && typeof (target as { location?: unknown }).location === 'object';
}

/** True when `target` can store a manifest under a tag in one step. */
export function isTaggedPusher(target: unknown): target is TaggedPusher {
  return has(target, 'pushTagged');
}

/** True when `target` can read small blobs whole. */
export function isBytesFetcher(target: unknown): target is BytesFetcher {
  return has(target, 'fetchBytes');
}

/** True when `target` can delete. */
export function isDeleter(target: unknown): target is Deleter {
  return has(target, 'delete');
}

/** True when `target` can list tags. */
export function isTagLister(target: unknown): target is TagLister {
  return has(target, 'tags');
}

/** True when `target` can list referrers. */
export function isReferrerLister(target: unknown): target is ReferrerLister {
  return has(target, 'referrers');
}
