// Concurrent first runs of one image (issue 13): several `ocikit run` of an image that is in the
// local store but not yet unpacked, started together on one root, must all succeed and leave one
// committed snapshot per layer (the real CLI, real runc).
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDigest } from '@ocikit/digest';
import { chainId } from '@ocikit/image-spec';
import { writeImageLayout } from '@ocikit/test-images';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ocikit-cli-concurrent-'));
  chmodSync(d, 0o755);
  return d;
};

let layout: string;
let chainIds: string[];

beforeAll(() => {
  // two layers: busybox with sh and cat, then one file on top
  const base = tmp();
  mkdirSync(join(base, 'bin'), { mode: 0o755 });
  copyFileSync('/bin/busybox', join(base, 'bin', 'busybox'));
  chmodSync(join(base, 'bin', 'busybox'), 0o755);
  for (const d of ['proc', 'sys', 'dev', 'tmp']) mkdirSync(join(base, d), { mode: 0o755 });
  for (const applet of ['sh', 'cat']) symlinkSync('busybox', join(base, 'bin', applet));
  const top = tmp();
  writeFileSync(join(top, 'hello'), 'hello from layer two\n');
  chmodSync(join(top, 'hello'), 0o644);
  layout = join(tmp(), 'layout');
  const img = writeImageLayout(layout, 'two', [{ dir: base }, { dir: top }]);
  const diffIds = img.diffIds.map((d) => parseDigest(d));
  chainIds = diffIds.map((_, i) => chainId(diffIds.slice(0, i + 1)));
});

async function freshRoot(): Promise<string> {
  const root = tmp();
  const copied = await runCli(['--root', root, 'copy', `oci:${layout}:two`, 'local:two']);
  expect(copied.code, copied.stderr).toBe(0);
  return root;
}

async function snapshotsOf(root: string): Promise<{ name: string; kind: string }[]> {
  const ls = await runCli(['--root', root, '--json', 'snapshots', 'ls']);
  expect(ls.code, ls.stderr).toBe(0);
  return (JSON.parse(ls.stdout) as { snapshots: { name: string; kind: string }[] }).snapshots;
}

describe('concurrent first use of an image on one root', () => {
  it('8 concurrent `ocikit run` of a fresh image all succeed, leaving one snapshot per layer', async () => {
    const root = await freshRoot();
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => runCli(['--root', root, 'run', '--rm', 'two', 'cat', '/hello'])),
    );
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('hello from layer two\n');
    }
    const snaps = await snapshotsOf(root);
    expect(snaps.map((s) => `${s.kind} ${s.name}`).sort()).toEqual(
      chainIds.map((c) => `committed ${c}`).sort(),
    );
  });

  it('4 concurrent `ocikit snapshots unpack` and 4 `ocikit create` converge on the same snapshots', async () => {
    const root = await freshRoot();
    const runs = await Promise.all([
      ...Array.from({ length: 4 }, () => runCli(['--root', root, 'snapshots', 'unpack', 'two'])),
      ...Array.from({ length: 4 }, () => runCli(['--root', root, '-q', 'create', 'two', 'cat', '/hello'])),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const r of runs.slice(0, 4)) expect(r.stdout).toBe(`${chainIds.at(-1)}\n`);
    const snaps = await snapshotsOf(root);
    expect(
      snaps
        .filter((s) => s.kind === 'committed')
        .map((s) => s.name)
        .sort(),
    ).toEqual([...chainIds].sort());
    expect(snaps.filter((s) => s.name.startsWith('extract-'))).toEqual([]);
    // the four containers each have their own writable snapshot on the image's
    expect(snaps.filter((s) => s.kind === 'active')).toHaveLength(4);
    const ids = runs.slice(4).map((r) => r.stdout.trim());
    const rm = await runCli(['--root', root, 'rm', '-f', ...ids]);
    expect(rm.code, rm.stderr).toBe(0);
  });
});
