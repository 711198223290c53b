// `ocikit volume …` and `run -v/--mount/--volumes-from`, `rm -v` end to end: the real CLI, real runc,
// the busybox test image in the local store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, storeBusybox } from '../lib/test-cli.ts';

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-cli-vol-'));
  made.push(dir);
  return dir;
};
let root: string;
const cli = (args: string[], stdin?: string) =>
  runCli(['--root', root, ...args], stdin !== undefined ? { stdin } : {});

beforeAll(async () => {
  root = tmp();
  await storeBusybox(root);
});

afterAll(async () => {
  const ids = (await cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await cli(['rm', '-f', ...ids]);
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('ocikit volume', () => {
  it('create, ls, inspect, rm as docker prints them; a missing volume is NotFound', async () => {
    expect(await cli(['volume', 'create', '--label', 'app=web', 'web-data'])).toMatchObject({
      code: 0,
      stdout: 'web-data\n',
    });
    const tmpfs = await cli(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'o=size=1m']);
    expect(tmpfs.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const anon = tmpfs.stdout.trim();
    const ls = await cli(['volume', 'ls']);
    expect(ls.stdout.split('\n')[0]).toMatch(/^DRIVER\s+VOLUME NAME$/);
    expect(ls.stdout).toMatch(/^local\s+web-data$/m);
    expect((await cli(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).sort()).toEqual(
      [anon, 'web-data'].sort(),
    );
    expect((await cli(['volume', 'ls', '--format', '{{.Name}} {{.Label "app"}}'])).stdout).toContain(
      'web-data web\n',
    );
    const inspected = JSON.parse((await cli(['volume', 'inspect', 'web-data', anon])).stdout) as Record<
      string,
      unknown
    >[];
    expect(inspected[0]).toMatchObject({
      Name: 'web-data',
      Driver: 'local',
      Scope: 'local',
      Labels: { app: 'web' },
      Mountpoint: join(root, 'volumes', 'web-data', '_data'),
    });
    expect(inspected[1]?.Options).toEqual({ type: 'tmpfs', o: 'size=1m' });
    const missing = await cli(['volume', 'inspect', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no such volume "nope"');
    const badName = await cli(['volume', 'create', 'a/b']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('invalid volume name');
    expect((await cli(['volume', 'rm', 'web-data', anon])).stdout).toBe(`web-data\n${anon}\n`);
    expect((await cli(['volume', 'ls', '-q'])).stdout).toBe('');
  });

  it('run -v NAME:/path keeps data across containers and rm; a volume in use is not removed; prune', async () => {
    const first = await cli([
      'run',
      '--name',
      'vol-w',
      '-v',
      'keep:/data',
      'busybox',
      'sh',
      '-c',
      'echo kept > /data/f',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const mounts = await cli(['inspect', '--format', '{{json .Mounts}}', 'vol-w']);
    expect(JSON.parse(mounts.stdout), mounts.stderr).toEqual([
      {
        Type: 'volume',
        Name: 'keep',
        Source: join(root, 'volumes', 'keep', '_data'),
        Destination: '/data',
        RW: true,
      },
    ]);
    const refused = await cli(['volume', 'rm', 'keep']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('volume keep is in use by container vol-w');
    expect((await cli(['rm', 'vol-w'])).code).toBe(0);
    const second = await cli([
      'run',
      '--rm',
      '--mount',
      'type=volume,src=keep,dst=/d,ro',
      'busybox',
      'sh',
      '-c',
      'cat /d/f; touch /d/x || true',
    ]);
    expect(second.stdout).toBe('kept\n');
    expect(second.stderr).toContain('Read-only file system');
    expect((await cli(['volume', 'ls', '-q'])).stdout).toBe('keep\n');
    const pruned = await cli(['volume', 'prune', '-f']);
    expect(pruned.stdout).toMatch(/^Deleted Volumes:\nkeep\n\nTotal reclaimed space: 5B\n$/);
  });

  it('--rm removes anonymous volumes, never named ones; rm -v; --volumes-from; --mount bind and tmpfs', async () => {
    const host = tmp();
    writeFileSync(join(host, 'h'), 'host\n');
    const r = await cli([
      'run',
      '--rm',
      '-v',
      '/anon',
      '-v',
      'named:/named',
      'busybox',
      'sh',
      '-c',
      'echo a > /anon/a; echo n > /named/n',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((await cli(['volume', 'ls', '-q'])).stdout).toBe('named\n');
    expect(
      (
        await cli([
          'create',
          '--name',
          'vol-src',
          '-v',
          '/anon',
          '--mount',
          `type=bind,source=${host},target=/h`,
          'busybox',
          'true',
        ])
      ).code,
    ).toBe(0);
    const from = await cli([
      'run',
      '--rm',
      '--volumes-from',
      'vol-src:ro',
      '--mount',
      'type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770',
      'busybox',
      'sh',
      '-c',
      'cat /h/h; ls -d /anon; stat -c %a /t; touch /anon/x 2>/dev/null || echo ro',
    ]);
    expect(from.stdout, from.stderr).toBe('host\n/anon\n1770\nro\n');
    expect((await cli(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect((await cli(['rm', '-v', 'vol-src'])).code).toBe(0);
    expect((await cli(['volume', 'ls', '-q'])).stdout).toBe('named\n');
    expect((await cli(['volume', 'rm', 'named'])).code).toBe(0);
  });

  it('--mount volume-nocopy and -v :nocopy leave a new volume empty over a populated path', async () => {
    const r = await cli([
      'run',
      '--rm',
      '--mount',
      'type=volume,src=nc1,dst=/bin/x,volume-nocopy',
      '-v',
      'nc2:/etc:nocopy',
      '-v',
      'nc3:/root:ro,Z',
      'busybox',
      'sh',
      '-c',
      // the container's generated /etc/hosts and /etc/hostname are mounted on top of the volume (as
      // podman's are): only their mount points are there
      'ls -A /etc | grep -vxE "hosts|hostname" | wc -l; ls -A /etc | wc -l; ls -A /root | wc -l',
    ]);
    expect(r.stdout.replace(/ /g, ''), r.stderr).toBe('0\n2\n0\n');
    expect((await cli(['volume', 'rm', 'nc1', 'nc2', 'nc3'])).code).toBe(0);
  });

  it('gives typed errors with hints for bad -v, --mount and --volumes-from', async () => {
    for (const [args, text] of [
      [['-v', 'rel/path:/x'], 'is neither an absolute host path nor a volume name'],
      [['-v', 'name:rel'], 'the path in the container must be absolute'],
      [['-v', 'name:/x:rx'], 'unknown mode "rx"'],
      [['--mount', 'type=bind,dst=/x'], 'a bind needs src='],
      [['--mount', 'type=nfs,dst=/x'], 'type must be bind, volume or tmpfs'],
      [['--mount', 'type=volume,src=v,dst=/x,bogus=1'], 'unknown field "bogus"'],
      [['--mount', 'type=tmpfs,dst=/x,tmpfs-mode=999'], 'tmpfs-mode must be octal'],
      [['--volumes-from', 'c:rx'], 'write CONTAINER[:ro|rw]'],
      [['-v', '/h:/x:nocopy'], 'nocopy is for volumes'],
      [['-v', 'n:/x:ro,rw'], 'ro and rw together'],
      [['--mount', 'type=bind,src=/h,dst=/x,volume-nocopy'], 'volume-nocopy is for type=volume'],
    ] as const) {
      const r = await cli(['run', '--rm', ...args, 'busybox', 'true']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr).toContain(text);
    }
    const missing = await cli(['run', '--rm', '--volumes-from', 'no-such', 'busybox', 'true']);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain('no-such');
  });
});
