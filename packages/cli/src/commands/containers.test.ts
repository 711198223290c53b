// `ocikit run` and the container commands end to end: the real CLI with real runc (and crun), a
// busybox image in the local store, conmon for detached containers.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInPty } from '@ocikit/test-images';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, storeBusybox } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-run-'));
let root: string;
const cli = (args: string[], stdin?: string) =>
  runCli(['--root', root, ...args], stdin !== undefined ? { stdin } : {});

/** Removes containers a first attempt of a case left: a retry (decision 209) must not meet "name in use". */
const fresh = (...names: string[]) => cli(['rm', '-f', ...names]);

beforeAll(async () => {
  root = tmp();
  await storeBusybox(root);
});

describe('ocikit run', () => {
  it.each(['runc', 'crun'])(
    "exits with the container's code under %s: 0, 7, and 137 for SIGKILL",
    async (runtime) => {
      expect((await cli(['run', '--rm', '--runtime', runtime, 'busybox', 'true'])).code).toBe(0);
      expect((await cli(['run', '--rm', '--runtime', runtime, 'busybox', 'sh', '-c', 'exit 7'])).code).toBe(
        7,
      );
      const killed = await cli([
        'run',
        '--rm',
        '--runtime',
        runtime,
        'busybox',
        'sh',
        '-c',
        'sh -c "kill -9 \\$\\$"; exit $?',
      ]);
      expect(killed.code).toBe(137);
    },
  );

  it('pipes stdin in with -i, and applies env, env-file, user, workdir and hostname', async () => {
    const piped = await cli(
      ['run', '--rm', '-i', 'busybox', 'sh', '-c', 'read line; echo "got $line"'],
      'piped\n',
    );
    expect(piped.stdout).toBe('got piped\n');
    const envFile = join(tmp(), 'env');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n\n');
    const r = await cli([
      'run',
      '--rm',
      '-e',
      'GREETING=hi there',
      '--env-file',
      envFile,
      '-u',
      'nobody',
      '-w',
      '/tmp',
      '--hostname',
      'boxy',
      'busybox',
      'sh',
      '-c',
      'echo "$GREETING|$FROM_FILE|$(id -u)|$(pwd)|$(hostname)"',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi there|yes|65534|/tmp|boxy\n');
  });

  it('mounts a read-only bind that really is read-only, and --read-only roots', async () => {
    const host = tmp();
    writeFileSync(join(host, 'data'), 'from the host\n');
    const read = await cli(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'cat', '/data/data']);
    expect(read.stdout).toBe('from the host\n');
    const write = await cli([
      'run',
      '--rm',
      '-v',
      `${host}:/data:ro`,
      'busybox',
      'sh',
      '-c',
      'echo x > /data/new',
    ]);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    const rw = await cli(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'echo x > /data/new']);
    expect(rw.code).toBe(0);
    const ro = await cli([
      'run',
      '--rm',
      '--read-only',
      '--tmpfs',
      '/scratch',
      'busybox',
      'sh',
      '-c',
      'touch /x || echo no-root-write; touch /scratch/ok && echo tmpfs-ok',
    ]);
    expect(ro.stdout).toBe('no-root-write\ntmpfs-ok\n');
  });

  it('makes memory and pids limits visible inside', async () => {
    const r = await cli([
      'run',
      '--rm',
      '--memory',
      '64m',
      '--pids-limit',
      '20',
      'busybox',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${64 * 1024 * 1024}\n20\n`);
  });

  it('runs detached: ps, logs, exec, stop, rm', async () => {
    await fresh('svc');
    const started = await cli([
      'run',
      '-d',
      '--name',
      'svc',
      'busybox',
      'sh',
      '-c',
      'trap "exit 3" TERM; echo ready; while true; do sleep 0.1; done',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await cli(['ps'])).stdout).toMatch(/svc/);
    for (let i = 0; i < 50 && !(await cli(['logs', 'svc'])).stdout.includes('ready'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await cli(['logs', 'svc'])).stdout).toBe('ready\n');
    expect((await cli(['logs', '-t', 'svc'])).stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ ready\n$/);
    const exec = await cli(['exec', '-e', 'X=1', 'svc', 'sh', '-c', 'echo "in $X"; exit 5']);
    expect(exec).toMatchObject({ code: 5, stdout: 'in 1\n' });
    expect((await cli(['exec', 'svc', 'no-such-command'])).code).toBe(127);
    // runc mounted the overlay in the container's namespace (decision 102): nothing on the host, and
    // exec resolves a user name in the container's own root
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(id);
    expect(readdirSync(join(root, 'containers', id, 'bundle', 'rootfs'))).toEqual([]);
    const asNobody = await cli(['exec', '-u', 'nobody', 'svc', 'sh', '-c', 'id -u; touch /tmp/made']);
    expect(asNobody).toMatchObject({ code: 0, stdout: '65534\n' });
    expect((await cli(['pause', 'svc'])).code).toBe(0);
    expect((await cli(['--json', 'inspect', 'svc'])).stdout).toMatch(/"status": "paused"/);
    expect((await cli(['unpause', 'svc'])).code).toBe(0);
    expect((await cli(['stop', '-t', '5', 'svc'])).code).toBe(0);
    expect((await cli(['wait', 'svc'])).stdout).toBe('3\n');
    expect((await cli(['ps', '-a'])).stdout).toMatch(/Exited \(3\).*svc/);
    expect((await cli(['rm', 'svc'])).code).toBe(0);
    expect((await cli(['ps', '-a', '-q'])).stdout).not.toContain(id.slice(0, 12));
  }, 180_000); // 17 CLI processes: past 60 s on a loaded 2-core machine

  it('attaches to a detached -i container: stdin in, output out, its exit code back', async () => {
    await fresh('att');
    const started = await cli([
      'run',
      '-d',
      '-i',
      '--name',
      'att',
      'busybox',
      'sh',
      '-c',
      'read x; echo "got $x"; exit 6',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const attached = await cli(['attach', 'att'], 'hello\n');
    expect(attached).toMatchObject({ code: 6, stdout: 'got hello\n' });
    expect((await cli(['logs', 'att'])).stdout).toBe('got hello\n');
    expect((await cli(['rm', 'att'])).code).toBe(0);
  });

  it('attaches to a detached -i -t container through a real pseudo-terminal, its size following ours', async () => {
    await fresh('tty-att');
    // after the resize, the new size once it has come through (up to 10 s): the keys typed half a
    // second after it could outrun attach's resize call on a loaded machine
    const script =
      'read line; echo "got $line"; echo "size $(stty size)"; read line; ' +
      'i=0; while [ "$(stty size)" = "20 70" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; ' +
      'echo "size $(stty size)"; exit 9';
    const started = await cli(['run', '-d', '-i', '-t', '--name', 'tty-att', 'busybox', 'sh', '-c', script]);
    expect(started.code, started.stderr).toBe(0);
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    // a terminal of 20x70: attach has nothing to wait for before it types; then the window grows
    const r = runInPty(
      [process.execPath, '--conditions=@ocikit/source', bin, '--root', root, 'attach', 'tty-att'],
      [
        { delay: 1.5, send: 'hello\r' },
        { after: 'size 20 70', resize: [33, 97], send: 'more\r' },
      ],
      { size: [20, 70] },
    );
    expect(r.output).toContain('got hello');
    expect(r.output).toContain('size 20 70');
    expect(r.output).toContain('size 33 97');
    expect(r.status).toBe(9);
    expect((await cli(['rm', 'tty-att'])).code).toBe(0);
  });

  it('detaches from a -t container with ctrl-p ctrl-q, passing a lone ctrl-p through, and leaves it running', async () => {
    await fresh('tty-detach');
    const loop = 'while read line; do echo "got [$line]"; done';
    expect(
      (await cli(['run', '-d', '-i', '-t', '--name', 'tty-detach', 'busybox', 'sh', '-c', loop])).code,
    ).toBe(0);
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    const r = runInPty(
      [process.execPath, '--conditions=@ocikit/source', bin, '--root', root, 'attach', 'tty-detach'],
      [
        { delay: 1.5, send: '\x10x\r' },
        { after: 'x]', send: '\x10\x11' },
      ],
    );
    expect(r.output).toContain('got [\x10x]');
    expect(r.status).toBe(0);
    expect((await cli(['ps'])).stdout).toMatch(/Up \S.*tty-detach/);
    const bad = await cli(['attach', '--detach-keys', 'ctrl-1', 'tty-detach']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('"ctrl-1" is not a key');
    expect((await cli(['rm', '-f', 'tty-detach'])).code).toBe(0);
  });

  it('execs with -i -t through a real pseudo-terminal: a terminal of our size, a resize, its exit code', async () => {
    await fresh('tty-exec');
    expect((await cli(['run', '-d', '--name', 'tty-exec', 'busybox', 'sleep', '60'])).code).toBe(0);
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    // after the resize, the new size once it has come through (up to 10 s): the keys typed half a
    // second after it could outrun exec's resize call on a loaded machine
    const script =
      'test -t 0 && echo "tty $(stty size)"; read line; ' +
      'i=0; while [ "$(stty size)" = "21 77" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; ' +
      'echo "now $(stty size)"; exit 4';
    const r = runInPty(
      [
        process.execPath,
        '--conditions=@ocikit/source',
        bin,
        '--root',
        root,
        'exec',
        '-it',
        'tty-exec',
        'sh',
        '-c',
        script,
      ],
      [{ after: 'tty 21 77', resize: [30, 90], send: 'go\r' }],
      { size: [21, 77] },
    );
    expect(r.output).toContain('tty 21 77');
    expect(r.output).toContain('now 30 90');
    expect(r.status).toBe(4);
    expect((await cli(['rm', '-f', 'tty-exec'])).code).toBe(0);
  });

  it('reconciles the record of a run whose ocikit was SIGKILLed mid-run', async () => {
    await fresh('orphan');
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--conditions=@ocikit/source',
        bin,
        '--root',
        root,
        'run',
        '--name',
        'orphan',
        'busybox',
        'sh',
        '-c',
        'until [ -e /go ]; do sleep 0.1; done',
      ],
      {
        stdio: 'ignore',
      },
    );
    // it runs until told, after its ocikit is killed: a fixed sleep (1 s, then 4 s) could end before
    // a loaded machine's ps saw it running
    let listed = '';
    for (let i = 0; i < 100 && !/Up \S.*orphan/.test(listed); i++) {
      listed = (await cli(['ps'])).stdout;
      if (!listed.includes('orphan')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(listed).toMatch(/Up \S.*orphan/);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    // the container finishes on its own, its ocikit gone; the next commands see it exited, not wedged
    expect((await cli(['exec', 'orphan', 'sh', '-c', ': > /go'])).code).toBe(0);
    const waited = await cli(['wait', 'orphan']);
    expect(waited.code).toBe(0);
    expect((await cli(['ps', '-a'])).stdout).toMatch(/Exited \(\S+\).*orphan/);
    expect((await cli(['rm', 'orphan'])).code).toBe(0);
  });

  it('removes a --rm container whose ocikit was SIGKILLed mid-run once it has exited', async () => {
    await fresh('orphan-rm');
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    const args = ['--conditions=@ocikit/source', bin, '--root', root, 'run', '--rm', '--name', 'orphan-rm'];
    // it runs until the test ends it below: any fixed time was outlasted by the polls on a loaded machine
    const child = spawn(process.execPath, [...args, 'busybox', 'sleep', '300'], { stdio: 'ignore' });
    let listed = '';
    for (let i = 0; i < 100 && !/Up \S.*orphan-rm/.test(listed); i++) {
      listed = (await cli(['ps'])).stdout;
      if (!listed.includes('orphan-rm')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(listed).toMatch(/Up \S.*orphan-rm/);
    const { id } = JSON.parse((await cli(['inspect', 'orphan-rm'])).stdout) as { id: string };
    expect((await cli(['snapshots', 'ls'])).stdout).toContain(`container-${id}`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    // still running without its ocikit: listed, not removed
    expect((await cli(['ps'])).stdout).toContain('orphan-rm');
    expect((await cli(['kill', 'orphan-rm'])).code).toBe(0);
    expect((await cli(['wait', 'orphan-rm'])).code).toBe(0);
    // exited, and nobody left to remove it: the next look removes it, snapshot and all
    expect((await cli(['ps', '-a'])).stdout).not.toContain('orphan-rm');
    expect((await cli(['inspect', 'orphan-rm'])).code).not.toBe(0);
    expect((await cli(['snapshots', 'ls'])).stdout).not.toContain(`container-${id}`);
  });

  it('proxies signals to the container, as podman run, exec, attach and start -a do: SIGTERM to ocikit ends it with its own code', async () => {
    await fresh('sig-term', 'sig-int', 'sig-exec', 'sig-att', 'sig-start');
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    const start = (args: string[]) => {
      // a process group of its own, as a shell gives a foreground job
      const child = spawn(process.execPath, ['--conditions=@ocikit/source', bin, '--root', root, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true,
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      const waitFor = async (text: string) => {
        // up to 60 s: ocikit from source and a container start on a loaded machine
        for (let i = 0; i < 2400 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 25));
        expect(out).toContain(text);
      };
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      return { child, ready: waitFor('ready'), waitFor, exited, output: () => out };
    };
    // a terminal's Ctrl-C to the whole group: handled by the container, the command stays; then a
    // TERM to ocikit alone ends the container, and the command exits with the container's code
    const ctrlCThenTerm = async (p: ReturnType<typeof start>) => {
      await p.ready;
      process.kill(-(p.child.pid as number), 'SIGINT');
      await p.waitFor('got INT');
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(6);
      expect(p.output()).toContain('got TERM');
    };
    // without the proxy the signal is lost and the loop runs its 20 s out, exiting 0
    const loop = 'echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done';
    const term = start([
      'run',
      '--rm',
      '--name',
      'sig-term',
      'busybox',
      'sh',
      '-c',
      `trap 'echo got TERM; exit 3' TERM; ${loop}`,
    ]);
    await term.ready;
    term.child.kill('SIGTERM');
    expect(await term.exited).toBe(3);
    expect(term.output()).toContain('got TERM');
    // a terminal's Ctrl-C goes to the whole foreground group: the container still gets it
    const int = start([
      'run',
      '--rm',
      '--name',
      'sig-int',
      'busybox',
      'sh',
      '-c',
      `trap 'echo got INT; exit 4' INT; ${loop}`,
    ]);
    await int.ready;
    process.kill(-(int.child.pid as number), 'SIGINT');
    expect(await int.exited).toBe(4);
    // --rm still removed both
    expect((await cli(['ps', '-a'])).stdout).not.toMatch(/sig-term|sig-int/);
    // and `exec`, as podman exec: the signal goes to the exec'd process
    expect((await cli(['run', '-d', '--name', 'sig-exec', 'busybox', 'sleep', '60'])).code).toBe(0);
    const exec = start(['exec', 'sig-exec', 'sh', '-c', `trap 'exit 5' TERM; ${loop}`]);
    await exec.ready;
    exec.child.kill('SIGTERM');
    expect(await exec.exited).toBe(5);
    expect((await cli(['rm', '-f', 'sig-exec'])).code).toBe(0);
    // and `attach`, as podman attach
    const ticking = `trap 'echo got INT' INT; trap 'echo got TERM; exit 6' TERM; while :; do echo ready; sleep 0.1; done`;
    expect((await cli(['run', '-d', '--name', 'sig-att', 'busybox', 'sh', '-c', ticking])).code).toBe(0);
    await ctrlCThenTerm(start(['attach', 'sig-att']));
    // and `start -a`, as podman start --attach
    expect((await cli(['create', '--name', 'sig-start', 'busybox', 'sh', '-c', ticking])).code).toBe(0);
    await ctrlCThenTerm(start(['start', '-a', 'sig-start']));
    expect((await cli(['rm', 'sig-start'])).code).toBe(0);
    expect((await cli(['rm', 'sig-att'])).code).toBe(0);
  }, 180_000); // 11 CLI processes, 5 of them waited on: past 60 s on a loaded 2-core machine

  it('works through the built executable (the bundle of decision 022), zod loaded on demand', async () => {
    const bin = fileURLToPath(new URL('../../bin/ocikit.js', import.meta.url));
    const exec = (args: string[], stdin = '') =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(bin, ['--root', root, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d;
        });
        child.stderr.on('data', (d: Buffer) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(stdin);
      });
    const ran = await exec(['run', '--rm', 'busybox', 'sh', '-c', 'echo hi; exit 3']);
    expect(ran.stdout, ran.stderr).toBe('hi\n');
    expect(ran.code).toBe(3);
    const valid = await exec(['validate', '--kind', 'runtime-config', '-'], '{"ociVersion": "1.2.0"}');
    expect(valid.code, valid.stderr).toBe(0);
    const invalid = await exec(['validate', '--kind', 'runtime-config', '-'], '{"ociVersion": 1}');
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('ociVersion');
  });

  it('gives clear errors: a missing image, a missing runtime, a command not found, bad flags', async () => {
    const image = await cli(['run', '--pull', 'never', 'nothing-here']);
    expect(image.code).toBe(125);
    expect(image.stderr).toMatch(/no image docker\.io\/library\/nothing-here:latest/);
    const runtime = await cli(['run', '--runtime', 'no-such-runtime', 'busybox', 'true']);
    expect(runtime.code).toBe(125);
    expect(runtime.stderr).toMatch(/no-such-runtime.*not installed/);
    const notFound = await cli(['run', '--rm', 'busybox', 'no-such-command']);
    expect(notFound.code).toBe(127);
    const flag = await cli(['run', '--memory', 'lots', 'busybox', 'true']);
    expect(flag.code).toBe(125);
    expect(flag.stderr).toContain('--memory');
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
  });
});
