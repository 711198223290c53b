import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { throwIfAborted, UnavailableError } from '@ocikit/errors';

/** Writes `data` to a temp file beside `path`, fsyncs it and renames it into place. */
export async function writeAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

const staleMs = 30_000;

/**
 * Runs `fn` holding a cross-process lock file `path` (created with O_EXCL; a lock older than 30 s
 * is taken as left by a killed process and broken).
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    throwIfAborted(signal);
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await stat(path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > staleMs) await rm(path, { force: true });
      if (Date.now() > deadline) throw new UnavailableError(`timed out waiting for lock ${path}`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
