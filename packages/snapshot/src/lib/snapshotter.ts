/** What a snapshot is in its lifecycle (containerd's vocabulary). */
export type SnapshotKind = 'active' | 'view' | 'committed';

/** Facts about one snapshot. */
export interface SnapshotInfo {
  /** The key (active, view) or name (committed). */
  name: string;
  /** The committed snapshot it stacks on. */
  parent?: string;
  kind: SnapshotKind;
  created: string;
  updated: string;
  labels?: Record<string, string>;
}

/** How to mount a snapshot: the arguments of mount(8). */
export interface SnapshotMount {
  type: string;
  source: string;
  options: string[];
}

/** Disk use of a snapshot's own layer. */
export interface SnapshotUsage {
  size: number;
  inodes: number;
}

/** Options of `prepare` and `view`. */
export interface PrepareOptions {
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * A snapshotter, as containerd defines it. The lifecycle: `prepare(key, parent)` makes an active
 * snapshot (writable) on a committed parent and returns how to mount it; once it is filled,
 * `commit(name, key)` turns it into the committed snapshot `name` (and `key` is gone), which later
 * snapshots can use as their parent. `view(key, parent)` makes a read-only snapshot of a parent.
 * `remove(key)` deletes an active or view snapshot, or a committed one without children.
 */
export interface Snapshotter {
  /** The backend's name: `native`, `overlay`. */
  readonly kind: string;
  prepare(key: string, parent?: string, options?: PrepareOptions): Promise<SnapshotMount[]>;
  view(key: string, parent?: string, options?: PrepareOptions): Promise<SnapshotMount[]>;
  mounts(key: string): Promise<SnapshotMount[]>;
  commit(name: string, key: string, options?: { labels?: Record<string, string> }): Promise<void>;
  remove(key: string): Promise<void>;
  stat(key: string): Promise<SnapshotInfo>;
  list(): Promise<SnapshotInfo[]>;
  usage(key: string): Promise<SnapshotUsage>;
}
