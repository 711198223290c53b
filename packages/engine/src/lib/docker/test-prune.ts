// The containers.prune and images.prune cases of the docker driver, run by prune-dockerd.test.ts
// against a real dockerd and by prune-podman.test.ts against podman's service (one engine per file).
import type { RunningEngine } from '@ocikit/test-engines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../contract.ts';
import type { Engine } from '../engine.ts';
import { useBusyboxEngine } from './test-busybox-engine.ts';

/** Registers the prune cases against the engine `start` gives, through `driver`. */
export function describePrune(label: string, driver: Driver, start: () => Promise<RunningEngine>): void {
  describe(`containers.prune and images.prune on ${label}`, () => {
    let engine: Engine;
    let runner: string;
    const image = 'docker.io/library/pr-busybox:1';
    const create = async (cmd: string[], labels?: Record<string, string>) =>
      (await engine.containers.create({ image, cmd, network: 'none', ...(labels ? { labels } : {}) })).id;
    const exited = async (labels?: Record<string, string>) => {
      const id = await create(['true'], labels);
      await engine.containers.start(id);
      expect(await engine.containers.wait(id)).toBe(0);
      return id;
    };
    const ids = async () => (await engine.containers.list({ all: true })).map((c) => c.id).sort();

    const use = useBusyboxEngine(driver, start, image);
    beforeAll(async () => {
      engine = use.engine();
      // a running container keeps the busybox image in use through every case
      runner = await create(['sleep', '300']);
      await engine.containers.start(runner);
    }, 60_000);

    afterAll(async () => {
      await engine?.containers.kill(runner).catch(() => {});
    }, 60_000);

    it('filters: until before they were made prunes none; a label prunes only those with it, label! those without', async () => {
      const [plain, marked] = [await exited(), await exited({ prune: 'yes' })];
      expect((await engine.containers.prune({ filters: { until: Date.now() - 3_600_000 } })).removed).toEqual(
        [],
      );
      const labelled = await engine.containers.prune({ filters: { labels: ['prune=yes'] } });
      expect(labelled.removed).toEqual([marked]);
      const without = await engine.containers.prune({ filters: { notLabels: ['prune'] } });
      expect(without.removed).toEqual([plain]);
      expect(await ids()).toEqual([runner]);
    }, 120_000);

    it('containers.prune removes the exited and the created containers, gives their ids; the running one stays', async () => {
      const made = [await exited(), await create(['true'])].sort();
      const pruned = await engine.containers.prune();
      expect([...pruned.removed].sort()).toEqual(made);
      expect(pruned.spaceReclaimed).toBeGreaterThanOrEqual(0);
      expect(await ids()).toEqual([runner]);
    }, 120_000);

    it('images.prune removes the dangling image only; with all, every image no container uses (untagged, deleted)', async () => {
      const commit = async (changes: string[] = []) => {
        const id = await exited();
        const committed = await engine.containers.commit(id, { reference: 'pr-made:1', changes });
        await engine.containers.remove(id);
        return committed.id;
      };
      const dangling = await commit();
      const named = await commit(['LABEL keep=1']);
      const dangled = await engine.images.prune();
      expect(dangled.removed.filter((r) => r.deleted !== undefined)[0]).toEqual({ deleted: dangling });
      expect(dangled.removed.map((r) => r.deleted)).not.toContain(named);
      expect((await engine.images.inspect('pr-made:1')).id).toBe(named);
      // a label filter leaves it; without one, -a takes it (its name untagged) and keeps busybox
      expect((await engine.images.prune({ all: true, filters: { notLabels: ['keep'] } })).removed).toEqual(
        [],
      );
      const all = await engine.images.prune({ all: true });
      // dockerd lists the name untagged too; podman's libpod only the ids deleted
      expect(all.removed).toContainEqual({ deleted: named });
      for (const r of all.removed)
        if (r.untagged !== undefined) expect(r.untagged).toBe('docker.io/library/pr-made:1');
      expect(all.spaceReclaimed).toBeGreaterThanOrEqual(0);
      expect((await engine.images.list()).flatMap((i) => i.repoTags)).toEqual([image]);
    }, 120_000);
  });
}
