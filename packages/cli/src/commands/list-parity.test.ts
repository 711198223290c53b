// `ps` and `images` listing flags (-q, --filter, -n, -l) and the bulk `-a` of rm, stop, kill,
// pause and unpause with `ocikit` and with the real podman 4.3, side by side (decision 205): the
// same containers and images selected, the same refusals, the same exit codes.
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
const both = <T>(each: (s: Side) => Promise<T>) => sides.both(each);
/** Per side: the test image's own name, left out of image listings (podman names it after a path). */
const original: Record<Side['name'], string> = { ocikit: '', podman: '' };

/** Runs a command that must succeed; its output. */
async function ok(s: Side, args: readonly string[]): Promise<string> {
  const r = await s.cli(args);
  expect(r.code, `${s.name} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const lines = (text: string) => text.split('\n').filter(Boolean).sort();
/** The names of the containers `ps -a` with `flags` lists. */
const psNames = async (s: Side, flags: readonly string[]) =>
  lines(await ok(s, ['ps', '-a', ...flags, '--format', '{{.Names}}']));
/** `NAME STATE` of every container (podman's {{.State}} is its status line: asked by filter). */
async function states(s: Side): Promise<string[]> {
  const out: string[] = [];
  for (const state of ['created', 'running', 'paused', 'exited'])
    for (const name of await psNames(s, ['--filter', `status=${state}`])) out.push(`${name} ${state}`);
  return out.sort();
}
/**
 * `REPOSITORY:TAG` of the images `images -a` with `flags` lists, but the test image's own name
 * (-a: the local engine lists an image no name keeps only with it, when a container uses it).
 */
const imageNames = async (s: Side, flags: readonly string[]) =>
  lines(await ok(s, ['images', '-a', ...flags, '--format', '{{.Repository}}:{{.Tag}}'])).filter(
    (l) => l !== original[s.name],
  );

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  await both(async (s) => {
    original[s.name] = lines(await ok(s, ['images', '--format', '{{.Repository}}:{{.Tag}}']))[0] ?? '';
    await ok(s, ['tag', s.image(), 'localhost/base:1']);
    const base = 'localhost/base:1';
    // made one after the other, for before=/since=/-n: exited (3, labelled), exited (0), created,
    // running, paused
    await s.cli([
      'run',
      ...s.runFlags,
      '--name',
      'ex3',
      '--label',
      'a=1',
      '--label',
      'b',
      base,
      'sh',
      '-c',
      'exit 3',
    ]);
    await ok(s, ['run', ...s.runFlags, '--name', 'ex0', '--label', 'a=2', base, 'true']);
    // images: one that loses its name (dangling; the created container uses it), one labelled
    // with three names, one made last
    await ok(s, ['commit', 'ex0', 'localhost/extra:1']);
    await ok(s, ['create', ...s.runFlags, '--name', 'cr', '--label', 'a=1', 'localhost/extra:1', 'true']);
    // running for the whole file (afterAll kills them): two minutes ran out before the last case
    // on a loaded machine, which then found ru exited
    await ok(s, ['run', '-d', ...s.runFlags, '--name', 'ru', base, 'sleep', '3600']);
    await ok(s, ['run', '-d', ...s.runFlags, '--name', 'pa', base, 'sleep', '3600']);
    await ok(s, ['pause', 'pa']);
    await ok(s, ['commit', '--change', 'LABEL k=v', 'ex3', 'localhost/extra:1']);
    await ok(s, ['tag', 'localhost/extra:1', 'localhost/extra:2']);
    await ok(s, ['tag', 'localhost/extra:1', 'localhost/other/x:3']);
    await new Promise((r) => setTimeout(r, 1100));
    await ok(s, ['commit', 'ex0', 'localhost/late:1']);
  });
}, 240_000);

afterAll(async () => {
  await sides?.close();
});

// each case makes dozens of CLI calls on each side: up to 180 s, for a loaded machine (one took
// over 60 s at a load average of 27)
describe('ps and images listing flags: ocikit and podman side by side', () => {
  it('ps -q prints ids (running ones by filter), -aq every one, 12 hex digits (--no-trunc 64)', async () => {
    const seen = await both(async (s) => {
      const ids = async (flags: string[]) => (await ok(s, ['ps', ...flags])).split('\n').filter(Boolean);
      const named = lines(await ok(s, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}']));
      const nameOf = (id: string) => named.find((l) => l.startsWith(id))?.split(' ')[1];
      // (without -a the local engine lists paused containers too, as docker; podman only running ones)
      const running = await ids(['-q', '--filter', 'status=running']);
      const all = await ids(['-aq']);
      const whole = await ids(['-aq', '--no-trunc']);
      return {
        running: running.map(nameOf).sort(),
        all: all.length,
        short: all.every((id) => /^[0-9a-f]{12}$/.test(id)),
        whole: whole.every((id) => /^[0-9a-f]{64}$/.test(id)) && whole.length,
        latest: (await ids(['-l', '-q'])).map(nameOf),
      };
    });
    expect(seen.podman).toEqual({ running: ['ru'], all: 5, short: true, whole: 5, latest: ['pa'] });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('ps --filter: values of one key select any, different keys all, label values all', async () => {
    const filters: string[][] = [
      ['status=exited'],
      ['status=created'],
      ['status=paused'],
      ['status=exited', 'status=running'],
      ['label=a=1'],
      ['label=a'],
      ['label=a=1', 'label=b'],
      ['label=a=1', 'label=a=2'],
      ['label=a=1', 'status=created'],
      ['exited=3'],
      ['exited=0'],
      ['exited=3', 'exited=0'],
      ['name=^ex'],
      ['name=ex0', 'name=cr'],
      ['ancestor=localhost/base:1'],
      ['ancestor=localhost/base'],
      ['ancestor=localhost/extra:1'],
      ['before=cr'],
      ['since=cr'],
      ['since=ex3', 'status=exited'],
      ['until=2100-01-01T00:00:00Z', 'status=exited'],
      ['until=1970-01-01T00:00:00Z'],
    ];
    const seen = await both(async (s) => {
      const out: Record<string, string[]> = {};
      for (const f of filters)
        out[f.join(' ')] = await psNames(
          s,
          f.flatMap((v) => ['--filter', v]),
        );
      // id= is an unanchored regular expression: a piece from the middle of one id
      const id = (await ok(s, ['ps', '-aq', '--no-trunc', '--filter', 'name=ru'])).trim();
      out.id = await psNames(s, ['--filter', `id=${id.slice(20, 30)}`]);
      out['-f short'] = await psNames(s, ['-f', 'status=paused']);
      return out;
    });
    expect(seen.podman).toMatchObject({
      'status=exited': ['ex0', 'ex3'],
      'status=exited status=running': ['ex0', 'ex3', 'ru'],
      'label=a=1 label=b': ['ex3'],
      'label=a=1 label=a=2': [],
      'label=a=1 status=created': ['cr'],
      'exited=0': ['ex0'],
      'ancestor=localhost/base:1': ['ex0', 'ex3', 'pa', 'ru'],
      'ancestor=localhost/extra:1': ['cr'],
      'ancestor=localhost/base': [],
      'before=cr': ['ex0', 'ex3'],
      'since=cr': ['pa', 'ru'],
      'until=2100-01-01T00:00:00Z status=exited': ['ex0', 'ex3'],
      'until=1970-01-01T00:00:00Z': [],
      id: ['ru'],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('ps -n N and --last N show the N newest containers, running or not; -l the newest', async () => {
    const seen = await both(async (s) => {
      const names = async (flags: string[]) => lines(await ok(s, ['ps', ...flags, '--format', '{{.Names}}']));
      return {
        two: await names(['-n', '2']),
        last: await names(['--last', '1']),
        latest: await names(['--latest']),
        filtered: await names(['-n', '1', '--filter', 'status=exited']),
      };
    });
    expect(seen.podman).toEqual({ two: ['pa', 'ru'], last: ['pa'], latest: ['pa'], filtered: ['ex0'] });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('images -q prints each image id once; --filter dangling, label, reference, before, since', async () => {
    const filters: string[][] = [
      ['dangling=true'],
      ['dangling=false'],
      ['label=k=v'],
      ['label=k', 'label=z'],
      ['label=k=w'],
      ['reference=extra'],
      ['reference=x'],
      ['reference=localhost/*'],
      ['reference=localhost/*/*'],
      ['reference=extra:*'],
      ['reference=extra:3'],
      ['reference=extra', 'reference=late'],
      ['before=localhost/late:1', 'dangling=false'],
      ['since=localhost/base:1', 'dangling=false'],
      ['until=2100-01-01T00:00:00Z', 'dangling=false'],
      ['until=1970-01-01T00:00:00Z'],
    ];
    const seen = await both(async (s) => {
      const out: Record<string, unknown> = {};
      for (const f of filters)
        out[f.join(' ')] = await imageNames(
          s,
          f.flatMap((v) => ['--filter', v]),
        );
      const ids = (await ok(s, ['images', '-a', '-q'])).split('\n').filter(Boolean);
      const whole = (await ok(s, ['images', '-a', '-q', '--no-trunc'])).split('\n').filter(Boolean);
      // base (two names), extra (three), late, the dangling one
      out.ids = [ids.length, new Set(ids).size, ids.every((id) => /^[0-9a-f]{12}$/.test(id))];
      out.whole = whole.every((id) => /^sha256:[0-9a-f]{64}$/.test(id));
      const badUntil = await s.cli(['images', '--filter', 'until=bogus']);
      out.badUntil = [badUntil.code, badUntil.stdout];
      out.quietFiltered = (await ok(s, ['images', '-q', '-f', 'reference=extra']))
        .split('\n')
        .filter(Boolean).length;
      return out;
    });
    expect(seen.podman).toMatchObject({
      'dangling=true': ['<none>:<none>'],
      'label=k label=z': ['localhost/extra:1', 'localhost/extra:2', 'localhost/other/x:3'],
      'reference=x': ['localhost/extra:1', 'localhost/extra:2', 'localhost/other/x:3'],
      'reference=extra:3': [],
      ids: [4, 4, true],
      whole: true,
      quietFiltered: 1,
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('bad filters and flags are refused with exit 125 and print nothing', async () => {
    const runs = [
      ['ps', '--filter', 'bogus=1'],
      ['ps', '--filter', 'status=bogus'],
      ['ps', '--filter', 'exited=x'],
      ['ps', '--filter', 'label'],
      ['ps', '--filter', 'before=nope'],
      ['ps', '--filter', 'until=bogus'],
      ['ps', '--filter', 'until=1h', '--filter', 'until=2h'],
      ['ps', '-n', 'x'],
      ['images', '--filter', 'bogus=1'],
      ['images', '--filter', 'dangling=x'],
      ['images', '--filter', 'label'],
      ['images', '--filter', 'since=nope'],
      ['images', '--filter', 'dangling=true', '--filter', 'dangling=false'],
      ['rm', '-a', 'ex0'],
      ['stop', '-a', 'ru'],
      ['kill', '-a', 'ru'],
      ['pause', '-a', 'ru'],
      ['unpause', '-a', 'pa'],
    ];
    const seen = await both(async (s) => {
      const out: string[] = [];
      for (const args of runs) {
        const r = await s.cli(args);
        out.push(`${args.join(' ')}: ${r.code} ${JSON.stringify(r.stdout)}`);
      }
      return { out, states: await states(s) };
    });
    expect(seen.podman.out.every((l) => l.endsWith(': 125 ""'))).toBe(true);
    expect(seen.ocikit).toEqual(seen.podman);
    // a key podman has that a container summary cannot answer: refused by name, not ignored
    const pod = await sides.ocikit.cli(['ps', '-a', '--filter', 'pod=p']);
    expect(pod.code).toBe(125);
    expect(pod.stderr).toContain('"pod"');
  }, 180_000);

  it('rm of several: missing one → nothing removed, exit 1; a running one → the others removed, exit 2', async () => {
    const seen = await both(async (s) => {
      const missing = await s.cli(['rm', 'cr', 'nope']);
      const afterMissing = await psNames(s, []);
      const running = await s.cli(['rm', 'ex3', 'ru', 'ex0']);
      return {
        missing: [missing.code, missing.stdout],
        afterMissing,
        running: [running.code, lines(running.stdout)],
        left: await psNames(s, []),
        forcedMissing: (await s.cli(['rm', '-f', 'nope'])).code,
      };
    });
    expect(seen.podman).toEqual({
      missing: [1, ''],
      afterMissing: ['cr', 'ex0', 'ex3', 'pa', 'ru'],
      running: [2, ['ex0', 'ex3']],
      left: ['cr', 'pa', 'ru'],
      forcedMissing: 0,
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('pause -a, unpause -a, kill -a, stop -a, rm -a act on the containers podman picks and print their ids', async () => {
    const seen = await both(async (s) => {
      const step = async (args: string[]) => {
        const r = await s.cli(args);
        const ids = r.stdout.split('\n').filter(Boolean);
        return [r.code, ids.length, ids.every((id) => /^[0-9a-f]{64}$/.test(id)), await states(s)];
      };
      const running = (name: string) =>
        ok(s, ['run', '-d', ...s.runFlags, '--name', name, 'localhost/base:1', 'sleep', '3600']);
      // as the rm test leaves them, when run alone (-f: missing ones skipped)
      await ok(s, ['rm', '-f', 'ex0', 'ex3']);
      await running('ru2');
      const pause = await step(['pause', '-a']);
      const unpause = await step(['unpause', '-a']);
      await ok(s, ['pause', 'pa']);
      const kill = await step(['kill', '-a']);
      await running('ru3');
      const stop = await step(['stop', '-t', '1', '-a']);
      await running('ru4');
      const rm = await step(['rm', '-a']);
      const rmForced = await step(['rm', '-a', '-f']);
      return { pause, unpause, kill, stop, rm, rmForced };
    });
    expect(seen.podman).toEqual({
      pause: [0, 2, true, ['cr created', 'pa paused', 'ru paused', 'ru2 paused']],
      unpause: [0, 3, true, ['cr created', 'pa running', 'ru running', 'ru2 running']],
      kill: [0, 3, true, ['cr created', 'pa exited', 'ru exited', 'ru2 exited']],
      stop: [0, 5, true, ['cr created', 'pa exited', 'ru exited', 'ru2 exited', 'ru3 exited']],
      rm: [2, 5, true, ['ru4 running']],
      rmForced: [0, 1, true, []],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 120_000);
});
