import { spawnSync } from 'node:child_process';
import { type Dirent, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { FailedPreconditionError } from '@ocikit/errors';

// Node has no getxattr/setxattr(2). The prebuilt N-API addon @napi-rs/xattr (an optional
// dependency) makes the calls in-process, without following symlinks; where it cannot be installed
// or loaded, one python3 process does a whole batch. With neither, reading or setting attributes
// fails: a layer written or applied without them would be wrong (decision 073).

/** Every extended attribute below a root, by path relative to it. */
export type XattrTree = Map<string, Map<string, Buffer>>;

/** One attribute to set. */
export interface XattrToSet {
  path: string;
  name: string;
  value: Buffer;
}

/** A way to read and set extended attributes (never following symlinks). */
export interface XattrBackend {
  readonly name: 'native' | 'python3';
  /** Every attribute below `root` (the root itself excluded), by relative path. */
  read(root: string): XattrTree;
  /** Sets each attribute; returns those that could not be set, and why. */
  set(attrs: readonly XattrToSet[]): { path: string; reason: string }[];
}

/** The parts of @napi-rs/xattr used here. */
interface NativeXattr {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer | null;
  setAttributeSync(path: string, name: string, value: Uint8Array): void;
}

// "No such file or directory (os error 2)" → "No such file or directory"
const reasonOf = (e: unknown) =>
  (e instanceof Error ? e.message : String(e)).replace(/ \(os error \d+\)$/, '');

/** The N-API backend over a loaded addon. */
export function nativeBackend(addon: NativeXattr): XattrBackend {
  return {
    name: 'native',
    read(root) {
      const out: XattrTree = new Map();
      const walk = (dir: string) => {
        let entries: Dirent[];
        try {
          entries = readdirSync(dir, { withFileTypes: true });
        } catch (e) {
          // a tree that is not there has no attributes (as python's os.walk): a missing lower dir
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw e;
        }
        for (const entry of entries) {
          const p = join(dir, entry.name);
          let names: string[] = [];
          try {
            names = addon.listAttributesSync(p);
          } catch {
            // as python's os.walk does: an entry that vanished or cannot be read is passed over
          }
          if (names.length > 0) {
            const attrs = new Map<string, Buffer>();
            for (const n of names) {
              const v = addon.getAttributeSync(p, n);
              if (v) attrs.set(n, Buffer.from(v));
            }
            out.set(relative(root, p), attrs);
          }
          if (entry.isDirectory()) walk(p);
        }
      };
      walk(root);
      return out;
    },
    set(attrs) {
      const failed: { path: string; reason: string }[] = [];
      for (const a of attrs) {
        try {
          addon.setAttributeSync(a.path, a.name, a.value);
        } catch (e) {
          failed.push({ path: a.path, reason: `xattr ${a.name}: ${reasonOf(e)}` });
        }
      }
      return failed;
    },
  };
}

const SETXATTR = `
import base64, json, os, sys
failed = []
for a in json.load(sys.stdin):
    try:
        os.setxattr(a["path"], a["name"], base64.b64decode(a["value"]), follow_symlinks=False)
    except OSError as e:
        failed.append({"path": a["path"], "reason": "xattr %s: %s" % (a["name"], e.strerror)})
json.dump(failed, sys.stdout)
`;

const LISTXATTR = `
import base64, json, os, sys
root = sys.argv[1]
out = {}
for dirpath, dirnames, filenames in os.walk(root):
    for name in dirnames + filenames:
        p = os.path.join(dirpath, name)
        try:
            names = os.listxattr(p, follow_symlinks=False)
        except OSError:
            continue
        if names:
            rel = os.path.relpath(p, root)
            out[rel] = {n: base64.b64encode(os.getxattr(p, n, follow_symlinks=False)).decode() for n in names}
json.dump(out, sys.stdout)
`;

function python(script: string, args: string[], input?: string): string {
  const r = spawnSync('python3', ['-c', script, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    ...(input === undefined ? {} : { input }),
  });
  if (r.error || r.status !== 0) {
    throw new FailedPreconditionError(
      `python3 failed to handle extended attributes: ${r.error?.message ?? r.stderr.trim()}`,
    );
  }
  return r.stdout;
}

/** The python3 backend: one process per batch (decision 071). */
export function pythonBackend(): XattrBackend {
  return {
    name: 'python3',
    read(root) {
      const parsed = JSON.parse(python(LISTXATTR, [root]) || '{}') as Record<string, Record<string, string>>;
      const out: XattrTree = new Map();
      for (const [rel, attrs] of Object.entries(parsed)) {
        out.set(rel, new Map(Object.entries(attrs).map(([n, v]) => [n, Buffer.from(v, 'base64')])));
      }
      return out;
    },
    set(attrs) {
      const input = JSON.stringify(attrs.map((a) => ({ ...a, value: a.value.toString('base64') })));
      return JSON.parse(python(SETXATTR, [], input) || '[]') as { path: string; reason: string }[];
    },
  };
}

/** Loads @napi-rs/xattr; undefined when it is not installed or has no build for this system. */
export function loadNativeXattr(): NativeXattr | undefined {
  try {
    return createRequire(import.meta.url)('@napi-rs/xattr') as NativeXattr;
  } catch {
    return undefined;
  }
}

/** True when `python3` runs from PATH. */
export function pythonAvailable(): boolean {
  const r = spawnSync('python3', ['-c', ''], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/**
 * The backend to use: the addon when it loads, else python3 when it runs. FailedPrecondition when
 * neither is there.
 */
export function pickXattrBackend(native: NativeXattr | undefined, python: boolean): XattrBackend {
  if (native) return nativeBackend(native);
  if (python) return pythonBackend();
  throw new FailedPreconditionError(
    'extended attributes cannot be read or set here: the @napi-rs/xattr addon is not installed for this system and python3 is not on PATH',
    { hint: 'install the optional dependency @napi-rs/xattr (linux x64/arm64, glibc or musl), or python3' },
  );
}

let chosen: XattrBackend | undefined;

/** This process's backend, chosen on first use (see {@link pickXattrBackend}). */
export function xattrBackend(): XattrBackend {
  if (!chosen) {
    const native = loadNativeXattr();
    chosen = pickXattrBackend(native, native === undefined && pythonAvailable());
  }
  return chosen;
}

/** Sets extended attributes; returns what could not be set, and why. FailedPrecondition without a backend. */
export function setXattrs(attrs: readonly XattrToSet[]): { path: string; reason: string }[] {
  return xattrBackend().set(attrs);
}

/** Every extended attribute below `root`, by path relative to it. FailedPrecondition without a backend. */
export function readXattrs(root: string): XattrTree {
  return xattrBackend().read(root);
}
