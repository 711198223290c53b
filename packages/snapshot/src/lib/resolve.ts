import { lstatSync, mkdirSync, readlinkSync, rmSync } from 'node:fs';
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
export function resolveDirSync(
  root: string,
  components: readonly string[],
  create: boolean,
): string | undefined {
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
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      if (++links > 255)
        throw Object.assign(new Error(`too many levels of symbolic links at ${host}`), { code: 'ELOOP' });
      const target = readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/'));
      continue;
    }
    if (!st) {
      // Missing: created when asked; otherwise resolution goes on lexically (a later ".." undoes it).
      if (create) mkdirSync(host, { mode: 0o755 });
    } else if (!st.isDirectory()) {
      if (!create) return undefined;
      // A non-directory where a directory is needed is replaced, as umoci does.
      rmSync(host, { force: true });
      mkdirSync(host, { mode: 0o755 });
    }
    done.push(part);
  }
  return join(root, ...done);
}

/** {@link resolveDirSync}, as a promise. */
export async function resolveDir(
  root: string,
  components: readonly string[],
  create: boolean,
): Promise<string | undefined> {
  return resolveDirSync(root, components, create);
}
