// `ocikit --host …` (issue 14, "The CLI becomes a client"): the same commands against the local
// engine, a real dockerd (the docker driver) and podman's service (the podman driver, libpod API)
// give the same exit codes, stdout and stderr. The image comes from the project's test registry
// (never Docker Hub); each engine is started once for the file and torn down after.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEngine, startDockerd, startPodmanService } from '@ocikit/test-engines';
import { buildBusyboxImage, runInPty } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../lib/test-cli.ts';

type Target = 'local' | 'docker' | 'podman';
const targets: readonly Target[] = ['local', 'docker', 'podman'];
const remotes: readonly Target[] = ['docker', 'podman'];

let work: string;
let root: string;
let registry: RunningRegistry;
let dockerd: RunningEngine;
let podman: RunningEngine;
/** The busybox test image in the test registry, and its image id (config digest). */
let ref: string;
let imageId: string;

/** The global flags that point ocikit at an engine: its state root, or -H/--host. */
function hostFlags(target: Target): string[] {
  if (target === 'local') return ['--root', root];
  return target === 'docker' ? ['-H', dockerd.host] : ['--host', `podman+${podman.host}`];
}

// no engine address from the environment the tests run in: only the flags choose
const cleanEnv = { DOCKER_HOST: '', CONTAINER_HOST: '' };

function cli(target: Target, args: readonly string[], stdin?: string): Promise<CliResult> {
  return runCli([...hostFlags(target), ...args], {
    env: cleanEnv,
    ...(stdin !== undefined ? { stdin } : {}),
  });
}

/** The command line that runs ocikit from source on an engine, for runInPty. */
const ocikitArgv = (target: Target) => [
  process.execPath,
  '--conditions=@ocikit/source',
  fileURLToPath(new URL('../bin.ts', import.meta.url)),
  ...hostFlags(target),
];

/** Runs the same command on every engine, one after another. */
async function onEach(args: readonly string[], stdin?: string): Promise<Record<Target, CliResult>> {
  const out = {} as Record<Target, CliResult>;
  for (const t of targets) out[t] = await cli(t, args, stdin);
  return out;
}

/**
 * Expects every engine to give what the local engine gave (after `normalize`); soft, so one
 * engine's difference does not hide the next command's on another.
 */
function expectSame(
  results: Record<Target, CliResult>,
  normalize: (r: CliResult) => unknown = (r) => r,
): void {
  const local = normalize(results.local);
  for (const t of remotes)
    expect.soft({ engine: t, result: normalize(results[t]) }).toEqual({ engine: t, result: local });
}

const name = (what: string) => `host-${what}-${process.pid}`;
/** Shell: waits (up to 10 s) while the terminal's size is still `size`. */
const until = (size: string) =>
  `i=0; while [ "$(stty size)" = "${size}" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done`;
/**
 * Shell: a moment, then waits while the terminal has no size yet (a fixed second was not always
 * enough for the CLI's resize call after the start on a loaded machine).
 */
const sized = `sleep 1; ${until('0 0')}`;
/** Removals for after a case that failed half-way. */
const onTheWayOut: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ocikit-host-'));
  root = join(work, 'root');
  registry = await startRegistry();
  const image = buildBusyboxImage(join(work, 'layout'), 'busybox');
  ref = `${registry.host}/host/busybox:1`;
  execFileSync('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${image.layout}:busybox`,
    `docker://${ref}`,
  ]);
  const manifest = JSON.parse(
    readFileSync(join(image.layout, 'blobs', 'sha256', image.manifest.slice(7)), 'utf8'),
  ) as { config: { digest: string } };
  imageId = manifest.config.digest;
  [dockerd, podman] = await Promise.all([
    startDockerd({ insecureRegistries: [registry.host] }),
    startPodmanService({ insecureRegistries: [registry.host] }),
  ]);
}, 240_000);

afterEach(async () => {
  for (const undo of onTheWayOut.splice(0)) await undo().catch(() => {});
});

afterAll(async () => {
  await Promise.allSettled([dockerd?.stop(), podman?.stop()]);
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('ocikit --host: the same commands on the local engine, dockerd and podman', () => {
  it('pull prints the digest; images lists it with the same ID; inspect reads its config', async () => {
    const pulled = await onEach(['pull', '-q', ref]);
    expectSame(pulled, (r) => ({ code: r.code, stdout: r.stdout }));
    expect(pulled.local.code, pulled.local.stderr).toBe(0);
    const images = await onEach(['images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
    expectSame(images);
    expect(images.local.stdout).toBe(`${registry.host}/host/busybox 1 ${imageId.slice(7, 19)}\n`);
    const inspected = await onEach([
      'inspect',
      '-f',
      '{{.Id}} {{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{len .RootFS.Layers}}',
      ref,
    ]);
    expectSame(inspected);
    expect(inspected.local.stdout).toBe(`${imageId} linux/amd64 ["/bin/sh"] 1\n`);
  });

  it('run --rm: output, stderr and the exit code are the container’s', async () => {
    const ran = await onEach(['run', '--rm', ref, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expectSame(ran);
    expect(ran.local).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('run -i pipes stdin; exec -i too', async () => {
    const ran = await onEach(['run', '--rm', '-i', ref, 'sh', '-c', 'cat; echo done'], 'piped\n');
    expectSame(ran);
    expect(ran.local).toEqual({ code: 0, stdout: 'piped\ndone\n', stderr: '' });
  });

  it('run -d, ps, logs, exec, inspect, rm', async () => {
    const svc = name('svc');
    onTheWayOut.push(() => onEach(['rm', '-f', svc]));
    const started = await onEach(['run', '-d', '--name', svc, ref, 'sh', '-c', 'echo ready; exec sleep 300']);
    expectSame(started, (r) => ({
      code: r.code,
      stdout: /^[0-9a-f]{64}\n$/.test(r.stdout),
      stderr: r.stderr,
    }));
    expect(started.local.code, started.local.stderr).toBe(0);
    // its output is there once it runs
    for (const t of targets) {
      for (let i = 0; i < 50 && (await cli(t, ['logs', svc])).stdout === ''; i++)
        await new Promise((r) => setTimeout(r, 100));
    }
    expectSame(await onEach(['logs', svc]), (r) => r);
    expect((await cli('local', ['logs', svc])).stdout).toBe('ready\n');

    const ps = await onEach(['ps', '--format', '{{.Names}}|{{.Image}}|{{.State}}|{{.Status}}']);
    expectSame(ps, (r) => ({
      ...r,
      stdout: r.stdout.replace(/Up (Less than a second|\d+ seconds?|About a minute)/, 'Up …'),
    }));
    // (a minute on a loaded machine, from the first run -d to this ps)
    expect(ps.local.stdout).toMatch(
      new RegExp(`^${svc}\\|${ref}\\|running\\|Up (Less than a second|\\d+ seconds?|About a minute)\n$`),
    );
    // COMMAND as docker's engine joins it (an argument with a space in '…'); podman's compatible
    // API joins without the quotes, and ocikit shows each engine's own (as the docker CLI does)
    const command = await onEach(['ps', '--format', '{{.Command}}']);
    expect(command.local.stdout).toBe(`"sh -c 'echo ready; …"\n`);
    expect(command.docker).toEqual(command.local);
    expect(command.podman.stdout).toBe(`"sh -c echo ready; e…"\n`);
    const table = await onEach(['ps']);
    // the columns, not their widths: CREATED's width follows each engine's container's age ("9 seconds
    // ago" on one, "10 seconds ago" on the next, made a moment later), which load makes differ
    expectSame(table, (r) => ({
      code: r.code,
      header: r.stdout.split('\n')[0]?.split(/ {2,}/),
      lines: r.stdout.split('\n').length,
    }));

    const exec = await onEach(['exec', '-e', 'X=1', svc, 'sh', '-c', 'echo "in $X"; echo e >&2; exit 5']);
    expectSame(exec);
    expect(exec.local).toEqual({ code: 5, stdout: 'in 1\n', stderr: 'e\n' });
    const execIn = await onEach(['exec', '-i', svc, 'cat'], 'to exec\n');
    expectSame(execIn);
    expect(execIn.local).toEqual({ code: 0, stdout: 'to exec\n', stderr: '' });
    // exec -it on a real terminal: sized as ours (once sized, as on run -t), our keys typed in
    for (const t of targets) {
      const r = runInPty(
        [
          ...ocikitArgv(t),
          'exec',
          '-it',
          svc,
          'sh',
          '-c',
          `${sized}; stty size; echo ready; read x; echo "got $x"; exit 4`,
        ],
        [{ after: 'ready', send: 'hi\r' }],
        { size: [40, 120], timeoutMs: 40_000 },
      );
      expect.soft(`${r.status} ${r.output.replace(/\r/g, '')}`, t).toMatch(/^4 40 120\nready\nhi\ngot hi\n$/);
    }

    const inspected = await onEach([
      'inspect',
      '-f',
      '{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Tty}}',
      svc,
    ]);
    expectSame(inspected, (r) => ({ ...r, stdout: r.stdout.replace(/^\//, '') }));
    expect(inspected.local.stdout).toBe(`${svc} running true false\n`);

    const removed = await onEach(['rm', '-f', svc]);
    expectSame(removed);
    expect(removed.local.code, removed.local.stderr).toBe(0);
    expectSame(await onEach(['ps', '-a', '--format', '{{.Names}}']));
  }, 240_000);

  it('fails the same way for a container that is not there', async () => {
    const missing = await onEach(['logs', name('none')]);
    expectSame(missing, (r) => ({
      code: r.code,
      stdout: r.stdout,
      notFound: /no container|not found|No such/i.test(r.stderr),
    }));
    expect(missing.local.code).not.toBe(0);
  });

  it('run -it gives the container a terminal of our size, follows its resizes, takes our keys', async () => {
    // once sized: dockerd 20.10 (API 1.41) takes no size at create, so the CLI sizes the terminal
    // right after the start, as the docker CLI does. After the resize, the new size once it has
    // come through: the key typed half a second after it could outrun the resize call when loaded
    const script = `${sized}; stty size; tty; echo ready; read x; ${until('24 80')}; stty size`;
    const tty = name('tty');
    onTheWayOut.push(() => onEach(['rm', '-f', tty]));
    for (const t of targets) {
      const r = runInPty(
        [...ocikitArgv(t), 'run', '--rm', '-it', '--name', tty, ref, 'sh', '-c', script],
        [
          { after: 'ready', resize: [30, 100] },
          { after: 'ready', delay: 0.5, send: 'x\r' },
        ],
        { size: [24, 80], timeoutMs: 40_000 },
      );
      expect
        .soft(`${r.status} ${r.output.replace(/\r/g, '')}`, t)
        .toMatch(/^0 24 80\n\/dev\/pts\/\d+\nready\nx\n30 100\n$/);
    }
  }, 150_000);

  it('DOCKER_HOST and CONTAINER_HOST point it at dockerd (docker driver) and podman (podman driver)', async () => {
    const viaEnv = (env: Record<string, string>, args: string[]) =>
      runCli(args, { env: { ...cleanEnv, ...env } });
    const onDocker = name('on-docker');
    expect((await cli('docker', ['create', '--name', onDocker, ref, 'true'])).code).toBe(0);
    onTheWayOut.push(() => cli('docker', ['rm', '-f', onDocker]));
    const listed = await viaEnv({ DOCKER_HOST: dockerd.host }, ['ps', '-a', '--format', '{{.Names}}']);
    expect(listed.stdout.split('\n'), 'DOCKER_HOST').toContain(onDocker);
    // CONTAINER_HOST wins, and is podman's: errors name the podman driver
    const both = { CONTAINER_HOST: podman.host, DOCKER_HOST: dockerd.host };
    const onPodman = await viaEnv(both, ['ps', '-a', '--format', '{{.Names}}']);
    expect(onPodman.code, onPodman.stderr).toBe(0);
    expect(onPodman.stdout.split('\n')).not.toContain(onDocker);
    const missing = await viaEnv(both, ['logs', name('none')]);
    expect(missing.stderr).toMatch(/^ocikit: podman: /);
    expect((await viaEnv({ DOCKER_HOST: dockerd.host }, ['logs', name('none')])).stderr).toMatch(
      /^ocikit: docker: /,
    );
    expect((await cli('docker', ['rm', onDocker])).code).toBe(0);
  });

  it('rmi removes the image from each engine', async () => {
    const removed = await onEach(['rmi', ref]);
    expectSame(removed, (r) => r.code);
    expect(removed.local.code, removed.local.stderr).toBe(0);
    expectSame(await onEach(['images', '-q']));
  });
});
