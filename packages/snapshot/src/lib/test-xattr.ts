// Test helper: sets and reads extended attributes with the @napi-rs/xattr addon directly, so tests
// need no python3, and builds a PATH on which python3 cannot be found.
import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadNativeXattr } from './xattr.ts';

function addon() {
  const native = loadNativeXattr();
  if (!native) throw new Error('the tests need the @napi-rs/xattr addon (an optional dependency) installed');
  return native;
}

/** Sets `name` on `path` (not following a symlink) to the bytes `hex`. */
export function setXattrHex(path: string, name: string, hex: string): void {
  addon().setAttributeSync(path, name, Buffer.from(hex, 'hex'));
}

/** The value of `name` on `path` as hex; undefined when it is not set. */
export function getXattrHex(path: string, name: string): string | undefined {
  return addon().getAttributeSync(path, name)?.toString('hex');
}

/**
 * A PATH with every program of `path` but python3 (and python3.N): one directory of symlinks.
 */
export function pathWithoutPython(path = process.env['PATH'] ?? ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-no-python-'));
  const seen = new Set<string>();
  for (const d of path.split(delimiter).filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (/^python3(\.\d+)?$/.test(n) || seen.has(n)) continue;
      seen.add(n);
      symlinkSync(join(d, n), join(dir, n));
    }
  }
  return dir;
}
