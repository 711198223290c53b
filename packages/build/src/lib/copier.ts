// Writing COPY/ADD sources into a mounted root file system, safely: every destination is resolved
// inside the root (an image's absolute symlink never sends a write to the host), directories are
// created as needed, modes, owners and modification times set as Docker's COPY does.
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  lutimes,
  mkdir,
  readlink,
  rm,
  symlink,
  utimes,
} from 'node:fs/promises';
import { posix } from 'node:path';
import { resolveInRoot, resolveUser } from '@ocikit/runtime-spec';
import type { SourceRange } from './ast.ts';
import { type MatchedSource, type SourceTree, walkSource } from './context.ts';
import { badInstruction } from './errors.ts';
import type { StageScope } from './steps.ts';

/** Who copied entries belong to, and their mode. */
export interface CopyInto {
  /** `--chown`: the owner of everything copied and every directory made; default 0:0 (context) or kept (rootfs trees). */
  chown?: { uid: number; gid: number } | undefined;
  /** `--chmod`: the mode of every file and directory copied. */
  chmod?: number | undefined;
}

/** The host path of a container path's parent resolved in the root, with the name appended. */
async function hostPath(rootfs: string, path: string, follow: boolean): Promise<string> {
  if (follow) return resolveInRoot(rootfs, path);
  const parent = await resolveInRoot(rootfs, posix.dirname(path));
  return posix.join(parent, posix.basename(path));
}

/** Makes directory `path` (a container path) and its missing parents, owned by `owner`, 0755. */
export async function mkdirIn(
  rootfs: string,
  path: string,
  owner: { uid: number; gid: number },
): Promise<void> {
  let at = '/';
  for (const part of path.split('/').filter(Boolean)) {
    at = posix.join(at, part);
    const host = await resolveInRoot(rootfs, at);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) await rm(host, { force: true });
    await mkdir(host, { mode: 0o755 });
    await chmod(host, 0o755);
    await lchown(host, owner.uid, owner.gid);
  }
}

/**
 * Makes the directories WORKDIR asked for, owned by the USER in effect then (as BuildKit and buildah
 * do: a non-root USER can write into its WORKDIR).
 */
export async function makePendingDirs(rootfs: string, scope: StageScope): Promise<void> {
  for (const dir of scope.pendingDirs) {
    const owner = dir.user === '' ? { uid: 0, gid: 0 } : await resolveUser(dir.user, rootfs);
    await mkdirIn(rootfs, dir.path, { uid: owner.uid, gid: owner.gid });
  }
}

/**
 * Copies matched sources to `dest` (a container path; relative paths are the caller's to resolve
 * against WORKDIR) inside `rootfs`, as Docker's COPY: a directory's contents (not the directory
 * itself) go into the destination; a file goes to `dest` itself unless `dest` ends with `/` or is
 * an existing directory; several sources need a directory destination.
 */
export async function copyInto(
  rootfs: string,
  dest: string,
  tree: SourceTree,
  matches: readonly MatchedSource[],
  options: CopyInto & { range?: SourceRange | undefined; names?: readonly string[] } = {},
): Promise<void> {
  const owner = options.chown ?? { uid: 0, gid: 0 };
  const existing = await lstat(await resolveInRoot(rootfs, dest)).catch(() => undefined);
  const intoDir = dest.endsWith('/') || existing?.isDirectory() === true;
  if (matches.length > 1 && !intoDir) {
    throw badInstruction(
      `the destination ${JSON.stringify(dest)} of several sources must be a directory ending with /`,
      options.range,
    );
  }
  const dirTimes: { host: string; atime: Date; mtime: Date }[] = [];
  for (const [i, match] of matches.entries()) {
    const baseName = options.names?.[i] ?? posix.basename(match.path);
    const target = match.st.isDirectory() ? dest : intoDir ? posix.join(dest, baseName) : dest;
    await mkdirIn(rootfs, match.st.isDirectory() ? target : posix.dirname(target), owner);
    for await (const e of walkSource(tree, match)) {
      if (e.rel === '' && match.st.isDirectory()) continue; // the destination stands for it
      const path = e.rel === '' ? target : posix.join(target, e.rel);
      const uid = options.chown?.uid ?? (tree.kind === 'rootfs' ? e.st.uid : 0);
      const gid = options.chown?.gid ?? (tree.kind === 'rootfs' ? e.st.gid : 0);
      const mode = options.chmod ?? e.st.mode & 0o7777;
      if (e.st.isDirectory()) {
        const host = await hostPath(rootfs, path, true);
        const st = await lstat(host).catch(() => undefined);
        if (st && !st.isDirectory()) await rm(host, { force: true });
        if (!st?.isDirectory()) await mkdir(host);
        await chmod(host, mode);
        await lchown(host, uid, gid);
        dirTimes.push({ host, atime: e.st.atime, mtime: e.st.mtime });
        continue;
      }
      const host = await hostPath(rootfs, path, false);
      // a file re-included below an ignored directory (`!dir/keep`) comes without its directory
      if (!(await lstat(posix.dirname(host)).catch(() => undefined)))
        await mkdirIn(rootfs, posix.dirname(path), owner);
      const st = await lstat(host).catch(() => undefined);
      if (st) await rm(host, { recursive: true, force: true });
      if (e.st.isSymbolicLink()) {
        await symlink(await readlink(e.host), host);
        await lchown(host, uid, gid);
        await lutimes(host, e.st.atime, e.st.mtime);
      } else if (e.st.isFile()) {
        await copyFile(e.host, host);
        await chmod(host, mode);
        await lchown(host, uid, gid);
        await utimes(host, e.st.atime, e.st.mtime);
      }
      // sockets, FIFOs and devices are not copied, as Docker's COPY skips them
    }
  }
  // directories last: writing their entries changed their times
  for (const d of dirTimes.reverse()) await utimes(d.host, d.atime, d.mtime);
}
