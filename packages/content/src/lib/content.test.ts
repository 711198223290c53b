import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotFound } from '@ocikit/errors';
import { type Descriptor, MediaType } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { type CopyEvent, copy } from './copy.ts';
import { fetchAll, pushBytes, successors, walk } from './helpers.ts';
import { openLayout } from './layout.ts';
import { MemoryStore } from './memory.ts';
import type { Target } from './target.ts';
import { buildIndex, targetSuite } from './test-suite.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-content-'));
const makers: Record<string, () => Promise<Target>> = {
  memory: async () => new MemoryStore(),
  layout: async () => openLayout(tmp(), { create: true }),
};

targetSuite('MemoryStore', makers.memory as () => Promise<Target>);
targetSuite('OCI layout', makers.layout as () => Promise<Target>);

async function multiArch(t: Target) {
  const built = await buildIndex(t);
  await t.tag(built.index, 'multi');
  return built;
}

describe('copy between every pair of targets', () => {
  for (const [from, makeSrc] of Object.entries(makers)) {
    for (const [to, makeDst] of Object.entries(makers)) {
      it(`${from} → ${to}: copies the whole graph, then skips what exists`, async () => {
        const src = await makeSrc();
        const dst = await makeDst();
        const { index, amd, arm } = await multiArch(src);
        const events: CopyEvent[] = [];
        const root = await copy(src, 'multi', dst, 'copied', { onProgress: (e) => events.push(e) });
        expect(root.digest).toBe(index.digest);
        expect((await dst.resolve('copied')).digest).toBe(index.digest);
        for (const d of [amd.manifest, amd.config, ...amd.layers, arm.manifest, arm.config, ...arm.layers]) {
          expect(await dst.exists(d)).toBe(true);
        }
        expect(events.filter((e) => e.type === 'done')).toHaveLength(9);
        const again: CopyEvent[] = [];
        await copy(src, 'multi', dst, 'copied', { onProgress: (e) => again.push(e) });
        expect(again.every((e) => e.type === 'skip')).toBe(true);
      });
    }
  }

  it('narrows an index to one platform (linux/arm64 matches linux/arm64/v8)', async () => {
    const src = await makers.layout!();
    const dst = new MemoryStore();
    const { amd, arm } = await multiArch(src);
    const root = await copy(src, 'multi', dst, 'arm', { platform: { os: 'linux', architecture: 'arm64' } });
    expect(root.digest).toBe(arm.manifest.digest);
    expect(await dst.exists(arm.layers[0] as Descriptor)).toBe(true);
    expect(await dst.exists(amd.layers[0] as Descriptor)).toBe(false);
    const err = await copy(src, 'multi', dst, 'x', {
      platform: { os: 'linux', architecture: 's390x' },
    }).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toContain('no manifest for platform linux/s390x');
  });

  it('respects the concurrency limit for blobs and stops when aborted', async () => {
    const src = await makers.layout!();
    await multiArch(src);
    let active = 0;
    let peak = 0;
    const dst = new MemoryStore();
    const slowPush = dst.push.bind(dst);
    dst.push = async (d, c, o) => {
      // The limit applies to blob transfers; manifests are small and pushed after their children.
      if (d.mediaType === MediaType.ImageManifest || d.mediaType === MediaType.ImageIndex)
        return slowPush(d, c, o);
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      try {
        return await slowPush(d, c, o);
      } finally {
        active--;
      }
    };
    await copy(src, 'multi', dst, 'x', { concurrency: 2 });
    expect(peak).toBeLessThanOrEqual(2);
    const c = new AbortController();
    c.abort();
    await expect(copy(src, 'multi', new MemoryStore(), 'y', { signal: c.signal })).rejects.toThrow(/abort/);
  });
});

describe('graph helpers', () => {
  it('lists successors and walks every node once', async () => {
    const t = new MemoryStore();
    const { index, amd } = await multiArch(t);
    expect((await successors(t, index)).map((d) => d.digest)).toContain(amd.manifest.digest);
    const seen: string[] = [];
    await walk(t, index, (d) => void seen.push(d.digest));
    expect(seen).toHaveLength(9);
    expect(new Set(seen).size).toBe(9);
  });

  it('refuses oversized documents before reading them', async () => {
    const t = new MemoryStore();
    const big = await pushBytes(t, MediaType.ImageManifest, new Uint8Array(5 * 1024 * 1024));
    await expect(fetchAll(t, big)).rejects.toThrow(/more than the 4194304 allowed/);
  });
});
