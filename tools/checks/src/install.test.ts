// The `ocikit` executable wherever users install it (issue 13, decision 023): the ten packages packed
// as `pnpm publish` would, installed into a project with npm and with pnpm, globally by each, run
// from the repository with `pnpm exec`, with `pnpm dlx` from a real npm registry (Verdaccio) they
// were published to, and on a system whose `env` and `sh` are busybox's. Each way
// runs `--version`, a digest and a validation (which loads zod from the installed tree), and checks
// that Node started with the executable's tuning (malloc tunables, semi-space flags). Needs
// `pnpm build` first, as the repository's `pnpm test` does.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVerdaccio } from '@ocikit/test-verdaccio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cliVersion = (
  JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')) as { version: string }
).version;
const work = mkdtempSync(join(tmpdir(), 'ocikit-install-'));
const tarballs = join(work, 'tarballs');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const data = join(work, 'data.txt');
writeFileSync(data, 'hello world');
const dataDigest = 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';
const runtimeConfig = join(work, 'config.json');
writeFileSync(runtimeConfig, '{"ociVersion": "1.2.0"}');
// Loaded into every Node started (NODE_OPTIONS), npm's and pnpm's too: the loader's records its flags
// and the environment it started with, before it takes the malloc tunables out.
const probe = join(work, 'probe.cjs');
writeFileSync(
  probe,
  `const fs = require('node:fs');
if (process.env.OCIKIT_PROBE_OUT && /ocikit([.]js)?$/.test(process.argv[1] ?? '')) fs.appendFileSync(process.env.OCIKIT_PROBE_OUT, JSON.stringify({
  execArgv: process.execArgv,
  tunables: process.env.GLIBC_TUNABLES ?? null,
}) + '\\n');
`,
);

/** The environment of a user's shell: none of the npm_* and pnpm variables this test runs under. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|INIT_CWD$)/i.test(k)) env[k] = v;
  }
  return { ...env, XDG_CACHE_HOME: join(work, 'cache'), ...extra };
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  return new Promise<Ran>((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? work, env: options.env ?? userEnv(), maxBuffer: 16 << 20 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function runOk(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const r = await run(file, args, options);
  expect(r.code, `${file} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/**
 * Runs `ocikit` through `launch` (a command line ending where ocikit's arguments begin) three ways,
 * and checks each ran, with the executable's tuning.
 */
async function expectWorking(
  launch: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const [file, ...pre] = launch as [string, ...string[]];
  const out = join(work, `probe-${Math.random().toString(36).slice(2)}.jsonl`);
  const env = { ...(options.env ?? userEnv()), NODE_OPTIONS: `--require ${probe}`, OCIKIT_PROBE_OUT: out };
  const opts = { ...options, env };
  const version = await run(file, [...pre, '--version'], opts);
  expect(version.stderr).toBe('');
  expect(version.code).toBe(0);
  expect(version.stdout).toBe(`ocikit ${cliVersion}\n`);
  const digest = await runOk(file, [...pre, 'digest', data], opts);
  expect(digest.stdout.trim()).toBe(dataDigest);
  await runOk(file, [...pre, 'validate', '--kind', 'runtime-config', runtimeConfig], opts);
  const started = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { execArgv: string[]; tunables: string | null });
  expect(started).toHaveLength(3);
  for (const s of started) {
    expect(s.execArgv).toEqual(
      expect.arrayContaining(['--min-semi-space-size=2', '--max-semi-space-size=2']),
    );
    expect(s.tunables).toBe('glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304');
  }
}

/** Every public package as its tarball, by name. */
const packed = new Map<string, string>();

/** `{ "@ocikit/x": "file:…tgz" }` for every packed package: what a registry would resolve. */
const fileSpecs = () => Object.fromEntries([...packed].map(([name, tgz]) => [name, `file:${tgz}`]));

function project(name: string, manifest: Record<string, unknown>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, ...manifest }, null, 2));
  return dir;
}

/** Runs `make` once, on first use; every later call gets the same promise. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}

/** A project that installed every packed package with npm, as from a registry. */
const npmProject = once(async () => {
  const dir = project('with-npm', { dependencies: fileSpecs(), overrides: fileSpecs() });
  await runOk('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  return dir;
});

/** The same with pnpm, which takes the tarballs for the packages' own dependencies through overrides. */
const pnpmProject = once(async () => {
  const dir = project('with-pnpm', { dependencies: fileSpecs(), pnpm: { overrides: fileSpecs() } });
  await runOk('pnpm', ['install', '--reporter=silent'], { cwd: dir });
  return dir;
});

/** `npm install -g` of every packed package into a prefix of its own; resolves to its bin directory. */
const npmGlobal = once(async () => {
  const prefix = join(work, 'npm-global');
  await runOk('npm', [
    'install',
    '-g',
    '--prefix',
    prefix,
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...packed.values(),
  ]);
  return join(prefix, 'bin');
});

/** `pnpm add -g @ocikit/cli` into a PNPM_HOME of its own; resolves to it (where pnpm puts the wrapper). */
const pnpmGlobal = once(async () => {
  const home = join(work, 'pnpm-global');
  // pnpm's global project takes overrides like any other: the packed packages stand in for a registry
  const globalDir = join(home, 'global', '5');
  mkdirSync(globalDir, { recursive: true });
  writeFileSync(join(globalDir, 'package.json'), JSON.stringify({ pnpm: { overrides: fileSpecs() } }));
  const env = userEnv({ PNPM_HOME: home, PATH: `${home}:${process.env.PATH}` });
  await runOk('pnpm', ['add', '-g', '--reporter=silent', packed.get('@ocikit/cli') ?? ''], { env });
  return home;
});

beforeAll(async () => {
  mkdirSync(tarballs, { recursive: true });
  const dirs = readdirSync(join(root, 'packages')).filter((d) => {
    const m = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as {
      private?: boolean;
    };
    return !m.private;
  });
  await Promise.all(
    dirs.map((d) =>
      runOk('pnpm', ['pack', '--pack-destination', join(tarballs, d)], {
        cwd: join(root, 'packages', d),
        env: userEnv(),
      }),
    ),
  );
  for (const d of dirs) {
    const tgz = readdirSync(join(tarballs, d)).find((f) => f.endsWith('.tgz'));
    const m = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as { name: string };
    if (tgz) packed.set(m.name, join(tarballs, d, tgz));
  }
  expect(packed.size).toBe(dirs.length);
});

describe('the ocikit executable, installed', { timeout: 240_000 }, () => {
  it('runs as `pnpm exec ocikit` in the repository', async () => {
    await expectWorking(['pnpm', 'exec', 'ocikit'], { cwd: root });
  });

  it('runs from a project that installed the packed packages with npm (npx, and .bin)', async () => {
    const dir = await npmProject();
    await expectWorking(['npx', '--no-install', 'ocikit'], { cwd: dir });
    await expectWorking([join(dir, 'node_modules/.bin/ocikit')]);
  });

  it('runs from a project that installed the packed packages with pnpm (pnpm exec, and .bin)', async () => {
    const dir = await pnpmProject();
    await expectWorking(['pnpm', 'exec', 'ocikit'], { cwd: dir });
    await expectWorking([join(dir, 'node_modules/.bin/ocikit')]);
  });

  it('runs from a global install by npm', async () => {
    const bin = await npmGlobal();
    await expectWorking(['ocikit'], { env: userEnv({ PATH: `${bin}:${process.env.PATH}` }) });
  });

  it('runs from a global install by pnpm', async () => {
    const home = await pnpmGlobal();
    await expectWorking(['ocikit'], {
      env: userEnv({ PNPM_HOME: home, PATH: `${home}:${process.env.PATH}` }),
    });
  });

  it('runs with pnpm dlx, from a registry (Verdaccio) the packed packages were published to', async () => {
    await using registry = await startVerdaccio();
    const env = userEnv({ NPM_CONFIG_USERCONFIG: registry.npmrc });
    for (const tgz of packed.values()) {
      await runOk('npm', ['publish', tgz, '--registry', registry.url, '--loglevel=error'], { env });
    }
    await expectWorking(['pnpm', '--silent', 'dlx', '@ocikit/cli'], { env });
  });

  it('runs where env and sh are busybox (as on Alpine): npm link, pnpm wrapper, global', async () => {
    // a private mount namespace in which /usr/bin/env and /bin/sh are busybox, and busybox's applets
    // come first on PATH (readlink, dirname, sed, uname for the wrappers)
    const applets = join(work, 'busybox-bin');
    mkdirSync(applets, { recursive: true });
    await runOk('busybox', ['--install', '-s', applets]);
    const env = userEnv({ PATH: `${applets}:${process.env.PATH}` });
    const script = [
      'set -e',
      'mount --bind /bin/busybox /usr/bin/env',
      'mount --bind /bin/busybox /bin/sh',
      '/usr/bin/env --help 2>&1 | grep -q BusyBox',
      '/bin/sh --help 2>&1 | grep -q BusyBox',
      'exec "$@"',
    ].join('\n');
    const bins = [
      join(await npmProject(), 'node_modules/.bin/ocikit'), // npm's symlink
      join(await pnpmProject(), 'node_modules/.bin/ocikit'), // pnpm's wrapper script
      join(await npmGlobal(), 'ocikit'),
      join(await pnpmGlobal(), 'ocikit'),
    ];
    for (const bin of bins) {
      await expectWorking(
        ['unshare', '-m', '--propagation', 'private', 'bash', '-c', script, 'busybox', bin],
        { env },
      );
    }
  });
});
