// images.prune of the local engine (decision 200): the dangling images are the manifests no name or
// container reaches; a filter that leaves one out keeps its blobs through the gc; with `all` every
// image no container uses is untagged first.
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { parseDigest } from '@ocikit/digest';
import { Engine } from '@ocikit/engine';
import { type Descriptor, MediaType } from '@ocikit/image-spec';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, describe, expect, it } from 'vitest';
import { localContext } from './context.ts';
import { localDriver } from './driver.ts';
import { openImageStore } from './image-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocikit-local-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('images.prune of the local engine', () => {
  it('removes the image whose name moved on, unless a filter leaves it out; with all, every unused image', async () => {
    const layout = join(dir, 'layout');
    const busybox = buildBusyboxImage(layout, 'busybox');
    const otherBinary = join(dir, 'busybox');
    copyFileSync('/bin/busybox', otherBinary);
    appendFileSync(otherBinary, '\n');
    buildBusyboxImage(layout, 'other', otherBinary);
    const root = join(dir, 'root');
    const env = { HOME: dir, XDG_RUNTIME_DIR: dir };
    const store = await openImageStore(localContext({ root, env }));
    const source = await openLayout(layout);
    const engine = await Engine.connect(localDriver(), `local:${root}`, { env });
    try {
      // `a:1` names busybox, then the other image (also `b:1`): busybox dangles
      await copy(source, 'busybox', store, 'localhost/a:1');
      const busyboxId = (await engine.images.inspect('localhost/a:1')).id;
      await copy(source, 'other', store, 'localhost/a:1');
      await copy(source, 'other', store, 'localhost/b:1');
      const otherId = (await engine.images.inspect('localhost/a:1')).id;
      expect(otherId).not.toBe(busyboxId);
      // the gc keeps blobs written in the last second (another process may be about to tag them)
      expect((await engine.images.prune()).removed).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const manifest: Descriptor = {
        mediaType: MediaType.ImageManifest,
        digest: parseDigest(busybox.manifest),
        size: busybox.manifestSize,
      };
      // made in 1970: until the epoch selects none, a label none has selects none; its blobs stay
      for (const filters of [{ until: 0 }, { labels: ['nope'] }])
        expect(await engine.images.prune({ filters })).toEqual({ removed: [], spaceReclaimed: 0 });
      expect(await store.exists(manifest)).toBe(true);
      const pruned = await engine.images.prune({ filters: { until: 1000, notLabels: ['nope'] } });
      expect(pruned.removed).toEqual([{ deleted: busyboxId }]);
      expect(pruned.spaceReclaimed).toBeGreaterThan(0);
      expect(await store.exists(manifest)).toBe(false);
      expect((await engine.images.list()).flatMap((i) => i.repoTags).sort()).toEqual([
        'localhost/a:1',
        'localhost/b:1',
      ]);
      // with all: both names of the unused image, and its id once
      const all = await engine.images.prune({ all: true });
      expect(all.removed).toEqual([
        { untagged: 'localhost/a:1' },
        { untagged: 'localhost/b:1' },
        { deleted: otherId },
      ]);
      expect(await engine.images.list()).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});
