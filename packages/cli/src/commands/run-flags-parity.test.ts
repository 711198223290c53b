// `run`/`create` flags podman 4.3 scripts use, with `ocikit` and with the real podman side by side:
// the same container config (inspect) and the same refusals of bad input (exit 125, nothing made).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
let host: string;
const both = <T>(each: (s: Side) => Promise<T>) => sides.both(each);

/** Runs a command that must succeed; its output, trimmed. */
async function ok(s: Side, args: readonly string[]): Promise<string> {
  const r = await s.cli(args);
  expect(r.code, `${s.name} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

/** `create` with bad flags: its exit code, whether stderr names `flag`, and whether `name` exists after. */
async function refused(s: Side, flags: readonly string[], name: string, flag: string) {
  const r = await s.cli(['create', ...s.runFlags, '--name', name, ...flags, s.image(), 'true']);
  const exists = (await s.cli(['container', 'exists', name])).code === 0;
  return { code: r.code, named: r.stderr.includes(flag) || s.name === 'podman', exists };
}

/** Polls `logs name` until its output includes `text` (up to 30 s: a loaded machine starts slowly). */
async function logsInclude(s: Side, name: string, text: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await s.cli(['logs', name])).stdout.includes(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The output lines (trimmed) of `sh -c script` in a `run --rm` with `flags`, which must succeed. */
async function linesInside(s: Side, flags: readonly string[], script: string): Promise<string[]> {
  const out = await ok(s, ['run', '--rm', ...s.runFlags, ...flags, s.image(), 'sh', '-c', script]);
  return out.split('\n').map((l) => l.trim());
}

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  host = mkdtempSync(join(tmpdir(), 'ocikit-run-flags-'));
}, 120_000);

afterAll(async () => {
  await sides?.close();
  if (host) rmSync(host, { recursive: true, force: true });
});

// each case that names a container removes that name first: a retried case (decision 209) must not
// meet what its first attempt left ("name is in use")
describe('run/create flags, ocikit and podman side by side', () => {
  it('--label and --label-file: --label wins, K alone is empty (a file line without = is skipped), comments skipped; inspect shows them', async () => {
    const file = join(host, 'labels');
    writeFileSync(file, '# a comment\n\nc=3 4\na=from-file\n  d\n');
    const seen = await both(async (s) => {
      await s.cli(['rm', '-f', 'lab']);
      await ok(s, [
        'create',
        ...s.runFlags,
        '--name',
        'lab',
        '-l',
        'a=1',
        '--label',
        'b',
        '--label-file',
        file,
        s.image(),
        'true',
      ]);
      return JSON.parse(await ok(s, ['inspect', '--format', '{{json .Config.Labels}}', 'lab']));
    });
    expect(seen.podman).toEqual({ a: '1', b: '', c: '3 4' });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('refuse a missing --label-file, a label file name with spaces and an empty label name: exit 125, nothing created', async () => {
    const spaced = join(host, 'spaced');
    writeFileSync(spaced, 'd  =1\n');
    const seen = await both(async (s) => [
      await refused(s, ['--label-file', join(host, 'missing')], 'badlab1', '--label-file'),
      await refused(s, ['--label-file', spaced], 'badlab4', '--label-file'),
    ]);
    expect(seen.podman).toEqual(Array(2).fill({ code: 125, named: true, exists: false }));
    expect(seen.ocikit).toEqual(seen.podman);
    // podman 4.3 takes an empty name; docker 20.10 refuses it ("empty name"), and so does ocikit
    expect(await refused(sides.ocikit, ['--label', '=v'], 'badlab2', '--label')).toEqual({
      code: 125,
      named: true,
      exists: false,
    });
  });

  it('--stop-signal: stop sends it (a container that exits 7 on SIGINT), inspect shows it', async () => {
    const seen = await both(async (s) => {
      const loop = 'trap "exit 7" INT; echo ready; while true; do sleep 0.1; done';
      await s.cli(['rm', '-f', 'stopsig']);
      await ok(s, [
        'run',
        '-d',
        ...s.runFlags,
        '--name',
        'stopsig',
        '--stop-signal',
        'int',
        s.image(),
        'sh',
        '-c',
        loop,
      ]);
      // stopped once its trap is set (it says ready after): before, PID 1 ignores SIGINT and only
      // the SIGKILL 20 s later ends it (137)
      await logsInclude(s, 'stopsig', 'ready');
      const stopped = await s.cli(['stop', '-t', '20', 'stopsig']);
      const state = await ok(s, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'stopsig']);
      return {
        stop: stopped.code,
        state,
        signal: await ok(s, ['inspect', '--format', '{{.Config.StopSignal}}', 'stopsig']),
      };
    });
    // podman 4.3 shows the number, docker 20.10 (and ocikit, whose inspect is docker's) the name
    expect(seen.podman).toEqual({ stop: 0, state: 'exited 7', signal: '2' });
    expect({ ...seen.ocikit, signal: '2' }).toEqual(seen.podman);
    expect(seen.ocikit.signal).toBe('SIGINT');
  });

  it('--stop-timeout: stop without -t waits that long before SIGKILL, inspect shows it; a bad one is refused', async () => {
    const seen = await both(async (s) => {
      // PID 1 with no handler ignores SIGTERM: only the SIGKILL after the timeout stops it
      await s.cli(['rm', '-f', 'stoptime']);
      await ok(s, [
        'run',
        '-d',
        ...s.runFlags,
        '--name',
        'stoptime',
        '--stop-timeout',
        '1',
        s.image(),
        'sleep',
        '300',
      ]);
      const started = Date.now();
      const stopped = await s.cli(['stop', 'stoptime']);
      const ms = Date.now() - started;
      return {
        stop: stopped.code,
        // the default 10 s would take at least 10 000 ms; 1 s and a loaded machine's podman, up to 9 000
        quick: ms < 9_000,
        state: await ok(s, ['inspect', '--format', '{{.State.Status}} {{.Config.StopTimeout}}', 'stoptime']),
        bad: await refused(s, ['--stop-timeout', '-1'], 'badtime', '--stop-timeout'),
      };
    });
    expect(seen.podman).toEqual({
      stop: 0,
      quick: true,
      state: 'exited 1',
      bad: { code: 125, named: true, exists: false },
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('refuse an unknown --stop-signal: exit 125, nothing created', async () => {
    const seen = await both(async (s) => refused(s, ['--stop-signal', 'SIGNOPE'], 'badsig', '--stop-signal'));
    expect(seen.podman).toEqual({ code: 125, named: true, exists: false });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('--ulimit, --sysctl and --shm-size: the same limits, kernel parameters and /dev/shm size inside', async () => {
    const script = [
      'ulimit -Sn; ulimit -Hn; ulimit -c; ulimit -Hu',
      'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/queues_max',
      "df -k /dev/shm | tail -1 | awk '{print $2}'",
    ].join('; ');
    const seen = await both(async (s) =>
      linesInside(
        s,
        [
          ...['--ulimit', 'nofile=512:768', '--ulimit', 'core=0', '--ulimit', 'nproc=300'],
          ...['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.msgmax=4096'],
          ...['--sysctl', 'fs.mqueue.queues_max=77', '--shm-size', '3m'],
        ],
        script,
      ),
    );
    expect(seen.podman).toEqual(['512', '768', '0', '300', '1', '4096', '77', '3072']);
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('refuse bad --ulimit, --sysctl and --shm-size: exit 125, nothing created', async () => {
    const cases: [string, string[]][] = [
      ['--ulimit', ['--ulimit', 'nofile=abc']],
      ['--ulimit', ['--ulimit', 'bogus=1']],
      ['--ulimit', ['--ulimit', 'nofile=100:50']],
      ['--sysctl', ['--sysctl', 'vm.swappiness=1']],
      ['--sysctl', ['--sysctl', 'kernel.pid_max=1000']],
      ['--sysctl', ['--sysctl', 'net.ipv4.ip_forward']],
      ['--shm-size', ['--shm-size', '12x']],
    ];
    const seen = await both(async (s) => {
      const out = [];
      for (const [i, [flag, flags]] of cases.entries())
        out.push(await refused(s, flags, `bad-res-${i}`, flag));
      return out;
    });
    expect(seen.podman).toEqual(Array(cases.length).fill({ code: 125, named: true, exists: false }));
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it("--group-add GID and NAME (from the image's /etc/group): id shows the extra groups; with -u, the primary group too", async () => {
    const id = (s: Side, flags: string[]) => ok(s, ['run', '--rm', ...s.runFlags, ...flags, s.image(), 'id']);
    const seen = await both(async (s) => [
      await id(s, ['--group-add', '1234', '--group-add', 'nogroup']),
      await id(s, ['-u', 'nobody', '--group-add', '77']),
      await id(s, ['-u', 'nobody']),
      await id(s, ['-u', '0:0', '--group-add', '77']),
    ]);
    expect(seen.podman).toEqual([
      'uid=0(root) gid=0(root) groups=1234,65534(nogroup)',
      'uid=65534(nobody) gid=65534(nogroup) groups=77,65534(nogroup)',
      'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)',
      'uid=0(root) gid=0(root) groups=0(root),77',
    ]);
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('refuse a --group-add group the image does not have: podman at start (126), ocikit at create (125, nothing made; decision 207)', async () => {
    const seen = await both(async (s) => {
      await s.cli(['rm', '-f', 'badgroup']);
      const r = await s.cli([
        'run',
        ...s.runFlags,
        '--name',
        'badgroup',
        '--group-add',
        'nosuch',
        s.image(),
        'id',
      ]);
      const exists = (await s.cli(['container', 'exists', 'badgroup'])).code === 0;
      return { code: r.code, named: r.stderr.includes('nosuch'), exists };
    });
    expect(seen.podman).toEqual({ code: 126, named: true, exists: true });
    expect(seen.ocikit).toEqual({ code: 125, named: true, exists: false });
  });

  it('--device HOST[:CONTAINER[:PERMS]]: the node is there with its numbers, and its cgroup rule holds', async () => {
    const script = [
      "ls -l /dev/z0 /dev/null2 | awk '{print $1, $5, $6, $10}'",
      'head -c 3 /dev/z0 | od -An -tx1',
      // runc allows /dev/zero and /dev/null whatever the rule; /dev/loop-control only as the rule says
      "(echo x > /dev/lc-r) 2>&1 | sed 's/.*: //'",
    ].join('; ');
    const seen = await both(async (s) =>
      linesInside(
        s,
        [
          ...['--device', '/dev/zero:/dev/z0:r', '--device', '/dev/null:/dev/null2'],
          ...['--device', '/dev/loop-control:/dev/lc-r:r'],
        ],
        script,
      ),
    );
    expect(seen.podman).toEqual([
      'crw-rw-rw- 1, 3 /dev/null2',
      'crw-rw-rw- 1, 5 /dev/z0',
      '00 00 00',
      'Operation not permitted',
    ]);
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('refuse a bad --device: missing, not a device, relative container path, bad permissions; exit 125, nothing created', async () => {
    const cases = [
      ['--device', join(host, 'no-such-device')],
      ['--device', '/etc/passwd'],
      ['--device', '/dev/null:dev/x'],
      ['--device', '/dev/null:/dev/x:rwz'],
    ];
    const seen = await both(async (s) => {
      const out = [];
      for (const [i, flags] of cases.entries()) out.push(await refused(s, flags, `bad-dev-${i}`, '--device'));
      return out;
    });
    expect(seen.podman).toEqual(Array(cases.length).fill({ code: 125, named: true, exists: false }));
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('--security-opt no-new-privileges and seccomp=unconfined: /proc/self/status shows the same', async () => {
    const status = (s: Side, flags: string[]) =>
      ok(s, [
        'run',
        '--rm',
        ...s.runFlags,
        ...flags,
        s.image(),
        'sh',
        '-c',
        'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status',
      ]);
    const seen = await both(async (s) => [
      await status(s, ['--security-opt', 'seccomp=unconfined']),
      await status(s, ['--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges']),
      await status(s, ['--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges=false']),
    ]);
    expect(seen.podman).toEqual([
      'NoNewPrivs:\t0\nSeccomp:\t0',
      'NoNewPrivs:\t1\nSeccomp:\t0',
      'NoNewPrivs:\t0\nSeccomp:\t0',
    ]);
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('refuse an unknown --security-opt: exit 125, nothing created', async () => {
    const seen = await both(async (s) => [
      await refused(s, ['--security-opt', 'bogus=1'], 'bad-sec-0', '--security-opt'),
      await refused(s, ['--security-opt', 'no-new-privileges=maybe'], 'bad-sec-1', '--security-opt'),
    ]);
    expect(seen.podman).toEqual(Array(2).fill({ code: 125, named: true, exists: false }));
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it("--privileged: every capability this host's bounding set has, host devices, /sys writable", async () => {
    const script = [
      "grep -E '^Cap(Prm|Eff|Bnd):' /proc/self/status | tr '\\t' ' '",
      'test -c /dev/loop-control && echo has-loop-control',
      "grep ' /sys ' /proc/self/mounts | awk '{print $4}' | cut -d, -f1",
      "grep -c ' /proc/kcore ' /proc/self/mounts || true",
    ].join('; ');
    const seen = await both(async (s) => linesInside(s, ['--privileged'], script));
    expect(seen.podman).toEqual([
      // CAP_SYS_RESOURCE (bit 24) is not in this host's bounding set (shared peers notes)
      'CapPrm: 000001fffeffffff',
      'CapEff: 000001fffeffffff',
      'CapBnd: 000001fffeffffff',
      'has-loop-control',
      'rw',
      // no masked path is mounted over
      '0',
    ]);
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('--init: an init (catatonit) is PID 1 and the command its child; the exit code passes through', async () => {
    const seen = await both(async (s) => {
      const pid = await linesInside(
        s,
        ['--init'],
        '[ $$ -ne 1 ] && echo child; cat /proc/1/cmdline | tr "\\0" " " | cut -d" " -f2',
      );
      const code = (await s.cli(['run', '--rm', ...s.runFlags, '--init', s.image(), 'sh', '-c', 'exit 3']))
        .code;
      return { pid, code };
    });
    // PID 1 is catatonit under podman's name (/run/podman-init) and ocikit's (/run/ocikit-init): its first argument is --
    expect(seen.podman).toEqual({ pid: ['child', '--'], code: 3 });
    expect(seen.ocikit).toEqual(seen.podman);
  });
});
