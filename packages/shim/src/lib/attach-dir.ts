// The directory of attach sockets: this user's alone (decision 108).
import { closeSync, fchmodSync, constants as fs, fstatSync, mkdirSync, openSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { FailedPreconditionError } from '@ocikit/errors';

/** The longest path a unix socket can be bound at (`sun_path` is 108 bytes with its NUL). */
const SOCKET_PATH_MAX = 107;
/** What conmon adds under the directory: `/<12-char id>/attach`. */
const SUFFIX_LENGTH = '/0123456789ab/attach'.length;

const fits = (dir: string) => Buffer.byteLength(dir) + SUFFIX_LENGTH <= SOCKET_PATH_MAX;

/**
 * Where conmon links a container's attach socket (`DIR/<12-char id>/attach`, a link into its
 * bundle): `ROOT/attach` when that is short enough for a socket path, else
 * `$XDG_RUNTIME_DIR/ocikit-attach` (decision 108). Never a shared directory such as /tmp, where
 * another user could make it first and swap the links.
 */
export function attachDirFor(root: string): string {
  const inRoot = join(root, 'attach');
  if (fits(inRoot)) return inRoot;
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir && isAbsolute(runtimeDir)) {
    const inRuntimeDir = join(runtimeDir, 'ocikit-attach');
    if (fits(inRuntimeDir)) {
      checkOwnDirectory(runtimeDir, 'the runtime directory ($XDG_RUNTIME_DIR)');
      return inRuntimeDir;
    }
  }
  throw new FailedPreconditionError(
    `no directory for attach sockets: ${inRoot} is ${Buffer.byteLength(inRoot)} bytes, and a socket path under it would pass the ${SOCKET_PATH_MAX}-byte limit`,
    {
      details: { path: inRoot, reason: 'path-too-long' },
      hint: 'use a shorter state root, or set XDG_RUNTIME_DIR to a short directory of your own',
    },
  );
}

/**
 * Makes `dir` (mode 0700) or, when it exists, checks it is this user's alone: a directory (not a
 * link), owned by this user, mode 0700. Anything else is refused with a FailedPreconditionError
 * naming the path and why, as it could have been made by someone else to redirect the sockets.
 */
export function ensureOwnDirectory(dir: string, what = 'the attach socket directory'): void {
  let made = false;
  try {
    mkdirSync(dir, { mode: 0o700 });
    made = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FailedPreconditionError(`${what} ${dir} cannot be made: its parent does not exist`, {
        details: { path: dir, reason: 'missing-parent' },
        cause: e,
      });
    }
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  checkOwnDirectory(dir, what, made);
}

function checkOwnDirectory(dir: string, what: string, fixMode = false): void {
  let fd: number;
  try {
    fd = openSync(dir, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      throw new FailedPreconditionError(
        `${what} ${dir} is not a directory (a symbolic link or a file): refusing it`,
        { details: { path: dir, reason: 'not-a-directory' }, cause: e },
      );
    }
    throw e;
  }
  try {
    // the umask may have taken bits off at mkdir: set the mode on what was just made
    if (fixMode) fchmodSync(fd, 0o700);
    const st = fstatSync(fd);
    const uid = process.geteuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new FailedPreconditionError(
        `${what} ${dir} is owned by uid ${st.uid}, not by this user (uid ${uid}): refusing it, as its owner could redirect the sockets in it`,
        { details: { path: dir, reason: 'not-owned', owner: st.uid, uid } },
      );
    }
    const mode = st.mode & 0o777;
    if (mode !== 0o700) {
      const octal = (n: number) => `0${n.toString(8).padStart(3, '0')}`;
      throw new FailedPreconditionError(
        `${what} ${dir} has mode ${octal(mode)}, not 0700: refusing it, as others could change the sockets in it`,
        { details: { path: dir, reason: 'mode', mode: octal(mode) } },
      );
    }
  } finally {
    closeSync(fd);
  }
}
