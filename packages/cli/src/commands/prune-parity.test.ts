// `container prune` and `image prune [-a]` with `ocikit` and with the real podman 4.3, side by side
// (decision 200): the same question, the same containers and images removed, their ids printed one
// per line, the same refusals.
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
const both = <T>(each: (s: Side) => Promise<T>) => sides.both(each);
/** Per side: the ids of the images made (bare hex): `dangling` (its name moved on), `labelled`, `plain`. */
const made: Record<Side['name'], Record<'dangling' | 'labelled' | 'plain', string>> = {
  ocikit: { dangling: '', labelled: '', plain: '' },
  podman: { dangling: '', labelled: '', plain: '' },
};

/** Runs a command that must succeed; its output. */
async function ok(s: Side, args: readonly string[], stdin?: string): Promise<string> {
  const r = await s.cli(args, stdin);
  expect(r.code, `${s.name} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const lines = (text: string) => text.split('\n').filter(Boolean).sort();
const hex = (id: string) => id.trim().replace(/^sha256:/, '');
/** Every container, `ID NAME`, ids whole. */
const containers = async (s: Side) =>
  lines(await ok(s, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])).map((l) => l.split(' '));
const names = async (s: Side) => (await containers(s)).map(([, name]) => name).sort();

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  await both(async (s) => {
    const image = s.image();
    // an exited container, a created one, a running one
    await ok(s, ['run', ...s.runFlags, '--name', 'ex', image, 'true']);
    await ok(s, ['create', ...s.runFlags, '--name', 'cr', image, 'true']);
    // running for the whole file (afterAll kills it): a fixed two minutes can run out on a loaded machine
    await ok(s, ['run', '-d', ...s.runFlags, '--name', 'ru', image, 'sleep', '3600']);
    // three images of two exited containers: the first loses its name to the second (dangling),
    // which has a label and a second name; a third, unlabelled
    await ok(s, ['run', ...s.runFlags, '--name', 'w1', image, 'sh', '-c', 'echo 1 > /f']);
    await ok(s, ['run', ...s.runFlags, '--name', 'w2', image, 'sh', '-c', 'echo 2 > /f']);
    made[s.name].dangling = hex(await ok(s, ['commit', 'w1', 'localhost/extra:1']));
    made[s.name].labelled = hex(
      await ok(s, ['commit', '--change', 'LABEL prune=no', 'w2', 'localhost/extra:1']),
    );
    await ok(s, ['tag', 'localhost/extra:1', 'localhost/extra:2']);
    made[s.name].plain = hex(await ok(s, ['commit', 'w2', 'localhost/other:1']));
  });
}, 180_000);

afterAll(async () => {
  await sides?.close();
});

describe('container prune and image prune: ocikit and podman side by side', () => {
  it('bad flags and filters are refused with exit 125, nothing removed', async () => {
    const seen = await both(async (s) => {
      const runs = [
        ['container', 'prune', '--bogus'],
        ['container', 'prune', '-f', '--filter', 'bogus=1'],
        ['container', 'prune', '-f', '-a'],
        ['image', 'prune', '-f', '--filter', 'nope'],
        ['image', 'prune', '-f', 'extra'],
      ];
      const codes: number[] = [];
      for (const args of runs) codes.push((await s.cli(args)).code);
      return { codes, names: await names(s) };
    });
    expect(seen.podman).toEqual({ codes: [125, 125, 125, 125, 125], names: ['cr', 'ex', 'ru', 'w1', 'w2'] });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it("container prune asks podman's question first; no keeps every container", async () => {
    const seen = await both(async (s) => {
      const r = await s.cli(['container', 'prune'], 'n\n');
      return { code: r.code, said: r.stdout + r.stderr, names: await names(s) };
    });
    expect(seen.podman).toEqual({
      code: 0,
      said: 'WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ',
      names: ['cr', 'ex', 'ru', 'w1', 'w2'],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('container prune --filter until= prunes only containers made before it', async () => {
    const seen = await both(async (s) => ({
      out: await ok(s, ['container', 'prune', '-f', '--filter', 'until=1h']),
      names: await names(s),
    }));
    expect(seen.podman).toEqual({ out: '', names: ['cr', 'ex', 'ru', 'w1', 'w2'] });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('container prune -f removes exactly the exited and created containers, prints their ids; the running one stays', async () => {
    const seen = await both(async (s) => {
      const before = await containers(s);
      const pruned = lines(await ok(s, ['container', 'prune', '-f']));
      const expected = before.filter(([, name]) => name !== 'ru').map(([id]) => id);
      return {
        pruned: pruned.length,
        exact: JSON.stringify(pruned) === JSON.stringify(expected.sort()),
        names: await names(s),
      };
    });
    expect(seen.podman).toEqual({ pruned: 4, exact: true, names: ['ru'] });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('image prune asks first, then -f removes only the dangling image and prints its id', async () => {
    const seen = await both(async (s) => {
      const asked = await s.cli(['image', 'prune'], 'n\n');
      const pruned = lines(await ok(s, ['image', 'prune', '-f']));
      return { said: asked.stdout + asked.stderr, pruned: pruned.join() === made[s.name].dangling };
    });
    expect(seen.podman).toEqual({
      said: 'WARNING! This command removes all dangling images.\nAre you sure you want to continue? [y/N] ',
      pruned: true,
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('image prune -a --filter label!= removes only the unused images without that label', async () => {
    const seen = await both(async (s) => {
      const pruned = lines(await ok(s, ['image', 'prune', '-a', '-f', '--filter', 'label!=prune=no']));
      return { pruned: pruned.join() === made[s.name].plain };
    });
    expect(seen.podman).toEqual({ pruned: true });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('image prune -a removes every image no container uses (its id once for two names) and keeps the one the running container uses', async () => {
    const seen = await both(async (s) => {
      const asked = await s.cli(['image', 'prune', '-a'], 'n\n');
      const pruned = lines(await ok(s, ['image', 'prune', '-a', '-f']));
      const left = lines(await ok(s, ['images', '-q']));
      const run = await s.cli(['run', '--rm', ...s.runFlags, s.image(), 'true']);
      return {
        said: asked.stdout + asked.stderr,
        pruned: pruned.join() === made[s.name].labelled,
        left: left.length,
        runs: run.code,
      };
    });
    expect(seen.podman).toEqual({
      said:
        'WARNING! This command removes all images without at least one container associated with them.\n' +
        'Are you sure you want to continue? [y/N] ',
      pruned: true,
      left: 1,
      runs: 0,
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });
});
