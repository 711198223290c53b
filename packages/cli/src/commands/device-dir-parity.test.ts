// `--device DIR` with `ocikit` and with the real podman 4.3, side by side (decision 207): every
// character and block node under the directory (subdirectories too; links, files and fifos left
// out) at the same path under the container's directory, with its numbers, mode and owner; the
// permissions apply to each; a directory without nodes is refused. The nodes are made with mknod
// in a directory of the test's own.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
let host: string;
let devs: string;

/** `run --rm` of `sh -c script` with `flags`: its exit code and output. */
async function inside(s: Side, flags: readonly string[], script: string): Promise<string> {
  const r = await s.cli(['run', '--rm', ...s.runFlags, ...flags, s.image(), 'sh', '-c', script]);
  return `${r.code}\n${r.stdout}`;
}

/** Each path under `dir` (sorted) with its type, mode, owner and device numbers. */
const listing = (dir: string) =>
  `find ${dir} | sort | while read f; do stat -c '%n %F %a %u:%g %t,%T' "$f"; done`;

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  host = mkdtempSync(join(tmpdir(), 'ocikit-device-dir-'));
  devs = join(host, 'devs');
  mkdirSync(join(devs, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(host, 'empty', 'sub'), { recursive: true });
  writeFileSync(join(host, 'empty', 'file'), '');
  const mknod = (path: string, major: number, minor: number, mode: string) =>
    execFileSync('mknod', ['-m', mode, join(devs, path), 'c', String(major), String(minor)]);
  mknod('null', 1, 3, '666');
  execFileSync('chown', ['12:34', join(devs, 'null')]);
  mknod('sub/zero', 1, 5, '600');
  mknod('sub/deeper/loop-control', 10, 237, '660');
  symlinkSync('null', join(devs, 'link'));
  writeFileSync(join(devs, 'file'), '');
  execFileSync('mkfifo', [join(devs, 'fifo')]);
}, 240_000);

afterAll(async () => {
  await sides?.close();
  if (host) rmSync(host, { recursive: true, force: true });
});

describe('--device DIR: ocikit and podman side by side', () => {
  it('gives every node under DIR at the same paths, or under CONTAINER; PERMS hold for each', async () => {
    const seen = await sides.both(async (s) => [
      await inside(s, ['--device', devs], `${listing(devs)}; echo x > ${devs}/null && echo wrote`),
      await inside(
        s,
        ['--device', `${devs}:/dev/foo:r`],
        // runc allows /dev/null whatever the rule; loop-control only as the rule says
        `${listing('/dev/foo')}; (echo x > /dev/foo/sub/deeper/loop-control) 2>&1 | sed 's/.*: //'`,
      ),
    ]);
    const nodes = (root: string) => [
      `${root}/null character special file 666 12:34 1,3`,
      `${root}/sub/deeper/loop-control character special file 660 0:0 a,ed`,
      `${root}/sub/zero character special file 600 0:0 1,5`,
    ];
    for (const [i, root] of [devs, '/dev/foo'].entries())
      expect(seen.podman[i]?.split('\n').filter((l) => l.includes('special'))).toEqual(nodes(root));
    expect(seen.podman[0]).toMatch(/^0\n[\s\S]*\nwrote\n$/);
    expect(seen.podman[1]).toMatch(/^0\n[\s\S]*\nOperation not permitted\n$/);
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('refuses a directory without device nodes: exit 125, nothing created', async () => {
    const seen = await sides.both(async (s) => {
      await s.cli(['rm', '-f', 'dev-empty']);
      const r = await s.cli([
        'create',
        ...s.runFlags,
        '--name',
        'dev-empty',
        '--device',
        join(host, 'empty'),
        s.image(),
        'true',
      ]);
      const exists = (await s.cli(['container', 'exists', 'dev-empty'])).code === 0;
      return { code: r.code, exists };
    });
    expect(seen.podman).toEqual({ code: 125, exists: false });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);
});
