// `pnpm release` end to end against a real npm registry on loopback (Verdaccio, never the npm
// registry for @ocikit/*): in a copy of the repository, version with changesets, refuse a release
// with a package unbuilt, publish every package, refuse to publish twice; then install the packages
// as users do — a fresh project with @ocikit/registry alone running its README example against the
// real container registry, and a global @ocikit/cli that pulls and runs a container with runc.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { type RunningVerdaccio, startVerdaccio } from '@ocikit/test-verdaccio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planPublish } from './lib/guard.ts';
import { readmeExamples } from './lib/readme.ts';
import { commitAll, copyRepository } from './lib/repo-copy.ts';
import { type PackageManifest, type PublicPackage, publicPackages } from './lib/workspace.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const temps: string[] = [];
const temp = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `ocikit-release-${name}-`));
  temps.push(dir);
  return dir;
};

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}
/** Runs a command to its end without blocking the event loop (the registries log through pipes). */
function sh(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { ...options, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
const output = (r: Ran) => `${r.stdout}\n${r.stderr}`;

let npmRegistry: RunningVerdaccio;
let registry: RunningRegistry;
let repo: string;
let packages: PublicPackage[];
/** The environment of every npm and pnpm command: Verdaccio is the only registry they know. */
let env: NodeJS.ProcessEnv;
let busybox: string;

/** What Verdaccio holds of a package: its versions, and its tarball URL per version. */
async function served(name: string): Promise<Record<string, string>> {
  const res = await fetch(`${npmRegistry.url}${name.replace('/', '%2f')}`);
  if (res.status === 404) return {};
  const body = (await res.json()) as { versions: Record<string, { dist: { tarball: string } }> };
  return Object.fromEntries(Object.entries(body.versions).map(([v, m]) => [v, m.dist.tarball]));
}

beforeAll(async () => {
  npmRegistry = await startVerdaccio();
  registry = await startRegistry();
  const image = buildBusyboxImage(join(temp('layout'), 'layout'));
  busybox = `${registry.host}/library/busybox:latest`;
  const push = await sh('skopeo', [
    'copy',
    '--dest-tls-verify=false',
    `oci:${image.layout}:busybox`,
    `docker://${busybox}`,
  ]);
  expect(push.code, push.stderr).toBe(0);

  repo = copyRepository(root);
  temps.push(repo);
  env = {
    ...npmRegistry.env(),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  const version = await sh('pnpm', ['changeset', 'version'], { cwd: repo, env });
  expect(version.code, output(version)).toBe(0);
  commitAll(repo, 'Version Packages');
  packages = publicPackages(repo);
}, 300_000);

afterAll(async () => {
  await npmRegistry?.stop();
  await registry?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('pnpm release against Verdaccio', () => {
  it('versions every public package for its release, each with a changelog', () => {
    expect(packages.length).toBeGreaterThanOrEqual(10);
    for (const pkg of packages) {
      expect(pkg.manifest.version, pkg.manifest.name).not.toBe('0.0.0');
      expect(readFileSync(join(pkg.dir, 'CHANGELOG.md'), 'utf8')).toContain(`## ${pkg.manifest.version}`);
    }
  });

  it('would publish to Verdaccio only', async () => {
    const plan = await planPublish(packages, repo, { env });
    expect(new Set([...plan.publish, ...plan.published].map((p) => p.registry))).toEqual(
      new Set([npmRegistry.url]),
    );
  }, 300_000);

  it('refuses, before anything is uploaded, when a package was not built', async () => {
    const manifestPath = join(repo, 'packages', 'cli', 'package.json');
    const original = readFileSync(manifestPath, 'utf8');
    const manifest = JSON.parse(original) as PackageManifest & { scripts: Record<string, string> };
    delete manifest.scripts.build; // the build "forgets" one package
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    rmSync(join(repo, 'packages', 'cli', 'dist'), { recursive: true, force: true });
    try {
      const release = await sh('pnpm', ['release'], { cwd: repo, env });
      expect(release.code).not.toBe(0);
      expect(release.stderr).toContain('@ocikit/cli: no dist/ — the package was not built');
      for (const pkg of packages) expect(await served(pkg.manifest.name), pkg.manifest.name).toEqual({});
    } finally {
      writeFileSync(manifestPath, original);
    }
  }, 300_000);

  it('publishes every package, each tarball with its LICENSE, README and a manifest for npm users', async () => {
    const release = await sh('pnpm', ['release'], { cwd: repo, env });
    expect(release.code, output(release)).toBe(0);
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    for (const pkg of packages) {
      const versions = await served(pkg.manifest.name);
      expect(Object.keys(versions), pkg.manifest.name).toEqual([pkg.manifest.version]);
      const tarball = join(temp('tarball'), 'p.tgz');
      const res = await fetch(versions[pkg.manifest.version] ?? '');
      writeFileSync(tarball, new Uint8Array(await res.arrayBuffer()));
      const untar = await sh('tar', ['-xzf', tarball, '-C', join(tarball, '..')]);
      expect(untar.code, untar.stderr).toBe(0);
      expect(readFileSync(join(tarball, '..', 'package', 'LICENSE'), 'utf8'), pkg.manifest.name).toBe(
        license,
      );
      expect(existsSync(join(tarball, '..', 'package', 'README.md')), pkg.manifest.name).toBe(true);
      // What npm users get: dist entry points and real version ranges, no source condition or workspace: links.
      const published = readFileSync(join(tarball, '..', 'package', 'package.json'), 'utf8');
      expect(published, pkg.manifest.name).not.toMatch(/workspace:|@ocikit\/source/);
    }
  }, 300_000);

  it('refuses to publish twice, before anything is uploaded', async () => {
    const again = await sh('pnpm', ['release'], { cwd: repo, env });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('nothing to publish');
    expect(output(again)).not.toContain('🦋'); // the guard stopped it before changeset publish ran
    for (const pkg of packages) {
      expect(Object.keys(await served(pkg.manifest.name))).toEqual([pkg.manifest.version]);
    }
  }, 300_000);

  it('installs @ocikit/registry alone with only its dependencies, and runs its README example', async () => {
    const project = temp('project');
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'fresh', private: true, type: 'module' }),
    );
    const install = await sh('npm', ['install', '@ocikit/registry'], { cwd: project, env });
    expect(install.code, output(install)).toBe(0);

    // Every installed package is reachable from @ocikit/registry through dependencies, and the
    // @ocikit ones are exactly the workspace's dependency closure of @ocikit/registry.
    const lock = JSON.parse(readFileSync(join(project, 'node_modules', '.package-lock.json'), 'utf8')) as {
      packages: Record<
        string,
        { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }
      >;
    };
    const installed = new Map(
      Object.entries(lock.packages).map(([path, meta]) => [path.replace(/^.*node_modules\//, ''), meta]),
    );
    const reachable = new Set<string>();
    const queue = ['@ocikit/registry'];
    for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
      if (reachable.has(name) || !installed.has(name)) continue;
      reachable.add(name);
      const meta = installed.get(name);
      queue.push(...Object.keys({ ...meta?.dependencies, ...meta?.optionalDependencies }));
    }
    expect([...installed.keys()].sort()).toEqual([...reachable].sort());
    const byName = new Map(packages.map((p) => [p.manifest.name, p.manifest]));
    const closure = new Set<string>();
    const walk = (name: string): void => {
      if (closure.has(name)) return;
      closure.add(name);
      for (const dep of Object.keys(byName.get(name)?.dependencies ?? {})) if (byName.has(dep)) walk(dep);
    };
    walk('@ocikit/registry');
    expect([...reachable].filter((n) => n.startsWith('@ocikit/')).sort()).toEqual([...closure].sort());
    expect((await sh('npm', ['ls', '--all'], { cwd: project, env })).code).toBe(0);

    const [example] = readmeExamples(join(repo, 'packages', 'registry', 'README.md')).filter((e) => e.run);
    expect(example).toBeDefined();
    writeFileSync(
      join(project, 'example.ts'),
      (example?.code ?? '').replaceAll('localhost:5000', registry.host),
    );
    const ran = await sh(process.execPath, ['example.ts'], {
      cwd: project,
      env: { ...env, DOCKER_CONFIG: temp('docker'), REGISTRY_AUTH_FILE: join(project, 'none.json') },
    });
    expect(ran.code, output(ran)).toBe(0);
    expect(ran.stdout).toMatch(/sha256:[0-9a-f]{64}/);
    expect(readdirSync(join(project, 'busybox'))).toContain('index.json');
  }, 300_000);

  it('installs @ocikit/cli globally, and its ocikit knows its version, pulls and runs a container', async () => {
    const prefix = temp('global');
    const install = await sh('npm', ['install', '--global', '--prefix', prefix, '@ocikit/cli'], {
      cwd: prefix,
      env,
    });
    expect(install.code, output(install)).toBe(0);
    const ocikit = join(prefix, 'bin', 'ocikit');
    const cliVersion = packages.find((p) => p.manifest.name === '@ocikit/cli')?.manifest.version;
    expect((await sh(ocikit, ['--version'])).stdout).toBe(`ocikit ${cliVersion}\n`);
    const state = temp('root');
    const cliEnv = { ...env, DOCKER_CONFIG: temp('docker'), XDG_RUNTIME_DIR: temp('run'), NO_COLOR: '1' };
    const pull = await sh(ocikit, ['--root', state, 'pull', busybox], { env: cliEnv });
    expect(pull.code, output(pull)).toBe(0);
    const run = await sh(ocikit, ['--root', state, 'run', '--rm', busybox, 'echo', 'hello from a release'], {
      env: cliEnv,
    });
    expect(run.code, output(run)).toBe(0);
    expect(run.stdout).toBe('hello from a release\n');
  }, 300_000);
});
