// Checks that TypeScript finds every published package's types however a consumer resolves modules
// (issue 19 item 4, decision 012), on the packed tarballs, not the repository:
// 1. @arethetypeswrong/cli on each tarball: every entry point resolves to type declarations under
//    node10, node16 (from ESM) and bundler, with no problem reported. The one problem allowed is
//    CJSResolvesToESM under node16 (from CJS): the packages are ESM only, on purpose.
// 2. A TypeScript project with `"moduleResolution": "node10"` (once with `"module": "commonjs"`, once
//    with `"module": "esnext"`), the tarballs unpacked into its node_modules, imports every entry point
//    and `tsc --noEmit`s with `skipLibCheck: false`: no entry point's types are `any`, and every name
//    the entry point exports at run time has a type.
// `--packed DIR` takes the tarballs `pack.ts --keep DIR` left; otherwise it packs them itself.
import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { type Packed, packPublic, readPacked } from './src/pack-lib.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const { packed: packedDir } = parseArgs({ options: { packed: { type: 'string' } } }).values;
const work = mkdtempSync(join(tmpdir(), 'ocikit-types-'));
const problems: string[] = [];

/** The resolutions a consumer's TypeScript may use that must find our types. */
const mustResolve = ['node10', 'node16-esm', 'bundler'] as const;

interface AttwResolution {
  resolution?: { fileName: string; isTypeScript: boolean };
}
interface AttwReport {
  analysis: {
    entrypoints: Record<string, { resolutions: Record<string, AttwResolution> }>;
    problems: { kind: string; entrypoint?: string; resolutionKind?: string }[];
  };
}

/** The published `exports` subpaths of a packed package that are modules (not `./package.json`). */
function moduleEntries(p: Packed): { subpath: string; target: string }[] {
  const m = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as {
    exports?: Record<string, string | { default?: string }>;
  };
  return Object.entries(m.exports ?? {}).flatMap(([subpath, t]) => {
    const target = typeof t === 'string' ? t : t.default;
    return target?.endsWith('.js') ? [{ subpath, target }] : [];
  });
}

/** Runs attw on one tarball; adds what it finds to `problems`. */
async function attw(p: Packed): Promise<void> {
  const bin = join(root, 'node_modules/.bin/attw');
  // attw exits 1 when it reports anything, ESM-only included: read its report, not its exit code
  const out = await run(bin, ['--format', 'json', '--no-definitely-typed', p.tarball], {
    maxBuffer: 64 << 20,
  }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  let report: AttwReport;
  try {
    report = JSON.parse(out.stdout) as AttwReport;
  } catch {
    problems.push(`${p.name}: attw gave no report: ${out.stderr.trim()}`);
    return;
  }
  for (const problem of report.analysis.problems) {
    if (problem.kind === 'CJSResolvesToESM' && problem.resolutionKind === 'node16-cjs') continue;
    problems.push(
      `${p.name}: attw ${problem.kind} for "${problem.entrypoint ?? '?'}" under ${problem.resolutionKind ?? 'every resolution'}`,
    );
  }
  for (const { subpath } of moduleEntries(p)) {
    const entry = report.analysis.entrypoints[subpath];
    for (const kind of mustResolve) {
      const r = entry?.resolutions[kind]?.resolution;
      if (!r?.isTypeScript || !r.fileName.endsWith('.d.ts')) {
        problems.push(`${p.name}: "${subpath}" has no type declarations under ${kind} (attw)`);
      }
    }
  }
}

/** The tsconfig of a consumer project that resolves modules the node10 way. */
function consumerConfig(module: 'commonjs' | 'esnext'): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'es2024',
      lib: ['es2024', 'ESNext.Disposable'],
      module,
      moduleResolution: 'node10',
      types: ['node'],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    },
    files: ['consumer.ts'],
  });
}

/**
 * Unpacks every tarball into a fresh project's node_modules (their npm dependencies and @types/node
 * linked from the repository's install), writes a consumer importing every entry point, and
 * typechecks it under node10 resolution.
 */
async function node10Project(all: readonly Packed[]): Promise<void> {
  const project = join(work, 'consumer');
  const modules = join(project, 'node_modules');
  const link = (name: string, from: string) => {
    const to = join(modules, name);
    mkdirSync(dirname(to), { recursive: true });
    try {
      symlinkSync(realpathSync(join(from, 'node_modules', name)), to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  };
  for (const p of all) {
    const into = join(modules, p.name);
    mkdirSync(into, { recursive: true });
    await run('tar', ['-xzf', p.tarball, '-C', into, '--strip-components=1']);
    const m = JSON.parse(readFileSync(join(into, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(m.dependencies ?? {})) {
      if (!dep.startsWith('@ocikit/')) link(dep, join(root, 'packages', p.dirName));
    }
  }
  link('@types/node', root);

  const lines = ['type IsAny<T> = 0 extends 1 & T ? true : false;'];
  let i = 0;
  for (const p of all) {
    for (const { subpath, target } of moduleEntries(p)) {
      const spec = subpath === '.' ? p.name : `${p.name}/${subpath.slice(2)}`;
      const names = Object.keys(
        (await import(pathToFileURL(join(modules, p.name, target)).href)) as Record<string, unknown>,
      ).sort();
      lines.push(
        `import * as m${i} from '${spec}';`,
        `export const notAny${i}: IsAny<typeof m${i}> = false;`,
        `export const names${i}: ReadonlyArray<keyof typeof m${i}> = ${JSON.stringify(names)};`,
      );
      i++;
    }
  }
  writeFileSync(join(project, 'consumer.ts'), `${lines.join('\n')}\n`);
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  await Promise.all(
    (['commonjs', 'esnext'] as const).map(async (module) => {
      const config = join(project, `tsconfig.${module}.json`);
      writeFileSync(config, consumerConfig(module));
      await run(process.execPath, [tsc, '-p', config], { cwd: project }).catch((e: { stdout?: string }) => {
        const errors = (e.stdout ?? String(e)).trim().split('\n');
        const shown = errors.slice(0, 20).map((l) => `\n    ${l}`);
        problems.push(`moduleResolution node10, module ${module}: tsc failed:${shown.join('')}`);
      });
    }),
  );
}

try {
  const all =
    packedDir === undefined ? await packPublic(root, join(work, 'packed')) : readPacked(resolve(packedDir));
  await Promise.all([...all.map(attw), node10Project(all)]);
  for (const p of all)
    console.log(
      `types check: ${p.name} (${moduleEntries(p)
        .map((e) => e.subpath)
        .join(', ')})`,
    );
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`types check: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(
  'types check: every entry point has types under node10, node16 (ESM) and bundler, and typechecks from a node10 project',
);
