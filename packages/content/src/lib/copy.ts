import { verifyStream } from '@ocikit/digest';
import { isDataLoss, isUnavailable, throwIfAborted } from '@ocikit/errors';
import { type Descriptor, isIndexMediaType, type Platform } from '@ocikit/image-spec';
import { childrenOf, fetchAll, isGraphNode, withoutRefName } from './helpers.ts';
import { selectManifest } from './select-manifest.ts';
import { isIngester, isMounter, isTaggedPusher, type ReadOnlyTarget, type Target } from './target.ts';

/** What `copy` reports as it goes. */
export type CopyEvent =
  | { type: 'start'; descriptor: Descriptor; offset: number }
  | { type: 'progress'; descriptor: Descriptor; bytes: number }
  | { type: 'done'; descriptor: Descriptor }
  | { type: 'skip'; descriptor: Descriptor; reason: 'exists' | 'mounted' };

/** Options of {@link copy}. */
export interface CopyOptions {
  /** Blobs transferred at once (default 4). */
  concurrency?: number;
  /** Narrow an index to the one manifest for this platform. */
  platform?: Platform;
  /** Copy every manifest of an index (the default when `platform` is not given). */
  allPlatforms?: boolean;
  /** Called for every blob started, advanced, finished or skipped. */
  onProgress?: (event: CopyEvent) => void;
  signal?: AbortSignal;
}

function limiter(max: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/**
 * Waits for every promise, then throws the first failure: a failed blob does not leave its siblings'
 * transfers running (and their ingests half-written) after `copy` has returned.
 */
async function settleAll(promises: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Copies the image (or any graph) that `srcRef` names in `src` to `dst`, and tags it `dstRef` there.
 * Children go before their parents, so `dst` never holds a manifest whose blobs are missing. Blobs
 * `dst` has are skipped; with a `Mounter` destination on the same registry they are mounted; with an
 * `Ingester` destination interrupted writes resume; every byte is verified before it is committed.
 * Pull, push, registry-to-registry and layout-to-layout copies are all this one function.
 * Returns the descriptor of what was copied (with `platform`, the selected manifest).
 *
 * @example
 * ```ts
 * const desc = await copy(await openLayout('a'), 'v1', await openLayout('b', { create: true }), 'v1');
 * ```
 */
export async function copy(
  src: ReadOnlyTarget,
  srcRef: string,
  dst: Target,
  dstRef: string | undefined,
  options: CopyOptions = {},
): Promise<Descriptor> {
  const { signal, onProgress } = options;
  const opts = signal ? { signal } : {};
  const limit = limiter(Math.max(1, options.concurrency ?? 4));
  const done = new Map<string, Promise<void>>();
  const emit = (e: CopyEvent) => onProgress?.(e);

  // the root's tag, when `dst` can store the root manifest under it in one step
  let tagOnPush: { digest: string; ref: string } | undefined;
  let tagged = false;

  const transfer = async (desc: Descriptor, bytes?: Uint8Array): Promise<void> => {
    throwIfAborted(signal);
    // a manifest (`bytes`) was found absent just before its children were copied: pushing it again
    // would be harmless, so it is not asked twice
    if (!bytes && (await dst.exists(desc, opts))) {
      emit({ type: 'skip', descriptor: desc, reason: 'exists' });
      return;
    }
    if (bytes) {
      emit({ type: 'start', descriptor: desc, offset: 0 });
      if (tagOnPush?.digest === desc.digest && isTaggedPusher(dst)) {
        await dst.pushTagged(desc, bytes, tagOnPush.ref, opts);
        tagged = true;
      } else await dst.push(desc, bytes, opts);
      emit({ type: 'progress', descriptor: desc, bytes: bytes.byteLength });
      emit({ type: 'done', descriptor: desc });
      return;
    }
    const srcLocation = (src as { location?: { registry: string; repository: string } }).location;
    if (isMounter(dst) && srcLocation && srcLocation.registry === dst.location.registry) {
      if (await dst.mount(desc, srcLocation.repository, opts)) {
        emit({ type: 'skip', descriptor: desc, reason: 'mounted' });
        return;
      }
    }
    if (isIngester(dst)) {
      const writer = await dst.openWriter(desc, opts);
      try {
        if (writer.offset >= desc.size && (await dst.exists(desc, opts))) {
          await writer.commit();
          emit({ type: 'skip', descriptor: desc, reason: 'exists' });
          return;
        }
        emit({ type: 'start', descriptor: desc, offset: writer.offset });
        // the writer verifies digest and size on commit: the source need not hash the stream too
        const stream = await src.fetch(desc, { ...opts, offset: writer.offset, verify: false });
        for await (const chunk of stream as AsyncIterable<Uint8Array>) {
          throwIfAborted(signal);
          await writer.write(chunk);
          emit({ type: 'progress', descriptor: desc, bytes: chunk.byteLength });
        }
        await writer.commit();
      } catch (e) {
        // Bytes that failed verification are discarded; anything else keeps what arrived so the
        // next attempt resumes (commit() already discarded bad bytes).
        if (isDataLoss(e)) await writer.abort();
        else await writer.close();
        throw e;
      }
    } else {
      // A streamed push cannot be sent again by the transport: a connection the registry or a
      // proxy closed under it (tinyproxy closes after every response, racing the next request on
      // the same connection) fails it. It is sent again from a fresh read of the source, as
      // go-containerregistry's remote.Write retries a layer, twice at most.
      for (let attempt = 0; ; attempt++) {
        emit({ type: 'start', descriptor: desc, offset: 0 });
        const stream = await src.fetch(desc, opts);
        const counted = (async function* () {
          for await (const chunk of stream as AsyncIterable<Uint8Array>) {
            emit({ type: 'progress', descriptor: desc, bytes: chunk.byteLength });
            yield chunk;
          }
        })();
        try {
          await dst.push(desc, verifyStream(counted, { digest: desc.digest, size: desc.size }, opts), opts);
          break;
        } catch (e) {
          stream.destroy();
          if (attempt >= 2 || signal?.aborted || !isUnavailable(e)) throw e;
        }
      }
    }
    emit({ type: 'done', descriptor: desc });
  };

  const copyNode = (desc: Descriptor): Promise<void> => {
    const key = desc.digest;
    let p = done.get(key);
    if (!p) {
      p = (async () => {
        if (!isGraphNode(desc)) return limit(() => transfer(desc));
        if (await dst.exists(desc, opts)) {
          emit({ type: 'skip', descriptor: desc, reason: 'exists' });
          return;
        }
        const bytes = await fetchAll(src, desc, opts);
        let children = childrenOf(desc, bytes);
        if (isIndexMediaType(desc.mediaType) && options.platform && !options.allPlatforms) children = [];
        await settleAll(children.map(copyNode));
        await transfer(desc, bytes);
      })();
      done.set(key, p);
    }
    return p;
  };

  // the root is fetched next: a registry may GET it at once rather than HEAD, then GET
  let root = withoutRefName(await src.resolve(srcRef, { ...opts, fetching: true }));
  if (isIndexMediaType(root.mediaType) && options.platform && !options.allPlatforms) {
    root = (await selectManifest(src, root, { ...opts, platform: options.platform, name: srcRef }))
      .descriptor;
  }
  if (dstRef !== undefined) tagOnPush = { digest: root.digest, ref: dstRef };
  await copyNode(root);
  if (dstRef !== undefined && !tagged) await dst.tag(root, dstRef, opts);
  return root;
}
