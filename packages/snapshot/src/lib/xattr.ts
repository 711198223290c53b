import { spawnSync } from 'node:child_process';

// Node has no getxattr/setxattr(2): one python3 process does a whole batch (without following
// symlinks), so the cost is one process per layer or tree, not per file (decision 071).

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

/** Sets extended attributes (base64 values); returns what could not be set, and why. */
export function setXattrs(
  attrs: readonly { path: string; name: string; value: string }[],
): { path: string; reason: string }[] {
  const r = spawnSync('python3', ['-c', SETXATTR], { input: JSON.stringify(attrs), encoding: 'utf8' });
  if (r.status !== 0) {
    return attrs.map((a) => ({
      path: a.path,
      reason: `xattr ${a.name}: python3 is needed to set extended attributes`,
    }));
  }
  return JSON.parse(r.stdout || '[]') as { path: string; reason: string }[];
}

/** Every extended attribute below `root`, by path relative to it. Empty when python3 is missing. */
export function readXattrs(root: string): Map<string, Map<string, Buffer>> {
  const r = spawnSync('python3', ['-c', LISTXATTR, root], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const out = new Map<string, Map<string, Buffer>>();
  if (r.status !== 0) return out;
  const parsed = JSON.parse(r.stdout || '{}') as Record<string, Record<string, string>>;
  for (const [rel, attrs] of Object.entries(parsed)) {
    out.set(rel, new Map(Object.entries(attrs).map(([n, v]) => [n, Buffer.from(v, 'base64')])));
  }
  return out;
}
