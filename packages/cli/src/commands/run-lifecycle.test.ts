// `ocikit run` as podman users expect (issue 19): output to the streams given to `main`, logs of
// foreground containers, failed starts as exited containers with 127/126. Real runc and conmon.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../lib/main.ts';
import { runCli, storeBusybox } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-life-'));
let root: string;
const cli = (args: string[]) => runCli(['--root', root, ...args]);

/** Runs `main` in this process with streams of its own; what each received. */
async function mainWith(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await main(['--root', root, ...args], { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

/** A container's state as `inspect` reports it. */
async function stateOf(name: string): Promise<{ status: string; exitCode?: number; error?: string }> {
  const r = await cli(['inspect', name]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { status: string; exitCode?: number; error?: string };
}

beforeAll(async () => {
  root = tmp();
  await storeBusybox(root);
});

describe('ocikit run in the foreground', () => {
  it('writes the container output to the streams given to main, with or without --rm', async () => {
    for (const rm of [['--rm'], []]) {
      const r = await mainWith(['run', ...rm, 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    }
  });

  it('keeps the log of a finished foreground container, as podman', async () => {
    // (names a first attempt left go first: a retry, decision 209, must not meet "name in use")
    await cli(['rm', '-f', 'fg-logs']);
    const r = await cli(['run', '--name', 'fg-logs', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2']);
    expect(r).toMatchObject({ code: 0, stdout: 'hello\n', stderr: 'oops\n' });
    const logs = await cli(['logs', 'fg-logs']);
    expect(logs).toMatchObject({ code: 0, stdout: 'hello\n', stderr: 'oops\n' });
  });
});

describe('ocikit run in a pipeline', () => {
  it('ends as with --rm (the runtime writing to the pipe itself) when its reader goes away: no crash', () => {
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    const ocikit = `${JSON.stringify(process.execPath)} --conditions=@ocikit/source ${JSON.stringify(bin)}`;
    const inPipeline = (flags: string) =>
      spawnSync(
        'bash',
        [
          '-c',
          `${ocikit} --root ${JSON.stringify(root)} run ${flags} busybox sh -c 'while echo y; do :; done' | head -n 1; echo "status \${PIPESTATUS[0]}" >&2`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
    spawnSync(process.execPath, ['--conditions=@ocikit/source', bin, '--root', root, 'rm', '-f', 'piped']);
    const direct = inPipeline('--rm');
    const piped = inPipeline('--name piped');
    expect(direct.stdout).toBe('y\n');
    expect(piped.stdout).toBe('y\n');
    expect(piped.stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(piped.stderr.trim().split('\n').at(-1)).toBe(direct.stderr.trim().split('\n').at(-1));
  });
});

describe('a command that cannot start', () => {
  it('exits 127 (not found) or 126 (not executable), the message printed once, the container exited with the reason', async () => {
    await cli(['rm', '-f', 'fg-missing', 'fg-noexec']);
    for (const [args, code, name] of [
      [['no-such-command'], 127, 'fg-missing'],
      [['/etc/passwd'], 126, 'fg-noexec'],
    ] as const) {
      const r = await cli(['run', '--name', name, 'busybox', ...args]);
      expect(r.code, r.stderr).toBe(code);
      const said = r.stderr.trim().split('\n');
      expect(said, r.stderr).toHaveLength(1);
      const state = await stateOf(name);
      expect(state).toMatchObject({ status: 'exited', exitCode: code });
      expect(state.error).toBeTruthy();
    }
  });

  it('detached: exits 127 and leaves an exited container, not one being configured', async () => {
    await cli(['rm', '-f', 'bg-missing']);
    const r = await cli(['run', '-d', '--name', 'bg-missing', 'busybox', 'no-such-command']);
    expect(r.code, r.stderr).toBe(127);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('no-such-command');
    expect(await stateOf('bg-missing')).toMatchObject({ status: 'exited', exitCode: 127 });
  });

  it('under --rm leaves nothing behind, foreground or detached', async () => {
    for (const detach of [[], ['-d']]) {
      const r = await cli(['run', '--rm', ...detach, '--name', 'rm-missing', 'busybox', 'no-such-command']);
      expect(r.code, r.stderr).toBe(127);
      expect((await cli(['inspect', 'rm-missing'])).code).not.toBe(0);
    }
  });
});
