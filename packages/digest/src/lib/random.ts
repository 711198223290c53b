import { closeSync, openSync, readSync } from 'node:fs';

/**
 * `bytes` random bytes from the kernel's generator, as lower-case hex: for temporary file names and
 * ids. Reads /dev/urandom (three system calls), so a short command need not load node:crypto for a
 * name (decision 105); where there is no /dev/urandom, node:crypto's randomBytes.
 *
 * @example
 * ```ts
 * const tmp = `${path}.${randomHex(8)}.tmp`;
 * ```
 */
export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    return process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');
  }
  try {
    for (let got = 0; got < bytes; ) got += readSync(fd, buf, got, bytes - got, null);
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}
