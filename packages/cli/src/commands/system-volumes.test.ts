// `system df` and `system prune --volumes` with `ocikit` and with the real podman 4.3, side by side
// (issue 15, decision 196): the same volumes counted, the same ones removed, the same refusals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
let host: string;
const both = <T>(each: (s: Side) => Promise<T>) => sides.both(each);

/** Runs a command that must succeed; its output. */
async function ok(s: Side, args: readonly string[]): Promise<string> {
  const r = await s.cli(args);
  expect(r.code, `${s.name} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const volumeNames = async (s: Side) =>
  (await ok(s, ['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort();
const volumesLine = async (s: Side) =>
  (await ok(s, ['system', 'df', '--format', '{{.Type}}:{{.Total}}:{{.Active}}']))
    .split('\n')
    .find((l) => l.startsWith('Local Volumes'));

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  host = mkdtempSync(join(tmpdir(), 'ocikit-sys-vol-'));
  writeFileSync(join(host, 'f'), Buffer.alloc(5000, 1));
  // the same volumes on both: one an exited container wrote 3000 bytes to, one no container uses
  // with 12345 bytes, a tmpfs and a bind volume (0 bytes: their data is elsewhere), one a running
  // container uses
  await both(async (s) => {
    const dd = (file: string, bytes: number) => [
      'busybox',
      'dd',
      'if=/dev/zero',
      `of=${file}`,
      `bs=${bytes}`,
      'count=1',
    ];
    await ok(s, [
      'run',
      ...s.runFlags,
      '--name',
      'writer',
      '-v',
      'used:/data',
      s.image(),
      ...dd('/data/f', 3000),
    ]);
    await ok(s, ['run', '--rm', ...s.runFlags, '-v', 'unused:/data', s.image(), 'mkdir', '/data/sub']);
    await ok(s, ['run', '--rm', ...s.runFlags, '-v', 'unused:/data', s.image(), ...dd('/data/sub/x', 12345)]);
    await ok(s, ['volume', 'create', '--opt', 'type=tmpfs', 'tmpv']);
    await ok(s, [
      'volume',
      'create',
      '--opt',
      'type=none',
      '--opt',
      'o=bind',
      '--opt',
      `device=${host}`,
      'bindv',
    ]);
    await ok(s, [
      'run',
      '-d',
      ...s.runFlags,
      '--name',
      'runner',
      '-v',
      'keep:/data',
      s.image(),
      // running for the whole file (afterAll kills it): a minute ran out on a loaded machine, and
      // prune then took it and its volume
      'sleep',
      '3600',
    ]);
  });
}, 120_000);

afterAll(async () => {
  await sides?.close();
  if (host) rmSync(host, { recursive: true, force: true });
});

describe('system df and system prune --volumes: ocikit and podman side by side', () => {
  it('system df counts the volumes: active while a container (any state) mounts one, sizes of their data', async () => {
    const seen = await both(volumesLine);
    expect(seen.podman).toBe('Local Volumes:5:2');
    expect(seen.ocikit).toBe(seen.podman);
    // podman's sizes for the same: 15.35kB, 12.35kB (80%) reclaimable
    const podman = await ok(sides.podman, [
      'system',
      'df',
      '--format',
      '{{.Type}} {{.Size}} {{.Reclaimable}}',
    ]);
    expect(podman).toContain('Local Volumes 15.35kB 12.35kB (80%)\n');
    const rows = JSON.parse(await ok(sides.ocikit, ['--json', 'system', 'df'])) as { type: string }[];
    expect(rows.find((r) => r.type === 'Local Volumes')).toEqual({
      type: 'Local Volumes',
      total: 5,
      active: 2,
      size: 15345,
      reclaimable: 12345,
    });
    const table = await ok(sides.ocikit, ['system', 'df']);
    expect(table).toMatch(/\nLocal Volumes +5 +2 +15\.35kB +12\.35kB \(80%\)\n/);
    // and the same sizes, in the same words, through --format
    const ours = await ok(sides.ocikit, ['system', 'df', '--format', '{{.Type}} {{.Size}} {{.Reclaimable}}']);
    expect(ours).toContain('Local Volumes 15.35kB 12.35kB (80%)\n');
  });

  it('bad flags are refused, nothing removed (exit 1: ocikit commands that run no container, podman 125)', async () => {
    const seen = await both(async (s) => {
      const df = await s.cli(['system', 'df', '--volumes']);
      const prune = await s.cli(['system', 'prune', '-f', '--volumes', '--bogus']);
      return { codes: [df.code, prune.code], stderr: df.stderr + prune.stderr };
    });
    expect(seen.podman.codes).toEqual([125, 125]);
    expect(seen.ocikit).toEqual({
      codes: [1, 1],
      stderr:
        'ocikit system df: --volumes is for prune\n' +
        "ocikit system: Unknown option '--bogus' (run 'ocikit system --help' to see its flags)\n",
    });
    expect(await both(volumeNames)).toEqual({
      ocikit: ['bindv', 'keep', 'tmpv', 'unused', 'used'],
      podman: ['bindv', 'keep', 'tmpv', 'unused', 'used'],
    });
  });

  it('prune asks about volumes only with --volumes, and without it leaves every volume', async () => {
    const line = '\t- all volumes not used by at least one container\n';
    const seen = await both(async (s) => {
      const withVolumes = await s.cli(['system', 'prune', '--volumes'], 'n\n');
      const without = await s.cli(['system', 'prune'], 'n\n');
      const pruned = await ok(s, ['system', 'prune', '-f']);
      return {
        asked: [withVolumes, without].map((r) => `${r.code} ${(r.stdout + r.stderr).includes(line)}`),
        pruned: pruned.replace(/\n[0-9a-f]{64}\n/, '\nID\n').replace(/space: .*/, 'space:'),
        volumes: await volumeNames(s),
      };
    });
    expect(seen.podman).toEqual({
      asked: ['0 true', '0 false'],
      pruned: 'Deleted Containers\nID\nTotal reclaimed space:\n',
      volumes: ['bindv', 'keep', 'tmpv', 'unused', 'used'],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('prune --volumes removes every volume no container uses, named ones too; never one in use', async () => {
    const seen = await both(async (s) => ({
      pruned: (await ok(s, ['system', 'prune', '-f', '--volumes'])).replace(/space: .*/, 'space:'),
      volumes: await volumeNames(s),
    }));
    expect(seen.podman).toEqual({
      pruned: 'Deleted Volumes\nbindv\ntmpv\nunused\nused\nTotal reclaimed space:\n',
      volumes: ['keep'],
    });
    expect(seen.ocikit).toEqual(seen.podman);
    // a bind volume's device is the host's: it stays
    expect(readFileSync(join(host, 'f'))).toHaveLength(5000);
  });

  it('a created, never started container is inactive in df and removed by prune, as podman', async () => {
    const seen = await both(async (s) => {
      // (a first attempt's container goes first: a retry, decision 209, must not meet "name in use")
      await s.cli(['rm', '-f', 'made']);
      await ok(s, ['create', ...s.runFlags, '--name', 'made', s.image(), 'true']);
      const df = (await ok(s, ['system', 'df', '--format', '{{.Type}}:{{.Total}}:{{.Active}}']))
        .split('\n')
        .find((l) => l.startsWith('Containers'));
      const pruned = (await ok(s, ['system', 'prune', '-f']))
        .replace(/\n[0-9a-f]{64}\n/, '\nID\n')
        .replace(/space: .*/, 'space:');
      const names = (await ok(s, ['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean);
      return { df, pruned, names };
    });
    expect(seen.podman).toEqual({
      df: 'Containers:2:1',
      pruned: 'Deleted Containers\nID\nTotal reclaimed space:\n',
      names: ['runner'],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });
});
