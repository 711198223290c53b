// COPY and ADD: sources from the context (through .dockerignore), another stage or an image
// (`--from`), inline heredocs, local tar archives ADD unpacks, and URLs ADD fetches when it can;
// written into the previous step's tree with `--chown`/`--chmod`, then diffed into a layer.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type Digest, digestAlgorithm, digestOfSync, parseDigest, randomHex } from '@ocikit/digest';
import { DataLossError, isDataLoss, throwIfAborted, truncate, UnavailableError } from '@ocikit/errors';
import { readInRoot, resolveUser } from '@ocikit/runtime-spec';
import type { CopyInstruction } from './ast.ts';
import type { ImageState } from './cache.ts';
import { digestSources, type MatchedSource, matchSources, type SourceTree } from './context.ts';
import { copyInto, makePendingDirs } from './copier.ts';
import { badInstruction } from './errors.ts';
import { expand } from './expand.ts';
import { closeWorkingRoot, commitLayer, type MadeLayer, openWorkingRoot } from './layer.ts';
import type { BorrowedTree, BuildSession } from './session.ts';
import { type StageScope, variables } from './steps.ts';

/** One group of sources from one tree. */
interface CopyItem {
  tree: SourceTree;
  match: MatchedSource;
  /** The name it takes in a destination directory. */
  name: string;
}

/** A COPY/ADD ready to run: what it copies and where, and its cache material. */
export interface CopyPlan {
  items: CopyItem[];
  dest: string;
  chown: string | undefined;
  chmod: number | undefined;
  createdBy: string;
  material: string;
  /** Gives back what the plan borrowed (another stage's tree). */
  release(): Promise<void>;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** The kind of archive a file is (ADD unpacks these), from its first bytes. */
function archiveKind(path: string): boolean {
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true; // gzip
  if (n >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return true;
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true; // xz
  if (n >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return true; // zstd
  return n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Fetches an ADD URL into a directory of its own; a failure is Unavailable `remote-unreachable`. */
async function download(
  url: string,
  tmp: string,
  inst: CopyInstruction,
  signal: AbortSignal | undefined,
  checksum: string | undefined,
): Promise<SourceTree & { name: string }> {
  let want: Digest | undefined;
  if (checksum !== undefined) {
    try {
      want = parseDigest(checksum);
    } catch (e) {
      throw badInstruction(
        `ADD --checksum=${JSON.stringify(truncate(checksum, 80))}: ${(e as Error).message}`,
        inst.range,
      );
    }
  }
  const dir = join(tmp, `url-${randomHex(6)}`);
  await mkdir(dir, { recursive: true });
  const name = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? 'index.html');
  try {
    const timeout = AbortSignal.timeout(60_000);
    const res = await fetch(url, {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: 'follow',
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const got = want === undefined ? undefined : digestOfSync(bytes, { algorithm: digestAlgorithm(want) });
    if (want !== undefined && got !== want) {
      throw new DataLossError(
        `ADD ${truncate(url, 120)}: its content is ${got}, not ${want} as --checksum says`,
        {
          details: { reason: 'checksum-mismatch', url: truncate(url, 200), expected: want, actual: got },
        },
      );
    }
    await writeFile(join(dir, name), bytes, { mode: 0o600 });
    // the server's Last-Modified becomes the file's mtime, as Docker's ADD does
    const modified = Date.parse(res.headers.get('last-modified') ?? '');
    if (!Number.isNaN(modified)) await utimes(join(dir, name), new Date(modified), new Date(modified));
  } catch (e) {
    throwIfAborted(signal);
    if (isDataLoss(e)) throw e;
    throw new UnavailableError(`ADD ${truncate(url, 120)}: cannot fetch it (${(e as Error).message})`, {
      details: { reason: 'remote-unreachable', url: truncate(url, 200), line: inst.range.startLine },
      hint: 'this host may not reach that server: put the file into the context and COPY it',
      cause: e,
    });
  }
  return { root: dir, kind: 'context', name };
}

/**
 * Resolves a COPY/ADD: its words expanded, its sources matched (and fetched or unpacked for ADD),
 * their contents digested for the cache key, and buildah's history wording
 * (`/bin/sh -c #(nop) COPY file:<digest> in /dest `).
 */
export async function planCopy(
  session: BuildSession,
  state: ImageState,
  scope: StageScope,
  inst: CopyInstruction,
): Promise<CopyPlan> {
  const vars = variables(scope, state.config);
  const x = (w: string) => expand(w, vars, { escape: scope.escape });
  const flag = (name: string) => {
    const f = inst.flags.find((y) => y.name === name);
    return f === undefined ? undefined : f.value === true ? '' : x(f.value);
  };
  for (const f of inst.flags)
    if (!['from', 'chown', 'chmod', 'link', ...(inst.kind === 'ADD' ? ['checksum'] : [])].includes(f.name))
      throw badInstruction(
        `${inst.kind} --${f.name} is not supported`,
        inst.range,
        'COPY takes --from, --chown, --chmod and --link here, ADD --checksum too',
      );
  const chmodText = flag('chmod');
  let chmod: number | undefined;
  if (chmodText !== undefined) {
    if (!/^[0-7]{3,4}$/.test(chmodText))
      throw badInstruction(
        `${inst.kind} --chmod=${JSON.stringify(chmodText)}: give an octal mode (0755)`,
        inst.range,
      );
    chmod = Number.parseInt(chmodText, 8);
  }
  const chown = flag('chown') || undefined;
  if (flag('checksum') !== undefined && (inst.sources.some((s) => !isUrl(x(s))) || inst.heredocs.length > 0))
    throw badInstruction('ADD --checksum is for URL sources only', inst.range);
  const from = flag('from');
  const borrowed: BorrowedTree[] = [];
  const release = async () => {
    for (const b of borrowed) await b.release().catch(() => {});
  };
  try {
    let tree = session.context;
    let fromKey = '';
    if (from !== undefined) {
      if (inst.kind === 'ADD') throw badInstruction('ADD does not take --from: use COPY --from', inst.range);
      const b = await session.borrow(from, inst.range);
      borrowed.push(b);
      tree = b.tree;
      fromKey = b.key;
    }
    const items: CopyItem[] = [];
    // inline files first (the parser keeps them apart from the sources): a body expands unless its
    // delimiter was quoted, with quotes left as text
    for (const doc of inst.heredocs) {
      const dir = join(session.tmp, `heredoc-${randomHex(6)}`);
      await mkdir(dir, { recursive: true });
      const content = doc.expand
        ? expand(doc.content, vars, { escape: scope.escape, keepQuotes: true })
        : doc.content;
      await writeFile(join(dir, doc.name), content, { mode: 0o644 });
      const hereTree: SourceTree = { root: dir, kind: 'context' };
      for (const match of await matchSources(hereTree, doc.name, inst.range))
        items.push({ tree: hereTree, match, name: doc.name });
    }
    for (const raw of inst.sources) {
      const source = x(raw);
      if (isUrl(source)) {
        if (inst.kind === 'COPY' || from !== undefined)
          throw badInstruction(
            `COPY cannot fetch ${JSON.stringify(truncate(source, 80))}: use ADD for URLs`,
            inst.range,
          );
        const got = await download(source, session.tmp, inst, session.signal, flag('checksum'));
        for (const match of await matchSources(got, got.name, inst.range))
          items.push({ tree: got, match, name: got.name });
        continue;
      }
      if (/^git@|^[a-z]+:\/\//i.test(source))
        throw badInstruction(
          `${inst.kind}: remote source ${JSON.stringify(truncate(source, 80))} is not supported`,
          inst.range,
        );
      for (const match of await matchSources(tree, source, inst.range)) {
        if (inst.kind === 'ADD' && match.st.isFile() && archiveKind(match.host)) {
          // a local archive is unpacked: its tree (owners kept) goes to the destination
          const dir = join(session.tmp, `archive-${randomHex(6)}`);
          await mkdir(dir, { recursive: true });
          execFileSync('tar', ['-x', '-f', match.host, '-C', dir]);
          const unpacked: SourceTree = { root: dir, kind: 'rootfs' };
          for (const m of await matchSources(unpacked, '.', inst.range))
            items.push({ tree: unpacked, match: m, name: '.' });
          continue;
        }
        items.push({ tree, match, name: posix.basename(match.path) });
      }
    }
    const rawDest = x(inst.destination);
    if (rawDest === '') throw badInstruction(`${inst.kind} needs a destination`, inst.range);
    const cwd = state.config.config?.WorkingDir || '/';
    let dest = posix.resolve(cwd, rawDest);
    if ((rawDest.endsWith('/') || rawDest === '.' || items.length > 1) && !dest.endsWith('/')) dest += '/';
    if (items.length > 1 && !rawDest.endsWith('/') && rawDest !== '.' && !rawDest.endsWith('/.'))
      throw badInstruction(
        `${inst.kind} with more than one source needs a destination directory ending with / (not ${JSON.stringify(rawDest)})`,
        inst.range,
      );
    const h = createHash('sha256');
    for (const item of items) {
      // another stage's or an image's tree is named by its chainID: its files need no reading
      const content =
        item.tree === tree && fromKey !== ''
          ? `${fromKey} ${item.match.path}`
          : await digestSources(item.tree, [item.match]);
      h.update(`${item.name}\n${content}\n`);
    }
    const sum = h.digest('hex');
    const only = items.length === 1 ? items[0] : undefined;
    const summary = `${only ? (only.match.st.isDirectory() ? 'dir' : 'file') : 'multi'}:${sum}`;
    const createdBy = `/bin/sh -c #(nop) ${inst.kind} ${summary} in ${rawDest} `;
    const material = [
      createdBy,
      `dest=${dest}`,
      `chown=${chown ?? ''}`,
      `chmod=${chmod ?? ''}`,
      `from=${fromKey}`,
      `dirs=${JSON.stringify(scope.pendingDirs)}`,
    ].join('\n');
    return { items, dest, chown, chmod, createdBy, material, release };
  } catch (e) {
    await release();
    throw e;
  }
}

/**
 * The owner `--chown` names, resolved in the destination's /etc/passwd and /etc/group. A uid without
 * a group that /etc/passwd does not list gets the same number as its gid, as Docker and buildah do
 * (`--chown=1234` is 1234:1234); a listed user without a group gets its primary group.
 */
export async function chownOwner(chown: string, rootfs: string): Promise<{ uid: number; gid: number }> {
  const user = await resolveUser(chown, rootfs);
  if (
    /^\d+$/.test(chown) &&
    !(await readInRoot(rootfs, '/etc/passwd'))?.split('\n').some((l) => l.split(':')[2] === chown)
  )
    return { uid: user.uid, gid: user.uid };
  return { uid: user.uid, gid: user.gid };
}

/** Runs a planned COPY/ADD on `state`'s tree and makes its layer. */
export async function copyStep(
  session: BuildSession,
  state: ImageState,
  scope: StageScope,
  inst: CopyInstruction,
  plan: CopyPlan,
): Promise<MadeLayer> {
  throwIfAborted(session.signal);
  const work = await openWorkingRoot(session.snapshotter, state.chain, session.tmp);
  try {
    await makePendingDirs(work.dir, scope);
    const chown = plan.chown === undefined ? undefined : await chownOwner(plan.chown, work.dir);
    for (const item of plan.items) {
      await copyInto(work.dir, plan.dest, item.tree, [item.match], {
        chown,
        chmod: plan.chmod,
        range: inst.range,
        names: [item.name],
      });
    }
    return await commitLayer(session.snapshotter, work, state.config.rootfs.diff_ids, session.store, {
      tmp: session.tmp,
      clampTime: session.clampTime,
      signal: session.signal,
    });
  } finally {
    await closeWorkingRoot(session.snapshotter, work, { remove: true });
  }
}
