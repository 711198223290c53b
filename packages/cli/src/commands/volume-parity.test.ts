// Volumes with `ocikit` and with the real podman, side by side (issue 15): the same copy-up (files,
// owners, modes), the same fate of anonymous and named volumes under --rm, the same refusals. The
// image populates /data (owned by 1234:2345, mode 0751) and declares it a volume.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVolumeImage, podmanGlobalFlags, podmanRunFlags } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli, runProcess } from '../lib/test-cli.ts';

const roots: string[] = [];
const tmp = (base = tmpdir()) => {
  const dir = mkdtempSync(join(base, 'ocikit-vol-parity-'));
  roots.push(dir);
  return dir;
};
let ocikitRoot: string;
let podmanRoot: string;
let podmanImage: string;

interface Side {
  name: 'ocikit' | 'podman';
  cli(args: readonly string[]): Promise<CliResult>;
  image: () => string;
  runFlags: readonly string[];
}

const sides: Side[] = [
  {
    name: 'ocikit',
    cli: (args) => runCli(['--root', ocikitRoot, ...args]),
    image: () => 'vol',
    runFlags: [],
  },
  {
    name: 'podman',
    cli: (args) => runProcess('podman', [...podmanGlobalFlags(podmanRoot), ...args]),
    image: () => podmanImage,
    runFlags: podmanRunFlags,
  },
];

const run = (s: Side, flags: readonly string[], command: readonly string[]) =>
  s.cli(['run', ...s.runFlags, ...flags, s.image(), ...command]);

/** Runs `each` with both at once; their results by name. */
async function both<T>(each: (s: Side) => Promise<T>): Promise<Record<Side['name'], T>> {
  const [ocikit, podman] = await Promise.all(sides.map(each));
  return { ocikit: ocikit as T, podman: podman as T };
}

const volumeNames = async (s: Side) =>
  (await s.cli(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).sort();

beforeAll(async () => {
  ocikitRoot = tmp();
  // podman's overlay storage wants a real file system, not a tmpfs
  podmanRoot = tmp('/var/tmp');
  const version = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0)
    throw new Error(
      `podman cannot run here (${version.error?.message ?? version.stderr.trim()}): install it with tools/run.sh`,
    );
  // lower case: podman names an image pulled from oci:DIR after the path
  const layoutDir = join(tmpdir(), `ocikit-vol-parity-layout-${process.pid}`);
  roots.push(layoutDir);
  const layout = join(layoutDir, 'layout');
  buildVolumeImage(layout, 'vol');
  const copied = await runCli(['--root', ocikitRoot, 'copy', `oci:${layout}:vol`, 'local:vol']);
  expect(copied.code, copied.stderr).toBe(0);
  const pulled = await runProcess('podman', [
    ...podmanGlobalFlags(podmanRoot),
    'pull',
    '-q',
    `oci:${layout}:vol`,
  ]);
  if (pulled.code !== 0) throw new Error(`podman cannot load the test image: ${pulled.stderr.trim()}`);
  podmanImage = pulled.stdout.trim().split('\n').at(-1) ?? '';
}, 120_000);

afterAll(async () => {
  await runProcess('podman', [...podmanGlobalFlags(podmanRoot), 'rm', '-af']).catch(() => undefined);
  await runProcess('podman', [...podmanGlobalFlags(podmanRoot), 'volume', 'prune', '-f']).catch(
    () => undefined,
  );
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

describe('volumes: ocikit and podman side by side', () => {
  it('copy up the image files with their owners and modes into a new named volume, once', async () => {
    const list =
      'find /data | sort | while read f; do echo "$f $(stat -c "%u:%g %a" "$f")"; done; cat /data/sub/file';
    const seen = await both(async (s) => {
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
