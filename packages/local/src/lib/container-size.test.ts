// containerSizes on both snapshotters: what a container wrote and its image's files, counted as
// podman's storage counts them (apparent sizes, directories not counted, a hard link once).
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeSnapshotter, overlaySnapshotter, type Snapshotter } from '@ocikit/snapshot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerSizes } from './container-size.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocikit-container-size-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The directory a snapshot's (unmounted) writes go to: its own layer. */
function own(mounts: { type: string; source: string; options: string[] }[]): string {
  const upper = mounts[0]?.options.find((o) => o.startsWith('upperdir='));
  return upper ? upper.slice('upperdir='.length) : (mounts[0]?.source ?? '');
}

/** An image of two layers (1000 + 26 + 4 bytes; 300 bytes) and a container `c1` on it. */
async function image(snapshotter: Snapshotter): Promise<string> {
  const l1 = own(await snapshotter.prepare('l1-key'));
  mkdirSync(join(l1, 'bin'));
  writeFileSync(join(l1, 'bin', 'tool'), Buffer.alloc(1000));
  writeFileSync(join(l1, 'passwd'), 'root:x:0:0::/root:/bin/sh\n'); // 26
  symlinkSync('tool', join(l1, 'bin', 'sh')); // 4
  await snapshotter.commit('l1', 'l1-key');
  const l2 = own(await snapshotter.prepare('l2-key', 'l1'));
  writeFileSync(join(l2, 'data'), Buffer.alloc(300));
  await snapshotter.commit('l2', 'l2-key');
  return own(await snapshotter.prepare('container-c1', 'l2'));
}

describe('containerSizes', () => {
  for (const [kind, make] of [
    ['overlay', overlaySnapshotter],
    ['native', nativeSnapshotter],
  ] as const) {
    it(`${kind}: the files written (a hard link once, a link's target length) and the image's`, async () => {
      const snapshotter = make(join(dir, kind));
      const rw = await image(snapshotter);
      const layers = new Map<string, number>();
      const before = await containerSizes(snapshotter, 'c1', layers);
      expect(before.sizeRw).toBe(0);
      // native counts the image's whole tree; overlay each layer: the same files here
      expect(before.sizeRootFs).toBe(1000 + 26 + 4 + 300);

      mkdirSync(join(rw, 'tmp'));
      writeFileSync(join(rw, 'tmp', 'f'), Buffer.alloc(5000));
      writeFileSync(join(rw, 'tmp', 'x'), 'hello\n');
      linkSync(join(rw, 'tmp', 'x'), join(rw, 'tmp', 'y'));
      symlinkSync('/tmp/x', join(rw, 'tmp', 'z'));
      const after = await containerSizes(snapshotter, 'c1', layers);
      expect(after).toEqual({ sizeRw: 5000 + 6 + 6, sizeRootFs: before.sizeRootFs });
      expect(await containerSizes(snapshotter, 'c-none', layers)).toEqual({ sizeRw: 0, sizeRootFs: 0 });
    });
  }
});
