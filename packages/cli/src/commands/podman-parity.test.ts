// The same container cases run with `ocikit` and with the real podman, side by side (issue 19): the
// same exit codes and the same lifecycle states. podman gets a temp --root/--runroot and the test
// image from an OCI layout made by tools/images; it runs here only with the flags of the shared
// peers notes. Nothing is skipped: when podman cannot run, the test fails and says why.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, podmanGlobalFlags, podmanRunFlags } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli, runProcess } from '../lib/test-cli.ts';

const tmp = (base = tmpdir()) => mkdtempSync(join(base, 'ocikit-parity-'));
const roots: string[] = [];
let ocikitRoot: string;
let podmanRoot: string;
let podmanImage: string;

/** The podman global flags this host needs (shared peers notes), with a root of our own. */
const podman = (args: readonly string[]): Promise<CliResult> =>
  runProcess('podman', [...podmanGlobalFlags(podmanRoot), ...args]);

/** One engine under test: how it runs a command, its image, and its `run` flags. */
interface Engine {
  name: 'ocikit' | 'podman';
  cli(args: readonly string[]): Promise<CliResult>;
  image: () => string;
  runFlags: readonly string[];
}

const engines: Engine[] = [
  {
    name: 'ocikit',
    cli: (args) => runCli(['--root', ocikitRoot, ...args]),
    image: () => 'busybox',
    runFlags: [],
  },
  { name: 'podman', cli: podman, image: () => podmanImage, runFlags: podmanRunFlags },
];

/** `run [flags] IMAGE CMD…` with an engine. */
const run = (e: Engine, flags: readonly string[], command: readonly string[]) =>
  e.cli(['run', ...e.runFlags, ...flags, e.image(), ...command]);

/** `STATUS EXITCODE` as the engine's `inspect` shows them. */
async function stateOf(e: Engine, name: string): Promise<string> {
  const r = await e.cli(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]);
  expect(r.code, `${e.name} inspect ${name}: ${r.stderr}`).toBe(0);
  return r.stdout.trim().toLowerCase();
}

/** Polls `logs name` until its output includes `text` (up to 30 s: a loaded machine starts slowly). */
async function logsInclude(e: Engine, name: string, text: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await e.cli(['logs', name])).stdout.includes(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `each` with both engines at once; their results by engine name. */
async function both<T>(each: (e: Engine) => Promise<T>): Promise<Record<Engine['name'], T>> {
  const [ocikit, podmanResult] = await Promise.all(engines.map(each));
  return { ocikit: ocikit as T, podman: podmanResult as T };
}

beforeAll(async () => {
  ocikitRoot = tmp();
  // podman's overlay storage wants a real file system, not a tmpfs
  podmanRoot = tmp('/var/tmp');
  roots.push(ocikitRoot, podmanRoot);
  const version = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    throw new Error(
      `podman cannot run here (${version.error?.message ?? version.stderr.trim()}): install it with tools/run.sh (apt-get install podman)`,
    );
  }
  // lower case: podman names an image pulled from oci:DIR after the path
  const layoutDir = join(tmpdir(), `ocikit-parity-layout-${process.pid}`);
  roots.push(layoutDir);
  mkdirSync(layoutDir, { recursive: true });
  const layout = join(layoutDir, 'layout');
  buildBusyboxImage(layout, 'busybox');
  const copied = await runCli(['--root', ocikitRoot, 'copy', `oci:${layout}:busybox`, 'local:busybox']);
  expect(copied.code, copied.stderr).toBe(0);
  const pulled = await podman(['pull', '-q', `oci:${layout}:busybox`]);
  if (pulled.code !== 0) throw new Error(`podman cannot load the test image: ${pulled.stderr.trim()}`);
  podmanImage = pulled.stdout.trim().split('\n').at(-1) ?? '';
  const probe = await run(engines[1] as Engine, ['--rm'], ['true']);
  if (probe.code !== 0) throw new Error(`podman cannot run a container here: ${probe.stderr.trim()}`);
}, 120_000);

afterAll(async () => {
  await podman(['rm', '-af']).catch(() => undefined);
  // ocikit's too: a created, never started container keeps its conmon and `runc init` running, and
  // removing the root under them left both behind after every run
  await runCli(['--root', ocikitRoot, 'rm', '-af']).catch(() => undefined);
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

// each case removes its containers' names first: a retried case (decision 209) must not meet what
// its first attempt left ("name is in use")
describe('ocikit and podman side by side', () => {
  it('give the same exit codes: 127 not found, 126 not executable, 3 passed through', async () => {
    const codes = await both(async (e) => [
      (await run(e, ['--rm'], ['no-such-command'])).code,
      (await run(e, ['--rm'], ['/etc/passwd'])).code,
      (await run(e, ['--rm'], ['sh', '-c', 'exit 3'])).code,
      (await run(e, ['--rm', '-d'], ['no-such-command'])).code,
    ]);
    expect(codes.podman).toEqual([127, 126, 3, 127]);
    expect(codes.ocikit).toEqual(codes.podman);
  });

  it('keep a finished foreground container exited with its code, and its logs', async () => {
    const seen = await both(async (e) => {
      await e.cli(['rm', '-f', 'fg3']);
      const ran = await run(e, ['--name', 'fg3'], ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      const logs = await e.cli(['logs', 'fg3']);
      return { code: ran.code, state: await stateOf(e, 'fg3'), logs: logs.stdout + logs.stderr };
    });
    expect(seen.podman).toEqual({ code: 3, state: 'exited 3', logs: 'out\nerr\n' });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('go through the same states detached: running, then exited with its code after wait; logs after exit', async () => {
    const seen = await both(async (e) => {
      // it runs until told to end (a `sleep 1` ended before a loaded machine asked its state)
      const script = 'trap "exit 4" USR1; echo hi; while true; do sleep 0.1; done';
      await e.cli(['rm', '-f', 'bg4']);
      const ran = await run(e, ['-d', '--name', 'bg4'], ['sh', '-c', script]);
      const running = await stateOf(e, 'bg4');
      // USR1 only once its trap is set (it says hi after): before, PID 1 ignores it and wait never ends
      await logsInclude(e, 'bg4', 'hi');
      await e.cli(['kill', '-s', 'USR1', 'bg4']);
      const waited = await e.cli(['wait', 'bg4']);
      const logs = await e.cli(['logs', 'bg4']);
      return {
        code: ran.code,
        running,
        wait: [waited.code, waited.stdout.trim()],
        exited: await stateOf(e, 'bg4'),
        logs: logs.stdout,
      };
    });
    expect(seen.podman).toEqual({
      code: 0,
      running: 'running 0',
      wait: [0, '4'],
      exited: 'exited 4',
      logs: 'hi\n',
    });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('stop a detached container that ignores SIGTERM with SIGKILL after the timeout: exited 137', async () => {
    const seen = await both(async (e) => {
      await e.cli(['rm', '-f', 'bg-stop']);
      await run(e, ['-d', '--name', 'bg-stop'], ['sleep', '60']);
      const running = await stateOf(e, 'bg-stop');
      const stopped = await e.cli(['stop', '-t', '1', 'bg-stop']);
      return { running, stop: stopped.code, after: await stateOf(e, 'bg-stop') };
    });
    expect(seen.podman).toEqual({ running: 'running 0', stop: 0, after: 'exited 137' });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('give the same exit codes for image commands: inspect of a local name, rmi of a name (0), of an image in use (2), of none (1)', async () => {
    const seen = await both(async (e) => {
      // podman names a local image localhost/…; ocikit docker.io/library/…
      const name = e.name === 'podman' ? 'localhost/parity-img:1' : 'parity-img:1';
      await e.cli(['rm', '-f', 'img-user']);
      const tagged = await e.cli(['tag', e.image(), name]);
      expect(tagged.code, `${e.name} tag: ${tagged.stderr}`).toBe(0);
      const created = await e.cli(['create', ...e.runFlags, '--name', 'img-user', name, 'true']);
      expect(created.code, `${e.name} create: ${created.stderr}`).toBe(0);
      const inspected = await e.cli(['inspect', '--format', '{{.Os}}', name]);
      // the image keeps its first name: this one just goes
      const untagged = await e.cli(['rmi', name]);
      // now the image itself, which the container uses: refused
      const inUse = await e.cli(['rmi', e.image()]);
      const missing = await e.cli(['rmi', 'no-such-img:1']);
      return {
        codes: [inspected.code, untagged.code, inUse.code, missing.code],
        os: inspected.stdout.trim(),
        inUse: inUse.stderr.includes('image is in use by a container'),
      };
    });
    expect(seen.podman).toEqual({ codes: [0, 0, 2, 1], os: 'linux', inUse: true });
    expect(seen.ocikit).toEqual(seen.podman);
  });

  it('differ on purpose in the state a failed start leaves (decision 111): podman "created 0", ocikit "exited 127"', async () => {
    const seen = await both(async (e) => {
      await e.cli(['rm', '-f', 'fg-missing', 'bg-missing']);
      const fg = await run(e, ['--name', 'fg-missing'], ['no-such-command']);
      const bg = await run(e, ['-d', '--name', 'bg-missing'], ['no-such-command']);
      return [fg.code, await stateOf(e, 'fg-missing'), bg.code, await stateOf(e, 'bg-missing')];
    });
    expect(seen.podman).toEqual([127, 'created 0', 127, 'created 0']);
    expect(seen.ocikit).toEqual([127, 'exited 127', 127, 'exited 127']);
  });
});
