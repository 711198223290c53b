import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayout } from '@ocikit/content';
import { isAlreadyExists, isFailedPrecondition, isNotFound } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import {
  mountAll,
  nativeSnapshotter,
  overlaySnapshotter,
  overlaySupported,
  unmount,
} from './dir-snapshotter.ts';
import type { Snapshotter } from './snapshotter.ts';
import { describeTree, writeImage } from './test-image.ts';
import { unpackImage } from './unpack.ts';
import { unpackToSnapshots } from './unpack-snapshots.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-snap-'));
const errorOf = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

async function withMounted<T>(s: Snapshotter, key: string, fn: (dir: string) => T): Promise<T> {
  const target = tmp();
  mountAll(await s.mounts(key), target);
  try {
    return fn(target);
  } finally {
    unmount(target);
  }
}

/** One conformance suite for every snapshotter (containerd's testsuite pattern). */
function snapshotterSuite(name: string, make: (root: string) => Snapshotter) {
  describe(`${name} snapshotter`, () => {
    it('prepares, fills, commits, stacks, views and removes snapshots', async () => {
      const s = make(tmp());
      const base = await s.prepare('base-active');
      expect(base.length).toBeGreaterThan(0);
      await withMounted(s, 'base-active', (dir) => {
        writeFileSync(join(dir, 'kept'), 'base');
        writeFileSync(join(dir, 'doomed'), 'base');
        mkdirSync(join(dir, 'dir'));
        writeFileSync(join(dir, 'dir', 'inner'), 'base');
      });
      await s.commit('base', 'base-active');
      expect(isNotFound(await errorOf(s.stat('base-active')))).toBe(true);
      expect(await s.stat('base')).toMatchObject({ name: 'base', kind: 'committed' });

      await s.prepare('top-active', 'base');
      await withMounted(s, 'top-active', (dir) => {
        expect(readFileSync(join(dir, 'kept'), 'utf8')).toBe('base');
        rmSync(join(dir, 'doomed'));
        writeFileSync(join(dir, 'dir', 'inner'), 'top');
        writeFileSync(join(dir, 'added'), 'top');
      });
      await s.commit('top', 'top-active', { labels: { layer: '2' } });
      expect(await s.stat('top')).toMatchObject({
        parent: 'base',
        kind: 'committed',
        labels: { layer: '2' },
      });

      await s.view('look', 'top');
      await withMounted(s, 'look', (dir) => {
        expect(readFileSync(join(dir, 'kept'), 'utf8')).toBe('base');
        expect(readFileSync(join(dir, 'dir', 'inner'), 'utf8')).toBe('top');
        expect(readFileSync(join(dir, 'added'), 'utf8')).toBe('top');
        expect(existsSync(join(dir, 'doomed'))).toBe(false);
        expect(() => writeFileSync(join(dir, 'nope'), 'x')).toThrow(/read-only|EROFS/);
      });
      // The base is untouched by its child.
      await s.view('look-base', 'base');
      await withMounted(s, 'look-base', (dir) => {
        expect(readFileSync(join(dir, 'doomed'), 'utf8')).toBe('base');
        expect(readFileSync(join(dir, 'dir', 'inner'), 'utf8')).toBe('base');
      });

      expect((await s.list()).map((i) => `${i.name}:${i.kind}`)).toEqual([
        'base:committed',
        'look:view',
        'look-base:view',
        'top:committed',
      ]);
      expect((await s.usage('top')).inodes).toBeGreaterThan(0);

      expect(isFailedPrecondition(await errorOf(s.remove('base')))).toBe(true);
      await s.remove('look');
      await s.remove('look-base');
      await s.remove('top');
      await s.remove('base');
      expect(await s.list()).toEqual([]);
    });

    it('refuses what containerd refuses', async () => {
      const s = make(tmp());
      expect(isNotFound(await errorOf(s.prepare('x', 'no-such-parent')))).toBe(true);
      await s.prepare('a');
      expect(isAlreadyExists(await errorOf(s.prepare('a')))).toBe(true);
      expect(isFailedPrecondition(await errorOf(s.prepare('b', 'a')))).toBe(true);
      await s.commit('c', 'a');
      expect(isFailedPrecondition(await errorOf(s.commit('d', 'c')))).toBe(true);
      expect(isFailedPrecondition(await errorOf(s.mounts('c')))).toBe(true);
      expect(isNotFound(await errorOf(s.remove('nothing')))).toBe(true);
    });

    it('keeps symlinks and hardlinks across a commit', async () => {
      const s = make(tmp());
      await s.prepare('a');
      await withMounted(s, 'a', (dir) => {
        writeFileSync(join(dir, 'f'), 'x');
        // symlink + hardlink made through the mount
        symlinkSync('f', join(dir, 'l'));
        linkSync(join(dir, 'f'), join(dir, 'h'));
      });
      await s.commit('a1', 'a');
      await s.view('v', 'a1');
      await withMounted(s, 'v', (dir) => {
        expect(readlinkSync(join(dir, 'l'))).toBe('f');
        expect(readFileSync(join(dir, 'h'), 'utf8')).toBe('x');
      });
    });
  });
}

snapshotterSuite('native', (root) => nativeSnapshotter(root));
snapshotterSuite('overlay', (root) => overlaySnapshotter(root));

describe('overlay specifics', () => {
  it('is supported on this machine (root, overlayfs in the kernel)', () => {
    expect(overlaySupported()).toBe(true);
  });

  it('cleans up a mount that still uses a snapshot when it is removed', async () => {
    const s = overlaySnapshotter(tmp());
    await s.prepare('a');
    await s.commit('a1', 'a');
    const mounts = await s.prepare('b', 'a1');
    const target = tmp();
    mountAll(mounts, target);
    await s.remove('b');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(target);
  });
});

describe('unpackToSnapshots', () => {
  it.each([
    ['native', nativeSnapshotter],
    ['overlay', overlaySnapshotter],
  ] as const)(
    '%s: unpacks each layer once, keyed by chainID, and the view equals a plain unpack',
    async (_n, make) => {
      const layout = join(tmp(), 'layout');
      const baseLayer = [
        { path: 'etc/', type: 'dir' as const, mode: '0755' },
        { path: 'etc/a', type: 'file' as const, content: 'a' },
        { path: 'etc/b', type: 'file' as const, content: 'b' },
        { path: 'data/', type: 'dir' as const, mode: '0755' },
        { path: 'data/old', type: 'file' as const, content: 'old' },
      ];
      const one = await writeImage(layout, 'one', [
        baseLayer,
        [{ path: 'etc/.wh.a', type: 'file', content: '' }],
      ]);
      const two = await writeImage(layout, 'two', [
        baseLayer,
        [
          { path: 'data/', type: 'dir', mode: '0755' },
          { path: 'data/.wh..wh..opq', type: 'file', content: '' },
          { path: 'data/new', type: 'file', content: 'new' },
        ],
      ]);
      const store = await openLayout(layout);
      const s = make(tmp());
      const r1 = await unpackToSnapshots(store, one, s);
      expect([r1.applied, r1.reused]).toEqual([2, 0]);
      const r2 = await unpackToSnapshots(store, two, s);
      expect([r2.applied, r2.reused]).toEqual([1, 1]);
      for (const [r, ref] of [
        [r1, 'one'],
        [r2, 'two'],
      ] as const) {
        await s.view(`view-${ref}`, r.chainId);
        const plain = join(tmp(), 'plain');
        await unpackImage(store, await store.resolve(ref), plain);
        await withMounted(s, `view-${ref}`, (dir) => expect(describeTree(dir)).toEqual(describeTree(plain)));
      }
      expect((await s.list()).filter((i) => i.kind === 'committed')).toHaveLength(3);
    },
  );

  it.each([
    ['native', nativeSnapshotter],
    ['overlay', overlaySnapshotter],
  ] as const)(
    '%s: unpacks of one image at once, through one snapshotter and through several on the same root, converge',
    async (_n, make) => {
      const layout = join(tmp(), 'layout');
      const desc = await writeImage(layout, 'img', [
        [
          { path: 'etc/', type: 'dir', mode: '0755' },
          { path: 'etc/a', type: 'file', content: 'a' },
        ],
        [{ path: 'etc/b', type: 'file', content: 'b' }],
      ]);
      const store = await openLayout(layout);
      const root = tmp();
      const shared = make(root);
      // four through one object (waits in this process), four through their own objects (as four
      // processes would: the losers of the commit reuse the winner's snapshot)
      const results = await Promise.all([
        ...Array.from({ length: 4 }, () => unpackToSnapshots(store, desc, shared)),
        ...Array.from({ length: 4 }, () => unpackToSnapshots(store, desc, make(root))),
      ]);
      expect(new Set(results.map((r) => r.chainId)).size).toBe(1);
      for (const r of results) expect(r.applied + r.reused).toBe(2);
      const all = await shared.list();
      expect(all.map((i) => `${i.kind} ${i.parent ?? '-'}`).sort()).toEqual(
        [`committed -`, `committed ${all.find((i) => i.parent === undefined)?.name}`].sort(),
      );
      expect(all.map((i) => i.name)).toContain(results[0]?.chainId);
    },
  );
});
