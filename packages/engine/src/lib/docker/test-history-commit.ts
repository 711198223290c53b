// The history and commit cases of the docker driver, run by history-commit-dockerd.test.ts against a
// real dockerd and by history-commit-podman.test.ts against podman's Docker-compatible endpoint (one
// engine per file). The busybox test image reaches the engine as a docker-archive
// (test-busybox-engine.ts), so no registry is needed.
import { isOcikitError } from '@ocikit/errors';
import type { RunningEngine } from '@ocikit/test-engines';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../contract.ts';
import type { Engine } from '../engine.ts';
import { useBusyboxEngine } from './test-busybox-engine.ts';

async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return isOcikitError(e) ? e.details.reason : e;
  }
  return 'no error';
}

/**
 * Registers the history and commit cases against the engine `start` gives, through `driver`.
 * `commentInHistory`: the commit's comment, the container's command and the image's tags are on its
 * history step (dockerd); podman 4.3 writes its own there (`FROM base`, `/bin/sh`, no tags).
 */
export function describeHistoryCommit(
  label: string,
  driver: Driver,
  start: () => Promise<RunningEngine>,
  { commentInHistory }: { commentInHistory: boolean },
): void {
  describe(`images.history and containers.commit on ${label}`, () => {
    const image = 'docker.io/library/hc-busybox:1';
    const use = useBusyboxEngine(driver, start, image);
    let engine: Engine;
    beforeAll(() => {
      engine = use.engine();
    });

    it('commits a written file and a removed one with changes; history shows the step newest first', async () => {
      const { id } = await engine.containers.create({
        image,
        cmd: ['sh', '-c', 'echo committed > /root/made && rm /etc/group'],
        network: 'none',
      });
      await engine.containers.start(id);
      expect(await engine.containers.wait(id)).toBe(0);
      const committed = await engine.containers.commit(id, {
        reference: 'hc-committed:1',
        comment: 'a comment',
        author: 'ocikit test',
        changes: ['CMD ["cat", "/root/made"]', 'ENV A=1'],
      });
      await engine.containers.remove(id, { force: true });
      expect(committed.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      const inspected = await engine.images.inspect('hc-committed:1');
      expect(inspected.id).toBe(committed.id);
      expect(inspected.config.cmd).toEqual(['cat', '/root/made']);
      expect(inspected.config.env).toContain('A=1');
      expect(inspected.diffIds).toHaveLength(2);

      let output = '';
      const ran = await engine.containers.run(
        {
          image: 'hc-committed:1',
          cmd: ['sh', '-c', 'cat /root/made; test -e /etc/group; echo $?'],
          network: 'none',
          autoRemove: true,
        },
        { onOutput: (chunk) => (output += Buffer.from(chunk.data).toString('utf8')) },
      );
      expect(ran.exitCode).toBe(0);
      expect(output).toBe('committed\n1\n');

      const history = await engine.images.history('hc-committed:1');
      expect(history.length).toBeGreaterThanOrEqual(2);
      expect(history[0]).toMatchObject({ id: committed.id, emptyLayer: false });
      if (commentInHistory) expect(history[0]?.comment).toBe('a comment');
      if (commentInHistory) expect(history[0]?.createdBy).toContain('echo committed > /root/made');
      expect(history[0]?.created).toMatch(/^\d{4}-\d\d-\d\dT/);
      if (commentInHistory)
        expect(history[0]?.tags).toEqual(expect.arrayContaining([expect.stringMatching(/hc-committed:1$/)]));
      // without a reference the engine makes an unnamed image, found by its id
      const created = await engine.containers.create({ image, cmd: ['true'], network: 'none' });
      const unnamed = await engine.containers.commit(created.id, {});
      await engine.containers.remove(created.id, { force: true });
      expect(unnamed.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await engine.images.inspect(unnamed.id)).repoTags).toEqual([]);
      await engine.images.remove(unnamed.id, { force: true });
      expect(await reasonOf(engine.images.history('hc-no-such-image:1'))).toBe('image-not-found');
      expect(await reasonOf(engine.containers.commit('hc-no-such-container', { reference: 'x:1' }))).toBe(
        'container-not-found',
      );
    }, 120_000);
  });
}
