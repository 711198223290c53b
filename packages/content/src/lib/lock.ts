import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { link, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomHex } from '@ocikit/digest';
import { throwIfAborted, UnavailableError } from '@ocikit/errors';

/** A held cross-process lock. */
export interface Lock {
  release(): Promise<void>;
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  signal?: AbortSignal;
  /** Give up after this many milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Return undefined at once instead of waiting when the lock is held. */
  tryOnly?: boolean;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const self = `${process.pid} ${startTime(process.pid) ?? ''}`;

/** True when the process that wrote `owner` ("pid starttime") still runs (pid reuse detected on Linux). */
export function ownerAlive(owner: string): boolean {
  const [pidText, start] = owner.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = startTime(pid);
  return !start || now === undefined || now === start;
}

/** The owner written in a lock file ("pid starttime"); undefined when there is none. */
function readOwner(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

// Removes a lock whose owner is dead. Renaming first makes the removal atomic; if the file we renamed
// turns out to be a fresh lock someone took in between, it is linked back.
async function breakStale(path: string, seen: string): Promise<void> {
  const stale = `${path}.stale.${randomHex(6)}`;
  try {
    await rename(path, stale);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const taken = readOwner(stale);
  if (taken !== seen) await link(stale, path).catch(() => {});
  await unlink(stale).catch(() => {});
}

/**
 * Takes an exclusive lock shared by every process on the machine: a lock file created atomically
 * with `link(2)` holding the owner's pid and start time. A lock whose owner died (even by SIGKILL)
 * is broken by the next process that wants it.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock | undefined> {
  throwIfAborted(options.signal);
  const tmp = `${path}.${process.pid}.${randomHex(6)}`;
  // The uncontended case, taken and released with synchronous calls: a handful of tiny-file
  // operations cost a fraction of their thread-pool round trips (decision 103).
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(tmp, self);
  try {
    linkSync(tmp, path);
    unlinkSync(tmp);
    return heldLock(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let delay = 2;
  try {
    for (;;) {
      throwIfAborted(options.signal);
      try {
        await link(tmp, path);
        return heldLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = readOwner(path);
      if (owner !== undefined && owner !== self && !ownerAlive(owner)) {
        await breakStale(path, owner);
        continue;
      }
      if (options.tryOnly) return undefined;
      if (Date.now() > deadline) {
        throw new UnavailableError(
          `timed out waiting for lock ${path} (held by pid ${owner?.split(' ')[0]})`,
          {
            details: { path },
            hint: 'another ocikit process is using this store; if none runs, remove the lock file',
          },
        );
      }
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
      delay = Math.min(delay * 2, 50);
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

function heldLock(path: string): Lock {
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      if (readOwner(path) === self) {
        try {
          unlinkSync(path);
        } catch {
          // broken by another process meanwhile: nothing left to release
        }
      }
    },
  };
}

/** Runs `fn` while holding the lock at `path`. */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = (await acquireLock(path, options)) as Lock;
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
