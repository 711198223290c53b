import { lstat, mkdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Splits a tar entry name into clean components: `.` dropped, `..` clamped at the root (umoci). */
export function cleanComponents(name: string): string[] {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

/**
 * Resolves directory components inside `root` with chroot semantics (as containerd's and umoci's
 * securejoin do): symlinks are followed, but absolute targets and `..` never leave the root.
 * With `create`, missing directories are made (mode 0755) and non-directories in the way replaced;
 * without it, missing components resolve lexically and a non-directory in the way gives undefined.
 * Returns the host path of the directory (which, without `create`, may not exist).
 */
export async function resolveDir(
  root: string,
  components: readonly string[],
  create: boolean,
): Promise<string | undefined> {
  const done: string[] = [];
  const pending = [...components];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.' || part === '') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    const st = await lstat(host).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (st?.isSymbolicLink()) {
      if (++links > 255)
        throw Object.assign(new Error(`too many levels of symbolic links at ${host}`), { code: 'ELOOP' });
      const target = await readlink(host);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/'));
      continue;
    }
    if (!st) {
      // Missing: created when asked; otherwise resolution goes on lexically (a later ".." undoes it).
      if (create) await mkdir(host, { mode: 0o755 });
    } else if (!st.isDirectory()) {
      if (!create) return undefined;
      // A non-directory where a directory is needed is replaced, as umoci does.
      await rm(host, { force: true });
      await mkdir(host, { mode: 0o755 });
    }
    done.push(part);
  }
  return join(root, ...done);
}
