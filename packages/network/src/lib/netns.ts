import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  throwIfAborted,
  truncate,
} from '@ocikit/errors';

const run = promisify(execFile);

/** Options for {@link createNetns} and {@link removeNetns}. */
export interface NetnsOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
}

const nsNameRe = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * Makes a new network namespace and pins it with a bind mount at `<dir>/<name>` (util-linux
 * `unshare --net=FILE`, no process left running), with `lo` up. Hand the path to the runtime as
 * `linux.namespaces: [{ type: 'network', path }]` and to {@link addNetwork} as `netns`.
 *
 * @throws InvalidArgumentError for a bad name; AlreadyExistsError when the file exists;
 *   FailedPreconditionError when the namespace cannot be made (not root, no util-linux).
 * @example
 * ```ts
 * const netns = await createNetns('/run/ocikit/netns', 'c1');
 * // … run the container in it, then:
 * await removeNetns(netns);
 * ```
 */
export async function createNetns(dir: string, name: string, options: NetnsOptions = {}): Promise<string> {
  throwIfAborted(options.signal);
  if (!nsNameRe.test(name) || name.length > 200) {
    throw new InvalidArgumentError(`network namespace name ${JSON.stringify(truncate(name))} is invalid`, {
      details: { name: truncate(name) },
    });
  }
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  try {
    await writeFile(path, '', { flag: 'wx', mode: 0o444 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AlreadyExistsError(`network namespace ${path} already exists`, { details: { path } });
    }
    throw e;
  }
  try {
    await run('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up'], opts(options));
  } catch (e) {
    await umount(path).catch(() => undefined);
    await rm(path, { force: true });
    throw new FailedPreconditionError(`cannot create network namespace ${path}: ${stderrOf(e)}`, {
      cause: e,
      details: { path },
      hint: 'network namespaces need root (or a user namespace) and util-linux unshare and iproute2',
    });
  }
  return path;
}

/**
 * Unmounts and deletes a namespace made by {@link createNetns}. A path that is already gone, or no
 * longer mounted, is fine (teardown after a crash).
 */
export async function removeNetns(path: string, options: NetnsOptions = {}): Promise<void> {
  throwIfAborted(options.signal);
  try {
    await umount(path);
  } catch (e) {
    const msg = stderrOf(e);
    if (!/not mounted|no mount point|not found|No such file/i.test(msg)) {
      throw new FailedPreconditionError(`cannot unmount network namespace ${path}: ${msg}`, {
        cause: e,
        details: { path },
      });
    }
  }
  await rm(path, { force: true });
}

function umount(path: string) {
  return run('umount', [path]);
}

function opts(o: NetnsOptions) {
  return o.signal ? { signal: o.signal } : {};
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return truncate((err.stderr || err.message || String(e)).trim(), 300);
}
