import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type RunningVerdaccio, startVerdaccio } from '@ocikit/test-verdaccio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProblems, planPublish, publishedVersions } from './guard.ts';
import { type PackageManifest, publicPackages } from './workspace.ts';

const run = promisify(execFile);
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A one-package workspace: `packages/demo` with an index, a lib module and a test, not built. */
function workspace(manifest: Partial<PackageManifest> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'ocikit-guard-'));
  roots.push(root);
  const dir = join(root, 'packages', 'demo');
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    'package.json',
    JSON.stringify({
      name: '@ocikit/guard-demo',
      version: '1.0.0',
      main: './dist/index.js',
      exports: { '.': './dist/index.js' },
      ...manifest,
    }),
  );
  write('src/index.ts', "export { a } from './lib/a.ts';\n");
  write('src/lib/a.ts', 'export const a = 1;\n');
  write('src/lib/a.test.ts', '// not built\n');
  write('src/lib/test-helper.ts', '// not built\n');
  return root;
}

function build(root: string, files = ['index', 'lib/a']): void {
  for (const f of files) {
    for (const ext of ['.js', '.d.ts']) {
      const out = join(root, 'packages', 'demo', 'dist', `${f}${ext}`);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, '// built\n');
    }
  }
}

const demo = (root: string) => {
  const [pkg] = publicPackages(root);
  if (pkg === undefined) throw new Error('no package');
  return pkg;
};

describe('buildProblems', () => {
  it('passes a complete, fresh build', () => {
    const root = workspace();
    build(root);
    expect(buildProblems(demo(root))).toEqual([]);
  });

  it('fails a package that was not built', () => {
    expect(buildProblems(demo(workspace()))).toEqual([
      '@ocikit/guard-demo: no dist/ — the package was not built (run pnpm build)',
    ]);
  });

  it('fails a build that lacks a module', () => {
    const root = workspace();
    build(root, ['index']);
    expect(buildProblems(demo(root))).toEqual([
      '@ocikit/guard-demo: dist/lib/a.js is missing (built from src/lib/a.ts)',
      '@ocikit/guard-demo: dist/lib/a.d.ts is missing (built from src/lib/a.ts)',
    ]);
  });

  it('fails a build older than its sources', () => {
    const root = workspace();
    build(root);
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'packages/demo/dist/lib/a.js'), old, old);
    expect(buildProblems(demo(root))).toEqual([
      '@ocikit/guard-demo: dist/lib/a.js is older than src/lib/a.ts — rebuild',
    ]);
  });

  it('fails a compiled module whose source is gone, and leaves other build output alone', () => {
    const root = workspace();
    build(root, ['index', 'lib/a', 'lib/removed']);
    mkdirSync(join(root, 'packages/demo/dist/bundle'));
    writeFileSync(join(root, 'packages/demo/dist/bundle/demo.js'), '// bundled\n');
    expect(buildProblems(demo(root))).toEqual([
      '@ocikit/guard-demo: dist/lib/removed.d.ts has no source any more — remove dist/ and rebuild',
      '@ocikit/guard-demo: dist/lib/removed.js has no source any more — remove dist/ and rebuild',
    ]);
  });

  it('fails a bin or exports target that does not exist', () => {
    const root = workspace({ bin: { demo: './bin/demo' } });
    build(root);
    expect(buildProblems(demo(root))).toEqual([
      '@ocikit/guard-demo: exports/bin target ./bin/demo does not exist',
    ]);
  });
});

describe('planPublish against a real npm registry', () => {
  let registry: RunningVerdaccio;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    registry = await startVerdaccio({ uplink: false });
    env = registry.env();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('plans to publish a new version, and refuses when every version is already published', async () => {
    const root = workspace();
    build(root);
    const first = await planPublish(publicPackages(root), root, { env });
    expect(first.problems).toEqual([]);
    expect(first.publish.map((p) => [p.pkg.manifest.name, p.registry])).toEqual([
      ['@ocikit/guard-demo', registry.url],
    ]);
    expect(await publishedVersions(registry.url, '@ocikit/guard-demo')).toEqual([]);

    await run('npm', ['publish'], { cwd: join(root, 'packages', 'demo'), env });
    expect(await publishedVersions(registry.url, '@ocikit/guard-demo')).toEqual(['1.0.0']);
    const second = await planPublish(publicPackages(root), root, { env });
    expect(second.publish).toEqual([]);
    expect(second.published.map((p) => p.pkg.manifest.name)).toEqual(['@ocikit/guard-demo']);
    expect(second.problems).toEqual([expect.stringMatching(/^nothing to publish/)]);
  });

  it('does not look at the build of a package it will not publish', async () => {
    const root = workspace({ name: '@ocikit/guard-unbuilt' });
    const plan = await planPublish(publicPackages(root), root, { env });
    expect(plan.problems).toEqual([
      '@ocikit/guard-unbuilt: no dist/ — the package was not built (run pnpm build)',
    ]);
  });

  it('follows publishConfig.registry', async () => {
    const root = workspace({
      name: '@ocikit/guard-elsewhere',
      publishConfig: { registry: registry.url.slice(0, -1) },
    });
    build(root);
    const plan = await planPublish(publicPackages(root), root, {
      env: { ...env, npm_config_registry: 'http://127.0.0.1:9/' },
    });
    expect(plan.publish.map((p) => p.registry)).toEqual([registry.url]);
  });
});

describe('publishedVersions', () => {
  it('says why a registry could not be reached (refused connection, timeout)', async () => {
    // a port nothing listens on: take one, then close it
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await new Promise((r) => server.close(r));
    await expect(publishedVersions(`http://127.0.0.1:${port}/`, '@ocikit/x')).rejects.toThrow(
      `cannot reach the npm registry http://127.0.0.1:${port}/ to look up @ocikit/x: ECONNREFUSED`,
    );
    // a registry that never answers, with a short timeout
    const silent = createHttpServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const open = (silent.address() as { port: number }).port;
    try {
      await expect(
        publishedVersions(`http://127.0.0.1:${open}/`, '@ocikit/x', { signal: AbortSignal.timeout(200) }),
      ).rejects.toThrow(/to look up @ocikit\/x: TimeoutError: /);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
