// Volumes with `ocikit` and with the real podman, side by side (issue 15): the same copy-up (files,
// owners, modes), the same fate of anonymous and named volumes under --rm, the same refusals. The
// image populates /data (owned by 1234:2345, mode 0751) and declares it a volume.
import { buildVolumeImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
const both = <T>(each: (s: Side) => Promise<T>) => sides.both(each);

const run = (s: Side, flags: readonly string[], command: readonly string[]) =>
  s.cli(['run', ...s.runFlags, ...flags, s.image(), ...command]);

const volumeNames = async (s: Side) =>
  (await s.cli(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).sort();

beforeAll(async () => {
  sides = await startSides('vol', buildVolumeImage);
}, 120_000);

afterAll(() => sides?.close());

// each case first removes what a first attempt may have left (rm -f / volume rm -f: missing ones
// are fine), so a retried case (decision 209) starts from the same state
describe('volumes: ocikit and podman side by side', () => {
  it('copy up the image files with their owners and modes into a new named volume, once', async () => {
    const list =
      'find /data | sort | while read f; do echo "$f $(stat -c "%u:%g %a" "$f")"; done; cat /data/sub/file';
    const seen = await both(async (s) => {
      await s.cli(['volume', 'rm', '-f', 'parity-data']);
      // as the owner: ocikit's containers have runc's default capabilities (no CAP_DAC_OVERRIDE), podman's more
      const first = await run(s, ['--rm', '-u', '1234:2345', '-v', 'parity-data:/data'], ['sh', '-c', list]);
      // the copy-up happens once: what a container removed stays removed
      await run(s, ['--rm', '-u', '1234:2345', '-v', 'parity-data:/data'], ['sh', '-c', 'rm /data/sub/file']);
      const second = await run(s, ['--rm', '-v', 'parity-data:/data'], ['ls', '/data/sub']);
      await s.cli(['volume', 'rm', 'parity-data']);
      return { first: first.stdout, code: first.code, second: second.stdout };
    });
    expect(seen.podman).toEqual({
      first: '/data 1234:2345 751\n/data/sub 1234:2345 755\n/data/sub/file 1234:2345 640\nfrom the image\n',
      code: 0,
      second: '',
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('leave a new volume empty with -v NAME:/path:nocopy', async () => {
    const seen = await both(async (s) => {
      await s.cli(['volume', 'rm', '-f', 'parity-nc']);
      const v = await run(
        s,
        ['--rm', '-u', '1234:2345', '-v', 'parity-nc:/data:nocopy'],
        ['ls', '-A', '/data'],
      );
      await s.cli(['volume', 'rm', 'parity-nc']);
      return `${v.code} ${v.stdout}`;
    });
    expect(seen.podman).toBe('0 ');
    expect(seen.ocikit).toBe(seen.podman);
  });

  it('remove anonymous volumes (the image Volumes, -v /path) under --rm and keep named ones; refuse rm in use', async () => {
    const seen = await both(async (s) => {
      await s.cli(['rm', '-f', '-v', 'parity-user']);
      await s.cli(['volume', 'rm', '-f', 'parity-named']);
      const before = await volumeNames(s);
      const r = await run(
        s,
        ['--rm', '-u', '1234:2345', '-v', '/anon', '-v', 'parity-named:/named'],
        ['sh', '-c', 'cat /data/sub/file; ls -d /named /anon'],
      );
      const after = await volumeNames(s);
      const created = await s.cli([
        'create',
        ...s.runFlags,
        '--name',
        'parity-user',
        '-v',
        'parity-named:/n',
        s.image(),
        'true',
      ]);
      const refused = await s.cli(['volume', 'rm', 'parity-named']);
      await s.cli(['rm', '-v', 'parity-user']);
      const removed = await s.cli(['volume', 'rm', 'parity-named']);
      return {
        out: r.stdout,
        code: r.code,
        added: after.filter((n) => !before.includes(n)),
        created: created.code,
        refused: refused.code !== 0,
        removed: removed.code,
        left: (await volumeNames(s)).filter((n) => !before.includes(n)),
      };
    });
    expect(seen.podman).toEqual({
      out: 'from the image\n/anon\n/named\n',
      code: 0,
      added: ['parity-named'],
      created: 0,
      refused: true,
      removed: 0,
      left: [],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });
});
