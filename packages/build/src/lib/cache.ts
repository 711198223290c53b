// The step cache: each step's result (the image config after it, its layers, the snapshot holding
// its tree) stored under a key made of its parent's key and what the step is (its instruction after
// expansion, the build args it sees, the digests of what it copies). Entries are small JSON files
// in the state root, written to a temporary name and renamed into place, so two builds at once
// never read half an entry; the last writer of the same key wins with an equal entry.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Existence } from '@ocikit/content';
import { type Digest, randomHex } from '@ocikit/digest';
import type { Descriptor, ImageConfig } from '@ocikit/image-spec';
import type { Snapshotter } from '@ocikit/snapshot';
import { isCommitted } from './layer.ts';

/** An image as the steps of a stage make it. */
export interface ImageState {
  /** The image config (history and diff_ids included). */
  config: ImageConfig;
  /** Its layers, base first (OCI media types). */
  layers: Descriptor[];
  /** The committed snapshot that holds its tree (the chainID of its layers); none without layers. */
  chain?: Digest | undefined;
  /** Its cache key (hex): what made it. */
  key: string;
}

/** The key of a step: sha256 of the parent's key and the step's description. */
export function stepKey(parent: string, material: string): string {
  return createHash('sha256').update(`${parent}\n${material}`).digest('hex');
}

/** The cache of one state root (`ROOT/build/cache`). */
export class StepCache {
  readonly #dir: string;

  constructor(root: string) {
    this.#dir = join(root, 'build', 'cache');
  }

  /**
   * The state a step with `key` made before, when everything it needs is still there: its layers in
   * the store and its snapshot committed (a pruned store or snapshotter is a miss, not an error).
   */
  async get(key: string, store: Existence, snapshotter: Snapshotter): Promise<ImageState | undefined> {
    let entry: Omit<ImageState, 'key'>;
    try {
      // one small file: a synchronous read (decision 103)
      entry = JSON.parse(readFileSync(join(this.#dir, `${key}.json`), 'utf8')) as Omit<ImageState, 'key'>;
    } catch {
      return undefined;
    }
    if (!entry || typeof entry !== 'object' || !entry.config || !Array.isArray(entry.layers))
      return undefined;
    for (const layer of entry.layers) if (!(await store.exists(layer))) return undefined;
    if (entry.chain !== undefined && !(await isCommitted(snapshotter, entry.chain))) return undefined;
    return { ...entry, key };
  }

  /** Records the state a step made. */
  put(state: ImageState): void {
    mkdirSync(this.#dir, { recursive: true });
    const { key, ...entry } = state;
    const file = join(this.#dir, `${key}.json`);
    const tmp = `${file}.${randomHex(6)}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, file);
  }
}
