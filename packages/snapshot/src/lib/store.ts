import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from '@ocikit/content';
import { randomHex } from '@ocikit/digest';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '@ocikit/errors';
import type { SnapshotInfo, SnapshotKind } from './snapshotter.ts';

/** One snapshot's record: its info and the directory that holds it. */
export interface SnapshotRecord extends SnapshotInfo {
  id: string;
}

interface Metadata {
  snapshots: Record<string, SnapshotRecord>;
}

/**
 * The metadata of a snapshotter: `ROOT/metadata.json`, rewritten atomically under a cross-process
 * lock, and one directory per snapshot under `ROOT/snapshots/<id>`.
 */
export class SnapshotStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The directory of snapshot `id`. */
  dir(id: string): string {
    return join(this.root, 'snapshots', id);
  }

  // metadata.json is a small file read and rewritten a few times per command: synchronous calls
  // cost a fraction of the thread-pool round trips (decision 103)
  #read(): Metadata {
    try {
      return JSON.parse(readFileSync(join(this.root, 'metadata.json'), 'utf8')) as Metadata;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { snapshots: {} };
      throw e;
    }
  }

  #write(meta: Metadata): void {
    const tmp = join(this.root, `.metadata.${randomHex(6)}`);
    writeFileSync(tmp, JSON.stringify(meta));
    renameSync(tmp, join(this.root, 'metadata.json'));
  }

  /** Runs `fn` on the metadata under the lock; what it returns in `meta` is saved. */
  async update<T>(fn: (meta: Metadata) => Promise<T> | T): Promise<T> {
    mkdirSync(join(this.root, 'snapshots'), { recursive: true });
    return withLock(join(this.root, 'metadata.lock'), async () => {
      const meta = this.#read();
      const result = await fn(meta);
      this.#write(meta);
      return result;
    });
  }

  /** Reads the metadata (no lock: writes are atomic renames). */
  async snapshot(): Promise<Metadata> {
    return this.#read();
  }

  /** Adds an active or view snapshot on `parent` (which must be committed). */
  async create(key: string, parent: string | undefined, kind: SnapshotKind, labels?: Record<string, string>) {
    if (key === '') throw new InvalidArgumentError('a snapshot key cannot be empty');
    return this.update((meta) => {
      if (meta.snapshots[key]) throw new AlreadyExistsError(`snapshot "${key}" already exists`);
      const chain: SnapshotRecord[] = [];
      for (let p = parent; p !== undefined; ) {
        const rec = meta.snapshots[p];
        if (!rec) throw new NotFoundError(`parent snapshot "${p}" does not exist`);
        if (rec.kind !== 'committed')
          throw new FailedPreconditionError(`parent "${p}" is ${rec.kind}, not committed`);
        chain.push(rec);
        p = rec.parent;
      }
      const now = new Date().toISOString();
      const rec: SnapshotRecord = {
        id: randomHex(8),
        name: key,
        kind,
        created: now,
        updated: now,
      };
      if (parent !== undefined) rec.parent = parent;
      if (labels) rec.labels = labels;
      meta.snapshots[key] = rec;
      return { record: rec, parents: chain };
    });
  }

  /** The record of `key`, and its committed ancestors nearest first. */
  async get(key: string): Promise<{ record: SnapshotRecord; parents: SnapshotRecord[] }> {
    const meta = await this.snapshot();
    const record = meta.snapshots[key];
    if (!record) throw new NotFoundError(`snapshot "${key}" does not exist`);
    const parents: SnapshotRecord[] = [];
    for (let p = record.parent; p !== undefined; p = meta.snapshots[p]?.parent) {
      const rec = meta.snapshots[p];
      if (!rec) break;
      parents.push(rec);
    }
    return { record, parents };
  }
}
