/**
 * Dependency rules for the monorepo: no import cycles, no package importing one that DESIGN.md does
 * not allow, no reaching into another package's internals, no undeclared npm imports.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/** Which workspace packages each package may depend on (../shared/DESIGN.md, "Packages"). */
export const allowed: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  digest: ['errors'],
  reference: ['errors', 'digest'],
  'image-spec': ['errors', 'digest'],
  'runtime-spec': ['errors', 'image-spec'],
  content: ['errors', 'digest', 'reference', 'image-spec'],
  registry: ['errors', 'digest', 'reference', 'image-spec', 'content'],
  snapshot: ['errors', 'digest', 'image-spec', 'content'],
  shim: ['errors', 'runtime-spec'],
  engine: ['errors', 'reference', 'image-spec'],
  network: ['errors'],
  signature: ['errors', 'digest', 'reference', 'image-spec', 'content'],
  build: ['errors', 'digest', 'reference', 'image-spec', 'runtime-spec', 'content', 'snapshot', 'shim'],
  local: [
    'errors',
    'digest',
    'reference',
    'image-spec',
    'runtime-spec',
    'content',
    'registry',
    'snapshot',
    'shim',
    'engine',
    'network',
    'signature',
  ],
  cli: [
    'errors',
    'digest',
    'reference',
    'image-spec',
    'runtime-spec',
    'content',
    'registry',
    'snapshot',
    'shim',
    'engine',
    'local',
    'network',
    'signature',
    'build',
  ],
};

const scope = '@ocikit/';
const importRe =
  /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function listTs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The module specifiers a TypeScript source file imports or re-exports. */
export function importsOf(source: string): string[] {
  const noComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of noComments.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (spec) out.push(spec);
  }
  return out;
}

const isTest = (file: string) =>
  /\.test\.ts$|[/\\]test-[^/\\]*\.ts$/.test(file) || /[/\\]test[/\\]/.test(file);

function packageNameOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

/** The subpaths a workspace package declares in its `exports` (`./testsuite`): public, not internals. */
function exportedSubpaths(pkgsDir: string, name: string): Set<string> {
  for (const dirName of readdirSync(pkgsDir)) {
    const manifestPath = join(pkgsDir, dirName, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string; exports?: unknown };
    if (manifest.name !== name) continue;
    const exp = manifest.exports;
    return new Set(
      exp && typeof exp === 'object'
        ? Object.keys(exp).filter((k) => k !== '.' && k !== './package.json')
        : [],
    );
  }
  return new Set();
}

/** Finds cycles in a directed graph; each cycle is returned once, as the list of its nodes. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, 1);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 2);
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** Checks every package under `root/packages`; returns one line per problem. */
export function checkRepo(root: string): string[] {
  const problems: string[] = [];
  const pkgsDir = join(root, 'packages');
  const pkgGraph = new Map<string, string[]>();
  for (const dirName of readdirSync(pkgsDir).sort()) {
    const pkgDir = join(pkgsDir, dirName);
    const manifestPath = join(pkgDir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const short = manifest.name.startsWith(scope) ? manifest.name.slice(scope.length) : manifest.name;
    const rules = allowed[short];
    if (!rules) {
      problems.push(`${manifest.name}: not in the allowed-dependency table (tools/checks/src/deps-lib.ts)`);
      continue;
    }
    const deps = new Set(Object.keys(manifest.dependencies ?? {}));
    const devDeps = new Set([...Object.keys(manifest.devDependencies ?? {}), ...deps]);
    for (const dep of deps) {
      if (dep.startsWith(scope) && !rules.includes(dep.slice(scope.length))) {
        problems.push(`${manifest.name}: package.json depends on ${dep}, which DESIGN.md does not allow`);
      }
    }
    const fileGraph = new Map<string, string[]>();
    const used = new Set<string>();
    for (const file of listTs(join(pkgDir, 'src'))) {
      const rel = relative(root, file);
      const edges: string[] = [];
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(pkgDir + '/')) {
            problems.push(`${rel}: relative import ${spec} leaves the package`);
          } else if (!isTest(file) || !isTest(target)) {
            edges.push(relative(root, target));
          }
          continue;
        }
        if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        const name = packageNameOf(spec);
        if (name.startsWith(scope)) {
          if (spec !== name && !exportedSubpaths(pkgsDir, name).has(`.${spec.slice(name.length)}`)) {
            problems.push(`${rel}: imports ${spec}, another package's internals`);
          }
          const other = name.slice(scope.length);
          if (other === short) continue;
          if (isTest(file)) {
            if (!devDeps.has(name)) problems.push(`${rel}: imports ${name}, not declared in package.json`);
            continue;
          }
          used.add(other);
          if (!rules.includes(other))
            problems.push(`${rel}: imports ${name}, which DESIGN.md does not allow`);
          if (!deps.has(name)) problems.push(`${rel}: imports ${name}, not in package.json dependencies`);
        } else if (isTest(file) ? false : !deps.has(name)) {
          problems.push(`${rel}: imports ${name}, not in package.json dependencies`);
        }
      }
      fileGraph.set(rel, edges);
    }
    for (const cycle of findCycles(fileGraph)) problems.push(`import cycle: ${cycle.join(' → ')}`);
    pkgGraph.set(short, [...used]);
  }
  for (const cycle of findCycles(pkgGraph)) problems.push(`package cycle: ${cycle.join(' → ')}`);
  return problems;
}
