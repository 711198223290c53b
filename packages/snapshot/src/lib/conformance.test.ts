import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import safety from '../../test/fixtures/tar-safety.json' with { type: 'json' };
import whiteouts from '../../test/fixtures/whiteouts.json' with { type: 'json' };
import { applyLayer } from './apply.ts';
import { resolveDir } from './resolve.ts';
import { contentOf, type FixtureEntry, tarOf } from './test-tar.ts';

interface Assertion {
  op: string;
  path?: string;
  paths?: string[];
  hostPath?: string;
  content?: string;
  contentBytes?: number[];
  mode?: string;
  linkname?: string;
  resolve?: string;
}
interface SafetyCase {
  name: string;
  input: { entries: FixtureEntry[]; preexisting?: FixtureEntry[] };
  hostSetup?: { hostPath: string; content: string; mode: string }[];
  valid: boolean;
  expected: { assertions?: Assertion[]; error?: string };
}

/** Resolves a path inside root with symlinks followed (clamped), as the fixtures' assertions do. */
async function inRoot(root: string, path: string, followLast = true): Promise<string> {
  const parts = path.split('/').filter(Boolean);
  const last = parts.pop();
  if (last === undefined) return root;
  const parent = (await resolveDir(root, parts, false)) ?? join(root, ...parts);
  const host = join(parent, last);
  if (!followLast) return host;
  const st = existsSync(host) ? lstatSync(host) : undefined;
  if (st?.isSymbolicLink()) {
    const target = readlinkSync(host);
    return inRoot(root, target.startsWith('/') ? target : [...parts, target].join('/'));
  }
  return host;
}

// Everything outside the root, with content and mode, to prove nothing there changed.
function snapshot(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (p === skip) continue;
      const st = lstatSync(p);
      out.push(
        `${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? readFileSync(p).toString('hex') : ''}`,
      );
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function preexisting(root: string, entries: readonly FixtureEntry[]) {
  for (const e of entries) {
    const p = join(root, e.path);
    const mode = e.mode ? Number.parseInt(e.mode, 8) : undefined;
    if (e.type === 'dir') mkdirSync(p, { recursive: true, mode });
    else if (e.type === 'file') writeFileSync(p, contentOf(e), { mode });
    else if (e.type === 'symlink') symlinkSync(e.linkname ?? '', p);
    else if (e.type === 'hardlink') linkSync(join(root, e.linkname ?? ''), p);
  }
}

describe('tar safety (containerd and umoci breakout suites)', () => {
  it.each((safety as SafetyCase[]).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const parent = mkdtempSync(join(tmpdir(), 'ocikit-safety-'));
    const hostTmp = mkdtempSync(join(tmpdir(), 'ocikit-host-'));
    const tname = randomBytes(6).toString('hex');
    const fill = (s: string) =>
      s.replaceAll('HOSTTMP', hostTmp).replaceAll('PARENT', parent).replaceAll('TNAME', tname);
    const root = join(parent, 'rootfs');
    mkdirSync(root);
    for (const h of c.hostSetup ?? []) {
      writeFileSync(fill(h.hostPath), h.content);
      chmodSync(fill(h.hostPath), Number.parseInt(h.mode, 8));
    }
    preexisting(root, c.input.preexisting ?? []);
    const entries: FixtureEntry[] = c.input.entries.map((e) => {
      const out: FixtureEntry = { ...e, path: fill(e.path) };
      if (e.linkname !== undefined) out.linkname = fill(e.linkname);
      return out;
    });
    const outside = [...snapshot(parent, root), ...snapshot(hostTmp, root)];
    const tmpBefore = existsSync(`/tmp/breakout-${tname}`);
    let error: unknown;
    try {
      await applyLayer(root, Readable.from([await tarOf(entries)]), { privileged: false });
    } catch (e) {
      error = e;
    }
    // The invariant of every case: nothing outside the root was created, changed or removed.
    expect([...snapshot(parent, root), ...snapshot(hostTmp, root)]).toEqual(outside);
    expect(existsSync(`/tmp/breakout-${tname}`)).toBe(tmpBefore);
    if (!c.valid) {
      expect(isInvalidArgument(error), String(error)).toBe(true);
      expect((error as { details: { reason: string } }).details.reason).toBe(c.expected.error);
      return;
    }
    expect(error, String(error)).toBeUndefined();
    for (const a of c.expected.assertions ?? []) {
      const path = a.path ? fill(a.path) : '';
      const paths = (a.paths ?? []).map(fill);
      switch (a.op) {
        case 'fileContent':
          expect(readFileSync(await inRoot(root, path))).toEqual(contentOf(a));
          break;
        case 'sameInode':
        case 'notSameInode': {
          // containerd's cases resolve both paths inside the root; umoci's compare the entries themselves.
          const follow = /resolved inside root/.test(a.resolve ?? '');
          const [x, y] = await Promise.all(paths.map((p) => inRoot(root, p, follow)));
          const same = lstatSync(x as string).ino === lstatSync(y as string).ino;
          expect(same, `${a.op} ${paths.join(' ')}`).toBe(a.op === 'sameInode');
          break;
        }
        case 'notExists':
          expect(existsSync(await inRoot(root, path, false)), `${path} must not exist`).toBe(false);
          break;
        case 'exists':
          expect(existsSync(await inRoot(root, path, false))).toBe(true);
          break;
        case 'isDirectory':
          expect(statSync(await inRoot(root, path)).isDirectory()).toBe(true);
          break;
        case 'symlinkTarget':
          expect(readlinkSync(await inRoot(root, path, false))).toBe(a.linkname);
          break;
        case 'bothSymlinksWithSameTarget': {
          const [x, y] = await Promise.all(paths.map((p) => inRoot(root, p, false)));
          expect(readlinkSync(x as string)).toBe(readlinkSync(y as string));
          break;
        }
        case 'hostFileContent':
          expect(readFileSync(fill(a.hostPath ?? ''))).toEqual(contentOf(a));
          break;
        case 'hostFileNotContent': {
          const host = fill(a.hostPath ?? '');
          if (existsSync(host)) expect(readFileSync(host)).not.toEqual(contentOf(a));
          break;
        }
        case 'hostFileMode':
          expect((statSync(fill(a.hostPath ?? '')).mode & 0o7777).toString(8)).toBe(
            Number.parseInt(a.mode ?? '', 8).toString(8),
          );
          break;
        case 'ownerUnchanged':
          for (const p of paths) expect(lstatSync(await inRoot(root, p, false)).uid).toBe(process.getuid?.());
          break;
        default:
          throw new Error(`unknown assertion ${a.op}`);
      }
    }
    rmSync(parent, { recursive: true, force: true });
    rmSync(hostTmp, { recursive: true, force: true });
  });
});

interface WhiteoutCase {
  name: string;
  input: { layers: FixtureEntry[][] };
  valid: boolean;
  expected: {
    tree?: { path: string; type: string; content?: string; linkname?: string }[];
    hardlinkGroups?: string[][];
    error?: string;
  };
}

function treeOf(root: string): { path: string; type: string; content?: string; linkname?: string }[] {
  const out: { path: string; type: string; content?: string; linkname?: string }[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = `${rel}/${name}`;
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.push({ path: r, type: 'dir' });
        walk(p, r);
      } else if (st.isSymbolicLink()) out.push({ path: r, type: 'symlink', linkname: readlinkSync(p) });
      else if (st.isFIFO()) out.push({ path: r, type: 'fifo' });
      else out.push({ path: r, type: 'file', content: readFileSync(p, 'utf8') });
    }
  };
  walk(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

describe('whiteouts (image-spec layer.md, umoci, containerd)', () => {
  it.each((whiteouts as WhiteoutCase[]).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const root = mkdtempSync(join(tmpdir(), 'ocikit-wh-'));
    let error: unknown;
    try {
      for (const layer of c.input.layers)
        await applyLayer(root, Readable.from([await tarOf(layer)]), { privileged: true });
    } catch (e) {
      error = e;
    }
    if (!c.valid) {
      expect(isInvalidArgument(error), String(error)).toBe(true);
      return;
    }
    expect(error, String(error)).toBeUndefined();
    const expected = (c.expected.tree ?? [])
      .map((e) => ({ ...e }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    expect(treeOf(root)).toEqual(expected);
    for (const group of c.expected.hardlinkGroups ?? []) {
      const inodes = new Set(group.map((p) => lstatSync(join(root, p)).ino));
      expect(inodes.size, `hardlink group ${group.join(', ')}`).toBe(1);
    }
    rmSync(root, { recursive: true, force: true });
  });
});
