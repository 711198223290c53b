import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, throwIfAborted } from '@ocikit/errors';

/**
 * Resolves `path` inside `root` as if `root` were `/` (chroot semantics): absolute symlinks and
 * `..` never leave the root. Returns the host path, which may not exist.
 */
export async function resolveInRoot(
  root: string,
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  let links = 0;
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    throwIfAborted(options.signal);
    const host = join(root, ...done, part);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++links > 255)
        throw new InvalidArgumentError(`too many symbolic links resolving ${path} in ${root}`, {
          details: { root, path, reason: 'symlink-loop' },
        });
      const target = await readlink(host);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

/**
 * Reads a file inside a root file system safely (symlinks resolved with {@link resolveInRoot});
 * undefined when it does not exist.
 */
export async function readInRoot(
  root: string,
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<string | undefined> {
  try {
    const host = await resolveInRoot(root, path, options);
    return await readFile(host, options.signal ? { encoding: 'utf8', signal: options.signal } : 'utf8');
  } catch (e) {
    throwIfAborted(options.signal);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    if ((e as NodeJS.ErrnoException).code === 'EISDIR')
      throw new InvalidArgumentError(`${path} in ${root} is a directory, not a file`, {
        details: { root, path, reason: 'not-a-file' },
      });
    throw e;
  }
}
