// Pruning removes the snapshots no container or image uses, children first (issue 19 item 9).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountAll, nativeSnapshotter, unmount } from './dir-snapshotter.ts';
import { pruneSnapshots } from './prune.ts';
import type { Snapshotter } from './snapshotter.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-prune-'));

/** A committed snapshot `name` on `parent` holding one file. */
async function committed(s: Snapshotter, name: string, parent?: string): Promise<void> {
  const target = tmp();
  mountAll(await s.prepare(`${name}-active`, parent), target);
  writeFileSync(join(target, name), 'x'.repeat(4096));
  unmount(target);
  await s.commit(name, `${name}-active`);
}

describe('pruneSnapshots', () => {
  it('keeps what is used and its parents; removes the rest, children first', async () => {
    const s = nativeSnapshotter(tmp());
    await committed(s, 'base');
    await committed(s, 'used-top', 'base');
    await committed(s, 'unused-mid', 'base');
    await committed(s, 'unused-top', 'unused-mid');
    await s.prepare('container-1', 'used-top');
    await s.prepare('container-gone', 'unused-top');
    const before = (await s.list()).length;
    const dry = await pruneSnapshots(s, { keep: ['container-1'], graceMs: 0, dryRun: true });
    expect((await s.list()).length).toBe(before);
    const result = await pruneSnapshots(s, { keep: ['container-1'], graceMs: 0 });
    expect(dry).toEqual(result);
    expect(result.removed).toEqual(['container-gone', 'unused-top', 'unused-mid']);
    expect(result.bytes).toBeGreaterThan(0);
    expect((await s.list()).map((x) => x.name).sort()).toEqual(['base', 'container-1', 'used-top']);
  });

  it('keeps an active snapshot another process may be filling, within the grace period', async () => {
    const s = nativeSnapshotter(tmp());
    await committed(s, 'base');
    await s.prepare('extract-abc base2', 'base');
    const result = await pruneSnapshots(s, { keep: [] });
    expect(result.removed).toEqual([]);
    expect((await pruneSnapshots(s, { keep: [], graceMs: 0 })).removed).toEqual([
      'extract-abc base2',
      'base',
    ]);
  });
});
