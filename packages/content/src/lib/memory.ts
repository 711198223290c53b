import { Readable } from 'node:stream';
import { type Digest, isDigest, verifyStream } from '@ocikit/digest';
import { NotFoundError, throwIfAborted } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import { withoutRefName } from './helpers.ts';
import type { Deleter, FetchOptions, SignalOptions, Tagger, TagLister, Target } from './target.ts';

/**
 * A content target held in memory: for tests, for building images before pushing them, and as a
 * scratch destination of `copy`.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * await copy(layout, 'v1', store, 'v1');
 * ```
 */
export class MemoryStore implements Target, Deleter, TagLister, Tagger {
  readonly #blobs = new Map<Digest, Uint8Array>();
  readonly #tags = new Map<string, Descriptor>();
  readonly #types = new Map<Digest, Descriptor>();

  async fetch(desc: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    throwIfAborted(options.signal);
    const bytes = this.#blobs.get(desc.digest);
    if (!bytes)
      throw new NotFoundError(`blob ${desc.digest} not found in the memory store`, {
        details: { digest: desc.digest },
      });
    return Readable.from([bytes.subarray(options.offset ?? 0)], { objectMode: false });
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return this.#blobs.has(desc.digest);
  }

  async push(
    desc: Descriptor,
    content: AsyncIterable<Uint8Array> | Uint8Array,
    options: SignalOptions = {},
  ): Promise<void> {
    if (this.#blobs.has(desc.digest)) return;
    const source = content instanceof Uint8Array ? [content] : content;
    const chunks: Uint8Array[] = [];
    const iterable = (async function* () {
      yield* source;
    })();
    for await (const c of verifyStream(iterable, { digest: desc.digest, size: desc.size }, options))
      chunks.push(c);
    this.#blobs.set(desc.digest, Buffer.concat(chunks));
    this.#types.set(desc.digest, withoutRefName(desc));
  }

  async resolve(ref: string, options: SignalOptions = {}): Promise<Descriptor> {
    throwIfAborted(options.signal);
    const tagged = this.#tags.get(ref);
    if (tagged) return tagged;
    if (isDigest(ref)) {
      const known = this.#types.get(ref);
      if (known) return known;
    }
    throw new NotFoundError(`reference "${ref}" not found in the memory store`, { details: { ref } });
  }

  async tag(desc: Descriptor, ref: string): Promise<void> {
    if (!this.#blobs.has(desc.digest)) {
      throw new NotFoundError(`cannot tag ${desc.digest}: not in the memory store`, {
        details: { digest: desc.digest },
      });
    }
    this.#tags.set(ref, withoutRefName(desc));
  }

  async tags(): Promise<string[]> {
    return [...this.#tags.keys()].sort();
  }

  async delete(desc: Descriptor): Promise<void> {
    if (!this.#blobs.delete(desc.digest)) {
      throw new NotFoundError(`blob ${desc.digest} not found in the memory store`, {
        details: { digest: desc.digest },
      });
    }
    this.#types.delete(desc.digest);
    for (const [ref, d] of this.#tags) if (d.digest === desc.digest) this.#tags.delete(ref);
  }
}
