// Writes into an OCI layout: an ingest per blob under `.ocikit/ingest/`, locked across processes,
// resumable, verified against the descriptor and renamed into `blobs/` at commit.
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHasher, digestAlgorithm, digestEncoded, type Hasher, parseDigest } from '@ocikit/digest';
import { AlreadyExistsError, DataLossError } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import { blobPath, pathExists, READ_CHUNK, STATE } from './layout-files.ts';
import { acquireLock, type Lock } from './lock.ts';
import type { ContentWriter, SignalOptions } from './target.ts';

/** Bytes gathered before one `writev` of an ingest. */
const BATCH_BYTES = 1 << 20;

/**
 * A synced ingest starts writing back to disk after this many new bytes, in the background, so the
 * fsync at commit finds little left to flush: a 49 MB layer's final fsync took ~45 ms on its own,
 * all of it on the pull's critical path.
 */
const WRITEBACK_BYTES = 8 << 20;

class LayoutWriter implements ContentWriter {
  offset: number;
  readonly #desc: Descriptor;
  readonly #final: string;
  readonly #data: string;
  readonly #lock: Lock;
  readonly #hasher: Hasher;
  readonly #sync: boolean;
  #fh: FileHandle | undefined;
  #pending: Promise<void> = Promise.resolve();
  /** Background `fdatasync`s (early writeback), awaited before the final sync and before close. */
  #writeback: Promise<void> = Promise.resolve();
  #unsynced = 0;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #done = false;

  constructor(
    desc: Descriptor,
    final: string,
    data: string,
    lock: Lock,
    hasher: Hasher,
    fh: FileHandle | undefined,
    sync: boolean,
  ) {
    this.#desc = desc;
    this.#final = final;
    this.#data = data;
    this.#lock = lock;
    this.#hasher = hasher;
    this.#fh = fh;
    this.#sync = sync;
    this.offset = fh ? hasher.size : desc.size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.#fh) {
      if (chunk.byteLength === 0) return;
      throw new AlreadyExistsError(`blob ${this.#desc.digest} is already present`);
    }
    if (this.#hasher.size + chunk.byteLength > this.#desc.size) {
      await this.abort();
      throw new DataLossError(
        `content ${this.#desc.digest} is larger than its expected ${this.#desc.size} bytes`,
        {
          details: { digest: this.#desc.digest, expectedSize: this.#desc.size },
        },
      );
    }
    this.#hasher.update(chunk);
    // Chunks are gathered into ~1 MiB batches (one writev each, not a syscall per 64 KiB chunk),
    // with one batch in flight: the caller reads and hashes the next chunks while it is written.
    this.#batch.push(chunk);
    this.#batchBytes += chunk.byteLength;
    if (this.#batchBytes >= BATCH_BYTES) await this.#flush();
  }

  async #flush(): Promise<void> {
    const fh = this.#fh;
    if (!fh || this.#batch.length === 0) return;
    const batch = this.#batch;
    const size = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    const previous = this.#pending;
    this.#pending = previous.then(async () => {
      let buffers: Uint8Array[] = batch;
      while (buffers.length > 0) {
        let { bytesWritten } = await fh.writev(buffers);
        // a short write: drop what was written and go on with the rest
        while (buffers.length > 0 && bytesWritten >= (buffers[0] as Uint8Array).byteLength) {
          bytesWritten -= (buffers[0] as Uint8Array).byteLength;
          buffers = buffers.slice(1);
        }
        if (bytesWritten > 0 && buffers.length > 0)
          buffers = [(buffers[0] as Uint8Array).subarray(bytesWritten), ...buffers.slice(1)];
      }
      this.#unsynced += size;
      if (this.#sync && this.#unsynced >= WRITEBACK_BYTES) {
        this.#unsynced = 0;
        // one at a time, beside the writes that follow; a failure surfaces at commit
        this.#writeback = this.#writeback.then(() => fh.datasync());
        this.#writeback.catch(() => {});
      }
    });
    await previous;
  }

  async commit(): Promise<void> {
    if (this.#done) return;
    if (!this.#fh) {
      await this.#finish();
      return;
    }
    try {
      await this.#flush();
      await this.#pending;
      await this.#writeback;
    } catch (e) {
      await this.abort();
      throw e;
    }
    const actual = this.#hasher.digest();
    if (this.#hasher.size !== this.#desc.size || actual !== this.#desc.digest) {
      const size = this.#hasher.size;
      await this.abort();
      throw new DataLossError(
        size !== this.#desc.size
          ? `content ${this.#desc.digest} ended after ${size} of its ${this.#desc.size} bytes`
          : `content digest mismatch: expected ${this.#desc.digest}, got ${actual}`,
        {
          details: {
            digest: this.#desc.digest,
            actualDigest: actual,
            expectedSize: this.#desc.size,
            actualSize: size,
          },
        },
      );
    }
    if (this.#sync) await this.#fh.sync();
    await this.#fh.close();
    this.#fh = undefined;
    await mkdir(join(this.#final, '..'), { recursive: true });
    await rename(this.#data, this.#final);
    await this.#finish();
  }

  async abort(): Promise<void> {
    await this.#stop(true);
  }

  async close(): Promise<void> {
    await this.#stop(false);
  }

  async #stop(discard: boolean): Promise<void> {
    if (this.#done) return;
    // what arrived is kept for resuming: write out the last batch too (unless it is discarded)
    if (!discard) await this.#flush().catch(() => {});
    await this.#pending.catch(() => {});
    await this.#writeback.catch(() => {});
    await this.#fh?.close();
    this.#fh = undefined;
    if (discard) await rm(this.#data, { force: true });
    await this.#finish();
  }

  async #finish(): Promise<void> {
    this.#done = true;
    await this.#lock.release();
  }
}

/**
 * Opens a writer for `desc` in the layout at `root` (see `OciLayout.openWriter`): it holds the
 * blob's ingest lock until commit, abort or close; `resume` (default true) keeps what an earlier,
 * interrupted writer wrote; a blob already present gives a writer at its full size.
 */
export async function openLayoutWriter(
  root: string,
  desc: Descriptor,
  sync: boolean,
  options: SignalOptions & { resume?: boolean } = {},
): Promise<ContentWriter> {
  parseDigest(desc.digest);
  const ingest = join(root, STATE, 'ingest');
  const name = `${digestAlgorithm(desc.digest)}-${digestEncoded(desc.digest)}`;
  const lock = (await acquireLock(join(ingest, `${name}.lock`), options)) as Lock;
  try {
    const final = blobPath(root, desc.digest);
    const data = join(ingest, `${name}.data`);
    const hasher = createHasher(digestAlgorithm(desc.digest));
    if (await pathExists(final)) return new LayoutWriter(desc, final, data, lock, hasher, undefined, sync);
    let kept = 0;
    if (options.resume !== false) {
      kept = await stat(data).then(
        (s) => s.size,
        () => 0,
      );
      if (kept > desc.size) kept = 0;
    }
    if (kept > 0) {
      // Re-hash what an earlier, interrupted writer kept, so the digest check covers it.
      for await (const chunk of createReadStream(data, { end: kept - 1, highWaterMark: READ_CHUNK })) {
        hasher.update(chunk as Uint8Array);
      }
    }
    // O_APPEND: every write lands after what was kept.
    const fh = await open(data, kept > 0 ? 'a' : 'w');
    await fh.truncate(kept);
    return new LayoutWriter(desc, final, data, lock, hasher, fh, sync);
  } catch (e) {
    await lock.release();
    throw e;
  }
}
