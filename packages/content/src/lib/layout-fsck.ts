// fsck of an OCI layout: every blob re-hashed, every reference from index.json down checked.
import { readFile, stat, unlink } from 'node:fs/promises';
import { type Digest, digestAlgorithm, digestFile, parseDigest } from '@ocikit/digest';
import { throwIfAborted } from '@ocikit/errors';
import { Annotation, type Descriptor } from '@ocikit/image-spec';
import { childrenOf, isGraphNode } from './helpers.ts';
import { blobPath, listBlobFiles } from './layout-files.ts';
import type { SignalOptions } from './target.ts';

/** One problem `OciLayout.fsck` found. */
export interface FsckProblem {
  kind: 'corrupt' | 'missing' | 'size-mismatch' | 'invalid' | 'stray';
  /** The blob concerned (or a file name for `stray`). */
  digest: string;
  message: string;
  /** True when `repair` removed it. */
  repaired?: boolean;
}

/** What `OciLayout.fsck` checked and found. */
export interface FsckResult {
  blobs: number;
  references: number;
  problems: FsckProblem[];
}

/**
 * Re-hashes every blob of the layout at `root` and checks that every reference from `list()`
 * (index.json's entries) down resolves to a blob of the right size; `repair` removes corrupt blobs.
 */
export async function checkLayout(
  root: string,
  list: () => Promise<Descriptor[]>,
  options: SignalOptions & { repair?: boolean } = {},
): Promise<FsckResult> {
  const problems: FsckProblem[] = [];
  const sizes = new Map<string, number>();
  const files = await listBlobFiles(root);
  for (const { digest, path } of files) {
    throwIfAborted(options.signal);
    let parsed: Digest;
    try {
      parsed = parseDigest(digest);
    } catch (e) {
      problems.push({
        kind: 'stray',
        digest,
        message: `blobs/${digest.replace(':', '/')}: ${(e as Error).message}`,
      });
      continue;
    }
    const actual = await digestFile(
      path,
      options.signal
        ? { algorithm: digestAlgorithm(parsed), signal: options.signal }
        : { algorithm: digestAlgorithm(parsed) },
    );
    if (actual !== parsed) {
      const problem: FsckProblem = {
        kind: 'corrupt',
        digest,
        message: `blob ${digest} is corrupt: its bytes hash to ${actual}`,
      };
      if (options.repair) {
        await unlink(path).catch(() => {});
        problem.repaired = true;
      }
      problems.push(problem);
      continue;
    }
    sizes.set(digest, (await stat(path)).size);
  }
  let references = 0;
  const seen = new Set<string>();
  const check = async (desc: Descriptor, parent: string): Promise<void> => {
    references++;
    if (seen.has(desc.digest)) return;
    seen.add(desc.digest);
    const size = sizes.get(desc.digest);
    if (size === undefined) {
      // A corrupt blob was reported already; anything else absent is missing.
      if (!problems.some((p) => p.digest === desc.digest)) {
        problems.push({
          kind: 'missing',
          digest: desc.digest,
          message: `blob ${desc.digest} (referenced by ${parent}) is missing`,
        });
      }
      return;
    }
    if (size !== desc.size) {
      problems.push({
        kind: 'size-mismatch',
        digest: desc.digest,
        message: `blob ${desc.digest} has ${size} bytes but ${parent} says ${desc.size}`,
      });
      return;
    }
    if (!isGraphNode(desc)) return;
    let children: Descriptor[];
    try {
      children = childrenOf(desc, await readFile(blobPath(root, desc.digest)));
    } catch (e) {
      problems.push({
        kind: 'invalid',
        digest: desc.digest,
        message: `${desc.digest}: ${(e as Error).message}`,
      });
      return;
    }
    for (const child of children) await check(child, desc.digest);
  };
  for (const entry of await list()) {
    await check(entry, `index.json (${entry.annotations?.[Annotation.RefName] ?? 'untagged'})`);
  }
  return { blobs: files.length, references, problems };
}
