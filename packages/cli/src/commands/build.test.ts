// `ocikit build` through the real entry point on a temp state root with the busybox test image:
// its flags (-t twice, -f from elsewhere, --build-arg, --label, --target, --iidfile, -o oci: and
// docker-archive:, --push to the real test registry), step lines and RUN output on stderr, the id on
// stdout, a cached rebuild, and a failing RUN (exit 1, the step's exit code and last output, nothing
// tagged). The base image of a second build is pulled from the registry through the local engine.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runInPty } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, storeBusybox } from '../lib/test-cli.ts';
import { buildExports } from './build.ts';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
let dir: string;
let root: string;
let registry: RunningRegistry;
const cli = (args: string[], options: { env?: Record<string, string> } = {}) =>
  runCli(['--root', root, ...args], options);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocikit-cli-build-'));
  root = join(dir, 'root');
  registry = await startRegistry();
  await storeBusybox(root);
  mkdirSync(join(dir, 'ctx'));
  writeFileSync(join(dir, 'ctx', 'app.txt'), 'the app\n');
  mkdirSync(join(dir, 'elsewhere'));
  writeFileSync(
    join(dir, 'elsewhere', 'Build.dockerfile'),
    [
      'FROM busybox AS base',
      'ARG WHO=nobody',
      'RUN echo "building for $WHO" && echo "$WHO" > /who',
      'FROM base AS final',
      'COPY app.txt /app.txt',
      'CMD ["cat", "/who", "/app.txt"]',
      'FROM final AS extra',
      'RUN echo never-built > /extra',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ocikit build', () => {
  it('builds with -f, --build-arg, --label, --target, two -t, --iidfile and -o; streams steps and RUN output', async () => {
    const built = await cli([
      ...['build', '-f', join(dir, 'elsewhere', 'Build.dockerfile'), '--build-arg', 'WHO=tests'],
      ...['--label', 'org.example.k=v', '--target', 'final', '-t', 'app:1', '-t', 'app:latest'],
      ...['--network', 'none', '--iidfile', join(dir, 'iid'), '-o', `oci:${join(dir, 'layout')}:app`],
      ...['-o', `docker-archive:${join(dir, 'app.tar')}:app:1`, join(dir, 'ctx')],
    ]);
    expect(built.code, built.stderr).toBe(0);
    const id = built.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(dir, 'iid'), 'utf8')).toBe(id);
    expect(built.stderr).toMatch(/^STEP 2\/4: RUN echo "building for \$WHO"/m);
    expect(built.stderr).toMatch(/^building for tests$/m);
    expect(built.stderr).toMatch(/^STEP \d+\/\d+: COPY app\.txt \/app\.txt$/m);
    expect(built.stderr).not.toContain('never-built');

    const ran = await cli(['run', '--rm', 'app:latest']);
    expect(ran).toMatchObject({ code: 0, stdout: 'tests\nthe app\n' });
    const inspected = JSON.parse((await cli(['--json', 'inspect', 'app:1'])).stdout) as {
      image: { config: { labels: Record<string, string> } };
    };
    expect(inspected.image.config.labels).toMatchObject({ 'org.example.k': 'v' });
    // history: a step per instruction, newest first, the image's id on the newest, the base's on its step
    const history = (await cli(['history', '--no-trunc', 'app:1'])).stdout.trimEnd().split('\n');
    expect(history[1]).toMatch(new RegExp(`^${id}\\s.*CMD \\["cat", "/who", "/app.txt"\\]\\s+0B$`));
    // sizes uncompressed, as podman's (decision 213): the COPY layer's tar is a header, the file and
    // the end blocks (2.05kB); the base layer 2MB
    expect(history.some((l) => /^<missing>\s.*COPY file:[0-9a-f]+ in \/app\.txt\s+2\.05kB$/.test(l))).toBe(
      true,
    );
    expect(history.at(-1)).toMatch(/^sha256:[0-9a-f]{64}\s.*@ocikit\/test-images\s+2MB$/);
    // the exports: skopeo reads both
    await exec('skopeo', ['inspect', `oci:${join(dir, 'layout')}:app`]);
    await exec('skopeo', ['inspect', `docker-archive:${join(dir, 'app.tar')}`]);

    const again = await cli([
      ...['build', '-f', join(dir, 'elsewhere', 'Build.dockerfile'), '--build-arg', 'WHO=tests'],
      ...['--label', 'org.example.k=v', '--target', 'final', '--network', 'none', join(dir, 'ctx')],
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(id);
    expect(again.stderr).toContain('--> Using cache');
    expect(again.stderr).not.toMatch(/^building for tests$/m);
  }, 120_000);

  it('pulls a base image missing from the store through the local engine, and --push pushes every -t name', async () => {
    const base = `${registry.host}/lib/busybox:1`;
    const pushed = await cli(['push', 'busybox', base]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const ctx = join(dir, 'pushctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nRUN echo pushed > /pushed\n`);
    const fresh = join(dir, 'fresh-root');
    const tag = `${registry.host}/built/app:1`;
    const built = await runCli([
      '--root',
      fresh,
      '-q',
      'build',
      '--network',
      'none',
      '-t',
      tag,
      '--push',
      ctx,
    ]);
    expect(built.code, built.stderr).toBe(0);
    const id = built.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built.stderr).toBe('');
    // the registry has the image: its config is the one built
    const config = await exec('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      '--config',
      `docker://${tag}`,
    ]);
    expect(`sha256:${createHash('sha256').update(config.stdout).digest('hex')}`).toBe(id);
  }, 120_000);

  it('a failing RUN ends the build with exit 1, its exit code and last output; nothing is tagged', async () => {
    const ctx = join(dir, 'failctx');
    mkdirSync(ctx);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM busybox\nRUN echo first line && echo the-last-words >&2 && exit 3\n',
    );
    const failed = await cli(['build', '--network', 'none', '-t', 'broken:1', ctx]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('exited with code 3');
    expect(failed.stderr).toContain('the-last-words');
    expect(failed.stdout).toBe('');
    const inspect = await cli(['inspect', 'broken:1']);
    expect(inspect.code).not.toBe(0);
  }, 120_000);

  it('Ctrl-C during a RUN stops the build (exit 130): its container, mounts and working snapshot are gone', async () => {
    const ctx = join(dir, 'intctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo started && sleep 347\n');
    const child = spawn(
      process.execPath,
      ['--conditions=@ocikit/source', bin, '--root', root, 'build', '--network', 'none', '-t', 'int:1', ctx],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const started = new Promise<void>((resolve) =>
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('started\n')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await started;
    // while the step runs there is what the interrupt must remove: its process and working snapshot
    const during = JSON.parse((await cli(['--json', 'snapshots', 'ls'])).stdout) as {
      snapshots: { name: string; kind: string }[];
    };
    expect(during.snapshots.filter((s) => s.kind !== 'committed').length).toBeGreaterThan(0);
    expect((await exec('sh', ['-c', 'pgrep -f "^sleep 347$" || true'])).stdout.trim()).not.toBe('');
    const t0 = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const snapshots = JSON.parse((await cli(['--json', 'snapshots', 'ls'])).stdout) as {
      snapshots: { name: string; kind: string }[];
    };
    expect(snapshots.snapshots.filter((s) => s.kind !== 'committed')).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(root);
    const sleeping = await exec('sh', ['-c', 'pgrep -f "^sleep 347$" || true']);
    expect(sleeping.stdout.trim()).toBe('');
    expect((await cli(['inspect', 'int:1'])).code).not.toBe(0);
  }, 120_000);

  it('on a terminal, each step is a bold STEP line and its layer follows it', async () => {
    const ctx = join(dir, 'ttyctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo on-a-tty > /tty\nCMD ["cat", "/tty"]\n');
    const r = runInPty(
      [
        process.execPath,
        '--conditions=@ocikit/source',
        bin,
        '--root',
        root,
        'build',
        '--network',
        'none',
        ctx,
      ],
      [],
      { timeoutMs: 60_000 },
    );
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('\x1b[1mSTEP 1/2: RUN echo on-a-tty > /tty\x1b[0m');
    expect(r.output).toMatch(/--> [0-9a-f]{12} \(\d+\.\d\ds\)/);
    expect(r.output).toContain('\x1b[1mSTEP 2/2: CMD ["cat", "/tty"]\x1b[0m');
    expect(r.output).toMatch(/sha256:[0-9a-f]{64}/);
  }, 120_000);

  it('refuses bad flags before building', async () => {
    const format = await cli(['build', '--format', 'zip', join(dir, 'ctx')]);
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('give oci or docker');
    const network = await cli(['build', '--network', 'bridge', join(dir, 'ctx')]);
    expect(network.stderr).toContain('give none or host');
    const output = await cli(['build', '-o', 'tar:x', join(dir, 'ctx')]);
    expect(output.stderr).toContain('give oci:DIR or docker-archive:FILE');
    const push = await cli(['build', '--push', join(dir, 'ctx')]);
    expect(push.stderr).toContain('--push needs a name');
  }, 60_000);
});

describe('build --output', () => {
  it('splits oci:DIR[:REF] and docker-archive:FILE[:REF] at the first ":" after the prefix, as skopeo and copy do', () => {
    expect(buildExports(['oci:/out:localhost:5000/app:1'])).toEqual([
      { type: 'oci', path: '/out', ref: 'localhost:5000/app:1' },
    ]);
    expect(buildExports(['oci:/out', 'docker-archive:/a.tar:app:1', 'type=oci,dest=/x:y'])).toEqual([
      { type: 'oci', path: '/out' },
      { type: 'docker-archive', path: '/a.tar', ref: 'app:1' },
      { type: 'oci', path: '/x:y' },
    ]);
    for (const bad of ['tar:x', 'oci:', 'oci:/out:', 'docker-archive:', 'type=tar,dest=/x', 'local:app'])
      expect(() => buildExports([bad]), bad).toThrow(/--output|no directory|no file|empty reference/);
  });
});
