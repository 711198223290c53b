// `ps --filter volume=` with `ocikit` and with the real podman 4.3, side by side (decision 219): a
// named volume (by -v and by --mount), an anonymous one and a bind mount, matched by the volume's
// name or the bind's host path, alone or with `:DEST`; a path in the container alone matches none.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
let bind: string;

const NAMES = ['pv-named', 'pv-mount', 'pv-anon', 'pv-bind', 'pv-none'];

/** Runs a command that must succeed; its output. */
async function ok(s: Side, args: readonly string[]): Promise<string> {
  const r = await s.cli(args);
  expect(r.code, `${s.name} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  bind = mkdtempSync(join(tmpdir(), 'ocikit-ps-volume-'));
}, 240_000);

afterAll(async () => {
  await sides?.close();
  if (bind) rmSync(bind, { recursive: true, force: true });
});

describe('ps --filter volume=: ocikit and podman side by side', () => {
  it('selects by volume name or bind source, with or without :DEST', async () => {
    const seen = await sides.both(async (s) => {
      // what a first attempt left (decision 209): the containers with their anonymous volumes, the named one
      // one by one: `rm` of several removes none when one is missing
      for (const name of NAMES) await s.cli(['rm', '-f', '-v', name]);
      await s.cli(['volume', 'rm', '-f', 'pv-vol']);
      const create = (name: string, flags: readonly string[]) =>
        ok(s, ['create', ...s.runFlags, '--name', name, ...flags, s.image(), 'true']);
      await create('pv-named', ['-v', 'pv-vol:/data']);
      await create('pv-mount', ['--mount', 'type=volume,source=pv-vol,target=/m2']);
      await create('pv-anon', ['-v', '/anon']);
      await create('pv-bind', ['-v', `${bind}:/b`]);
      await create('pv-none', []);
      const anonymous = (await ok(s, ['volume', 'ls', '-q'])).split('\n').find((v) => v !== 'pv-vol' && v);
      const values = [
        'pv-vol',
        'pv-vol:/data',
        'pv-vol:/m2',
        'pv-vol:/b',
        'pv-vol:',
        `${anonymous}`,
        `${anonymous}:/anon`,
        bind,
        `${bind}:/b`,
        '/data',
        '/anon',
        '/b',
        'nothing',
      ];
      const selected = async (filters: readonly string[]) =>
        (
          await ok(s, [
            'ps',
            '-a',
            ...filters.flatMap((f) => ['--filter', `volume=${f}`]),
            '--format',
            '{{.Names}}',
          ])
        )
          .split('\n')
          .filter(Boolean)
          .sort();
      const out: Record<string, string[]> = {};
      for (const v of values)
        out[v.replace(anonymous ?? '', 'ANON').replace(bind, 'BIND')] = await selected([v]);
      out.two = await selected(['pv-vol', bind]);
      return out;
    });
    expect(seen.podman).toMatchObject({
      'pv-vol': ['pv-mount', 'pv-named'],
      'pv-vol:/data': ['pv-named'],
      ANON: ['pv-anon'],
      BIND: ['pv-bind'],
      '/data': [],
      two: ['pv-bind', 'pv-mount', 'pv-named'],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);
});
