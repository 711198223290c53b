// Garbage collection of an OCI layout: blobs that nothing reachable from index.json refers to, and
// abandoned ingests.
import { readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '@ocikit/digest';
import { throwIfAborted } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import { childrenOf, isGraphNode } from './helpers.ts';
import { blobPath, listBlobFiles, STATE } from './layout-files.ts';
import { acquireLock } from './lock.ts';
import type { SignalOptions } from './target.ts';

/** What `OciLayout.gc` removed. */
export interface GcResult {
  /** Blobs removed. */
  removed: Digest[];
  /** Bytes freed. */
  bytes: number;
  /** Abandoned partial writes removed. */
  ingests: number;
  /** Bytes the removed partial writes held. */
  ingestBytes: number;
}

/** Options of `OciLayout.gc`. */
export interface GcOptions extends SignalOptions {
  /**
   * Remove a partial write no live process holds once untouched for this long (default a day, so
   * an interrupted transfer can resume; 0 removes every one no process holds).
   */
  ingestTtlMs?: number;
  /**
   * More roots besides index.json's entries: what they reach is kept (an image a container still
   * uses after its name was removed).
   */
  roots?: readonly Descriptor[];
}

// Marks everything reachable from the roots; missing or unreadable nodes are skipped (fsck reports them).
async function mark(
  root: string,
  roots: readonly Descriptor[],
  signal: AbortSignal | undefined,
): Promise<Set<string>> {
  const marked = new Set<string>();
  const visit = async (desc: Descriptor): Promise<void> => {
    throwIfAborted(signal);
    if (marked.has(desc.digest)) return;
    marked.add(desc.digest);
    if (!isGraphNode(desc)) return;
    let children: Descriptor[];
    try {
      children = childrenOf(desc, await readFile(blobPath(root, desc.digest)));
    } catch {
      return;
    }
    for (const child of children) await visit(child);
  };
  for (const entry of roots) await visit(entry);
  return marked;
}

/**
 * Removes the blobs of the layout at `root` that nothing reachable from `list()` (index.json's
 * entries and `roots`) refers to, and ingests untouched for `ingestTtlMs` (default a day) that no
 * live process holds (decision 084).
 * The caller holds the index lock, so no tag can be added meanwhile.
 */
export async function collectGarbage(
  root: string,
  list: () => Promise<Descriptor[]>,
  options: GcOptions = {},
): Promise<GcResult> {
  const markStart = Date.now();
  const marked = await mark(root, [...(await list()), ...(options.roots ?? [])], options.signal);
  const result: GcResult = { removed: [], bytes: 0, ingests: 0, ingestBytes: 0 };
  for (const { digest, path } of await listBlobFiles(root)) {
    if (marked.has(digest)) continue;
    const st = await stat(path).catch(() => undefined);
    // A blob renamed into place after the mark began (its ctime moves on rename) may be
    // about to be tagged by another process: keep it for the next collection.
    if (!st || st.ctimeMs >= markStart - 1000) continue;
    await unlink(path).catch(() => {});
    result.removed.push(digest as Digest);
    result.bytes += st.size;
  }
  const ingest = join(root, STATE, 'ingest');
  const ttl = options.ingestTtlMs ?? 24 * 3600 * 1000;
  for (const name of await readdir(ingest).catch(() => [] as string[])) {
    if (!name.endsWith('.data')) continue;
    const data = join(ingest, name);
    const st = await stat(data).catch(() => undefined);
    if (!st || Date.now() - st.mtimeMs < ttl) continue;
    const lock = await acquireLock(data.replace(/\.data$/, '.lock'), { tryOnly: true });
    if (!lock) continue;
    try {
      await rm(data, { force: true });
      result.ingests++;
      result.ingestBytes += st.size;
    } finally {
      await lock.release();
    }
  }
  return result;
}
