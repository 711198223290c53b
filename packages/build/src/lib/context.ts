// The files a COPY/ADD (or a bind mount) reads: from the build context (filtered by .dockerignore,
// never leaving it) or from a stage's or image's root file system (symlinks resolved inside it).
// Sources are matched as Docker does (filepath.Match globs per path segment) and summed up in one
// digest of names, types, modes and contents — the cache key of the step that copies them.
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { digestEncoded, digestFile } from '@ocikit/digest';
import { resolveInRoot } from '@ocikit/runtime-spec';
import type { SourceRange } from './ast.ts';
import { outsideContext, sourceNotFound } from './errors.ts';

/** A tree sources are read from. */
export interface SourceTree {
  /** The host directory that is its root. */
  readonly root: string;
  /** `context`: a build context (`..` and symlinks may not leave it, ignored paths are invisible); `rootfs`: an image's tree. */
  readonly kind: 'context' | 'rootfs';
  /** True for a context path (relative, `/`-separated) .dockerignore excludes. */
  readonly ignored?: ((rel: string) => boolean) | undefined;
  /** For an ignored directory: false when nothing below it can be re-included (`!dir/keep`), so a walk skips it. */
  readonly mayIncludeBelow?: ((dir: string) => boolean) | undefined;
}

/** One entry under a matched source. */
export interface SourceEntry {
  /** Its path below the source (`''` for the source itself), `/`-separated. */
  rel: string;
  /** Its host path. */
  host: string;
  /** Its lstat (the source itself: stat, symlinks followed). */
  st: Stats;
}

/** A source path or glob match. */
export interface MatchedSource {
  /** Its path in the tree, relative, `/`-separated (`.` for the root). */
  path: string;
  /** Its host path (symlinks followed). */
  host: string;
  /** Its stat (followed). */
  st: Stats;
}

const GLOB = /[*?[\\]/;

/** Go's filepath.Match for one path segment, as a RegExp (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes). */
export function segmentPattern(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < seg.length) re += `\\${seg[++i]}`;
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = seg.slice(i + 1, end).replace(/^\^/, '!');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A source as a clean relative path; undefined when it climbs out of its root. */
function clean(source: string): string | undefined {
  const norm = posix.normalize(`./${source.replace(/^\/+/, '')}`);
  if (norm === '..' || norm.startsWith('../')) return undefined;
  return norm === '' ? '.' : norm;
}

/** The host path of a relative path in the tree: inside the context, or resolved within a rootfs. */
async function hostOf(tree: SourceTree, rel: string, source: string, range?: SourceRange): Promise<string> {
  if (tree.kind === 'rootfs') return resolveInRoot(tree.root, `/${rel}`);
  const host = join(tree.root, rel);
  let real: string;
  try {
    real = await realpath(host);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
      // a dangling link that points out of the context is as much outside as a live one
      const st = await lstat(host).catch(() => undefined);
      if (st?.isSymbolicLink()) {
        const target = await readlink(host);
        if (target.startsWith('/') || clean(posix.join(posix.dirname(rel), target)) === undefined)
          throw outsideContext(source, range);
      }
      return host;
    }
    throw e;
  }
  const root = await realpath(tree.root);
  if (real !== root && !real.startsWith(`${root}/`)) throw outsideContext(source, range);
  return real;
}

/**
 * The paths a COPY source names in a tree: one for a plain path, every match for a glob (sorted);
 * outside-context sources and symlinks leaving it are a typed error, as is a source that matches
 * nothing (or only ignored paths).
 */
export async function matchSources(
  tree: SourceTree,
  source: string,
  range?: SourceRange,
): Promise<MatchedSource[]> {
  const rel = clean(source);
  if (rel === undefined) throw outsideContext(source, range);
  const segments = rel === '.' ? [] : rel.split('/');
  let current = ['.'];
  for (const seg of segments) {
    const next: string[] = [];
    for (const base of current) {
      if (!GLOB.test(seg)) {
        next.push(base === '.' ? seg : `${base}/${seg}`);
        continue;
      }
      const pattern = segmentPattern(seg);
      const dir = await hostOf(tree, base, source, range);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort())
        if (pattern.test(name)) next.push(base === '.' ? name : `${base}/${name}`);
    }
    current = next;
  }
  const out: MatchedSource[] = [];
  for (const path of current) {
    if (path !== '.' && tree.ignored?.(path)) continue;
    const host = await hostOf(tree, path, source, range);
    const st = await stat(host).catch(() => undefined);
    if (st) out.push({ path, host, st });
  }
  if (out.length === 0) throw sourceNotFound(source, range);
  return out;
}

/** Every entry of a matched source, itself first, then (for a directory) its tree in sorted order. */
export async function* walkSource(tree: SourceTree, match: MatchedSource): AsyncGenerator<SourceEntry> {
  yield { rel: '', host: match.host, st: match.st };
  if (!match.st.isDirectory()) return;
  async function* below(dir: string, rel: string, ctxRel: string): AsyncGenerator<SourceEntry> {
    for (const name of (await readdir(dir)).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const childCtx = ctxRel === '.' ? name : `${ctxRel}/${name}`;
      const host = join(dir, name);
      const st = await lstat(host);
      const ignored = tree.ignored?.(childCtx) === true;
      if (!ignored) yield { rel: childRel, host, st };
      // an excluded directory may hold re-included files (`!dir/keep`): look inside it then
      if (st.isDirectory() && (!ignored || tree.mayIncludeBelow?.(childCtx) !== false))
        yield* below(host, childRel, childCtx);
    }
  }
  yield* below(match.host, '', match.path);
}

/** The type letter of an entry for digests. */
function typeOf(st: Stats): string {
  if (st.isDirectory()) return 'd';
  if (st.isSymbolicLink()) return 'l';
  if (st.isFile()) return 'f';
  return 'o';
}

/**
 * The digest (hex) of what a set of matched sources holds: each entry's path, type, mode, owner
 * (rootfs trees only: a context's owners are not copied) and contents or link target — the same
 * files give the same digest whatever their times.
 */
export async function digestSources(tree: SourceTree, matches: readonly MatchedSource[]): Promise<string> {
  const h = createHash('sha256');
  for (const match of matches) {
    h.update(`source ${match.path}\n`);
    for await (const e of walkSource(tree, match)) {
      const owner = tree.kind === 'rootfs' ? ` ${e.st.uid}:${e.st.gid}` : '';
      let body = '';
      if (e.st.isSymbolicLink()) body = await readlink(e.host);
      else if (e.st.isFile()) body = digestEncoded(await digestFile(e.host));
      h.update(`${e.rel}\0${typeOf(e.st)}\0${(e.st.mode & 0o7777).toString(8)}${owner}\0${body}\n`);
    }
  }
  return h.digest('hex');
}
