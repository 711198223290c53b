// The files of an OCI image layout that the store, its writer, gc and fsck share: where blobs live,
// the state directory, atomic replacement.
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, digestAlgorithm, digestEncoded, randomHex } from '@ocikit/digest';

/** ocikit's own state inside a layout: locks, ingests, temporary files. */
export const STATE = '.ocikit';

/**
 * Blob reads go in 256 KiB chunks: each is a fresh buffer, and at 1 MiB a 49 MB layer read and
 * hashed took 110 ms against 60 ms (this VM, hugepage-backed malloc; docs/benchmarks.md) — the big
 * buffers are faulted in anew and hashed out of cache.
 */
export const READ_CHUNK = 256 << 10;

/** `blobs/ALG/ENCODED` of `root`. */
export function blobPath(root: string, digest: Digest): string {
  return join(root, 'blobs', digestAlgorithm(digest), digestEncoded(digest));
}

/** The `code` of a Node system error. */
export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** True when `path` exists. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT') return false;
    throw e;
  }
}

/** Writes `bytes` to a temporary file (fsynced when `sync`) and renames it to `target`. */
export async function writeAtomic(
  root: string,
  target: string,
  bytes: Uint8Array,
  sync: boolean,
): Promise<void> {
  const tmpDir = join(root, STATE, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `${randomHex(8)}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, target);
}

/** Every file under `blobs/`, as `ALG:NAME` (not necessarily a valid digest) and its path, sorted. */
export async function listBlobFiles(root: string): Promise<{ digest: string; path: string }[]> {
  const out: { digest: string; path: string }[] = [];
  const blobs = join(root, 'blobs');
  const algorithms = await readdir(blobs).catch(() => [] as string[]);
  for (const alg of algorithms.sort()) {
    const names = await readdir(join(blobs, alg)).catch(() => [] as string[]);
    for (const enc of names.sort()) out.push({ digest: `${alg}:${enc}`, path: join(blobs, alg, enc) });
  }
  return out;
}
