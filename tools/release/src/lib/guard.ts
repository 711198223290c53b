import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UnavailableError } from '@ocikit/errors';
import type { PublicPackage } from './workspace.ts';

/** Every file below `dir`, sorted (so problems are listed in a stable order). */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

function targets(exp: unknown): string[] {
  if (typeof exp === 'string') return [exp];
  if (exp && typeof exp === 'object') return Object.values(exp).flatMap(targets);
  return [];
}

/** Sources the build compiles (tsconfig.build.json leaves out tests and `test-*` helpers). */
function builtSources(srcDir: string): string[] {
  return listFiles(srcDir).filter((f) => {
    const base = f.slice(f.lastIndexOf('/') + 1);
    return f.endsWith('.ts') && !f.endsWith('.d.ts') && !base.includes('.test.') && !base.startsWith('test-');
  });
}

/**
 * What is wrong with a package's build, as the tarball would ship it: no `dist/`, a source file
 * without its compiled `.js` and `.d.ts`, a compiled file older than its source (a build from
 * before the last edit), a compiled module whose source was deleted, or an `exports`/`bin` target
 * that is not there. Empty when it is fine.
 */
export function buildProblems(pkg: PublicPackage): string[] {
  const name = pkg.manifest.name;
  const dist = join(pkg.dir, 'dist');
  if (!existsSync(dist)) return [`${name}: no dist/ — the package was not built (run pnpm build)`];
  const problems: string[] = [];
  for (const src of builtSources(join(pkg.dir, 'src'))) {
    const rel = relative(join(pkg.dir, 'src'), src).replace(/\.ts$/, '');
    const js = join(dist, `${rel}.js`);
    for (const out of [js, join(dist, `${rel}.d.ts`)]) {
      if (!existsSync(out))
        problems.push(`${name}: ${relative(pkg.dir, out)} is missing (built from src/${rel}.ts)`);
    }
    if (existsSync(js) && statSync(js).mtimeMs < statSync(src).mtimeMs) {
      problems.push(`${name}: ${relative(pkg.dir, js)} is older than src/${rel}.ts — rebuild`);
    }
  }
  // A compiled module whose source is gone (tsc never deletes): it would be shipped all the same.
  for (const out of listFiles(dist)) {
    const rel = relative(dist, out).replace(/\.(js|d\.ts)$/, '');
    if (rel === relative(dist, out) || !existsSync(join(pkg.dir, 'src', dirname(rel)))) continue;
    if (!existsSync(join(pkg.dir, 'src', `${rel}.ts`))) {
      problems.push(`${name}: ${relative(pkg.dir, out)} has no source any more — remove dist/ and rebuild`);
    }
  }
  const bin = pkg.manifest.bin;
  const published = [
    ...targets(pkg.manifest.publishConfig?.exports ?? pkg.manifest.exports),
    ...(typeof bin === 'string' ? [bin] : Object.values(bin ?? {})),
  ];
  for (const t of published) {
    if (t.startsWith('./') && !t.includes('*') && !existsSync(join(pkg.dir, t))) {
      problems.push(`${name}: exports/bin target ${t} does not exist`);
    }
  }
  return problems;
}

/**
 * The registry a package is published to, as `pnpm publish` would pick it: `publishConfig.registry`,
 * else the `@scope:registry` setting, else `registry` (from the environment and npmrc files read
 * in `cwd`). Always ends with a slash.
 */
export function registryFor(pkg: PublicPackage, cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromConfig = (key: string): string | undefined => {
    const value = execFileSync('pnpm', ['config', 'get', key], { cwd, env, encoding: 'utf8' }).trim();
    return value === '' || value === 'undefined' ? undefined : value;
  };
  const scope = pkg.manifest.name.startsWith('@') ? pkg.manifest.name.split('/')[0] : undefined;
  const url =
    pkg.manifest.publishConfig?.registry ??
    (scope === undefined ? undefined : fromConfig(`${scope}:registry`)) ??
    fromConfig('registry') ??
    'https://registry.npmjs.org/';
  return url.endsWith('/') ? url : `${url}/`;
}

/** Why a fetch failed, in a few words: undici's cause (`ECONNREFUSED`, a reset) or the timeout. */
function why(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  if (code !== undefined) return code;
  if (cause instanceof Error) return cause.message;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The versions of `name` on the npm registry at `registry` (empty when it has never been published). */
export async function publishedVersions(
  registry: string,
  name: string,
  options: { signal?: AbortSignal } = {},
): Promise<string[]> {
  const url = `${registry}${name.replace('/', '%2f')}`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/vnd.npm.install-v1+json' },
      signal: options.signal ?? AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new UnavailableError(`cannot reach the npm registry ${registry} to look up ${name}: ${why(err)}`, {
      cause: err,
    });
  }
  if (res.status === 404) {
    await res.arrayBuffer();
    return [];
  }
  if (!res.ok) {
    await res.arrayBuffer();
    throw new UnavailableError(`the npm registry ${registry} answered ${res.status} for ${name}`);
  }
  const body = (await res.json()) as { versions?: Record<string, unknown> };
  return Object.keys(body.versions ?? {});
}

/** Which packages a release would publish, which are already on their registry, and what is wrong. */
export interface PublishPlan {
  /** Packages whose version is not on their registry yet. */
  publish: { pkg: PublicPackage; registry: string }[];
  /** Packages whose version is already there (skipped, as `changeset publish` does). */
  published: { pkg: PublicPackage; registry: string }[];
  /** Reasons not to publish anything. */
  problems: string[];
}

/**
 * Checks a release before anything is uploaded: every package to publish must be built (see
 * {@link buildProblems}), and at least one package must have a version its registry does not have
 * — a release run twice, or run before `changeset version`, publishes nothing and says so.
 */
export async function planPublish(
  packages: PublicPackage[],
  cwd: string,
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<PublishPlan> {
  const plan: PublishPlan = { publish: [], published: [], problems: [] };
  // the registry found once per scope (each lookup runs `pnpm config get` twice, synchronously:
  // 13 packages blocked the event loop long enough under CI load for the lookups' own timeouts to
  // fire), then every package's versions asked at once
  const registries = new Map<string, string>();
  const registryOf = (pkg: PublicPackage): string => {
    const key = `${pkg.manifest.publishConfig?.registry ?? ''} ${pkg.manifest.name.split('/')[0]}`;
    let registry = registries.get(key);
    if (registry === undefined) {
      registry = registryFor(pkg, cwd, options.env);
      registries.set(key, registry);
    }
    return registry;
  };
  for (const pkg of packages) registryOf(pkg);
  const looked = await Promise.all(
    packages.map(async (pkg) => {
      const registry = registryOf(pkg);
      const versions = await publishedVersions(
        registry,
        pkg.manifest.name,
        options.signal ? { signal: options.signal } : {},
      );
      return { pkg, registry, versions };
    }),
  );
  for (const { pkg, registry, versions } of looked) {
    if (versions.includes(pkg.manifest.version)) plan.published.push({ pkg, registry });
    else plan.publish.push({ pkg, registry });
  }
  for (const { pkg } of plan.publish) plan.problems.push(...buildProblems(pkg));
  if (plan.publish.length === 0) {
    plan.problems.push(
      'nothing to publish: every package version is already on its registry (add changesets and run `pnpm changeset version` first)',
    );
  }
  return plan;
}
