// The `containers.list({ size: true })` case of the docker driver (`ps -s`), and its listed mounts, run by
// list-size-dockerd.test.ts against a real dockerd and by list-size-podman.test.ts against podman's
// Docker-compatible endpoint (one engine per file).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningEngine } from '@ocikit/test-engines';
import { describe, expect, it } from 'vitest';
import type { Driver } from '../contract.ts';
import { useBusyboxEngine } from './test-busybox-engine.ts';

/**
 * Registers the sized-list case against the engine `start` gives, through `driver`. `rootFsHasRw`:
 * the engine's `SizeRootFs` counts the writable layer too (dockerd), not only the image (podman).
 */
export function describeListSize(
  label: string,
  driver: Driver,
  start: () => Promise<RunningEngine>,
  { rootFsHasRw }: { rootFsHasRw: boolean },
): void {
  describe(`containers.list with size on ${label}`, () => {
    const image = 'docker.io/library/ls-busybox:1';
    const use = useBusyboxEngine(driver, start, image);

    it('gives the bytes a container wrote and its root file system; nothing without size', async () => {
      const engine = use.engine();
      const { id } = await engine.containers.create({
        image,
        cmd: ['sh', '-c', 'dd if=/dev/zero of=/tmp/f bs=1000 count=5 2>/dev/null'],
        network: 'none',
      });
      try {
        await engine.containers.start(id);
        expect(await engine.containers.wait(id)).toBe(0);
        const sized = (await engine.containers.list({ all: true, size: true })).find((c) => c.id === id);
        // 5000 bytes written, and the few the engine writes itself (podman's /etc/mtab link: 12)
        expect(sized?.sizeRw).toBeGreaterThanOrEqual(5000);
        expect(sized?.sizeRw).toBeLessThan(5100);
        // the busybox test image's files: about 2 MB
        const image = (sized?.sizeRootFs ?? 0) - (rootFsHasRw ? (sized?.sizeRw ?? 0) : 0);
        expect(image).toBeGreaterThan(1_900_000);
        expect(image).toBeLessThan(2_100_000);
        const plain = (await engine.containers.list({ all: true })).find((c) => c.id === id);
        expect(plain?.sizeRw).toBeUndefined();
      } finally {
        await engine.containers.remove(id, { force: true });
      }
    }, 120_000);

    it('lists its bind and volume mounts (ps --filter volume= reads them)', async () => {
      const engine = use.engine();
      const bind = mkdtempSync(join(tmpdir(), 'ocikit-list-mounts-'));
      // what a first attempt left (decision 209)
      for (const c of await engine.containers.list({ all: true }))
        if (c.name === 'list-mounts') await engine.containers.remove(c.id, { force: true });
      await engine.volumes.remove('list-mounts-vol', { force: true }).catch(() => {});
      const { id } = await engine.containers.create({
        image,
        name: 'list-mounts',
        cmd: ['true'],
        network: 'none',
        mounts: [
          { type: 'volume', source: 'list-mounts-vol', target: '/data' },
          { type: 'bind', source: bind, target: '/b', readOnly: true },
        ],
      });
      try {
        const listed = (await engine.containers.list({ all: true })).find((c) => c.id === id);
        const mounts = [...(listed?.mounts ?? [])].sort((a, b) => a.destination.localeCompare(b.destination));
        expect(mounts).toMatchObject([
          { type: 'bind', source: bind, destination: '/b' },
          { type: 'volume', name: 'list-mounts-vol', destination: '/data' },
        ]);
      } finally {
        await engine.containers.remove(id, { force: true });
        await engine.volumes.remove('list-mounts-vol', { force: true }).catch(() => {});
        rmSync(bind, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
