// Packs every public package the way `pnpm publish` would and checks the tarball: publint finds no
// problem, the entry points, type declarations and LICENSE are there, and no sources or tests are
// shipped.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = fileURLToPath(new URL('../..', import.meta.url));
const problems: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'ocikit-pack-'));
// Every tarball carries the repository's license text (Apache-2.0, as every package.json says).
const license = readFileSync(join(root, 'LICENSE'), 'utf8');

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

function targets(exp: unknown): string[] {
  if (typeof exp === 'string') return [exp];
  if (exp && typeof exp === 'object') return Object.values(exp).flatMap(targets);
  return [];
}

try {
  for (const dirName of readdirSync(join(root, 'packages')).sort()) {
    const pkgDir = join(root, 'packages', dirName);
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      name: string;
      private?: boolean;
    };
    if (manifest.private) continue;
    const out = join(work, dirName);
    execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: pkgDir, stdio: 'pipe' });
    const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
    if (!tarball) {
      problems.push(`${manifest.name}: pnpm pack wrote no tarball`);
      continue;
    }
    execFileSync('tar', ['-xzf', join(out, tarball), '-C', out]);
    const dir = join(out, 'package');
    const files = listFiles(dir);
    const packed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      exports?: unknown;
      bin?: Record<string, string>;
    };
    for (const required of ['README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
      if (!files.includes(required)) problems.push(`${manifest.name}: tarball lacks ${required}`);
    }
    if (files.includes('LICENSE') && readFileSync(join(dir, 'LICENSE'), 'utf8') !== license) {
      problems.push(`${manifest.name}: tarball's LICENSE differs from the repository's LICENSE`);
    }
    for (const f of files) {
      if (/\.test\.|(^|\/)test-/.test(f)) problems.push(`${manifest.name}: tarball ships test file ${f}`);
      if (f.startsWith('src/')) problems.push(`${manifest.name}: tarball ships source file ${f}`);
    }
    for (const t of [...targets(packed.exports), ...Object.values(packed.bin ?? {})]) {
      if (t.startsWith('./') && !t.includes('*') && !existsSync(join(dir, t))) {
        problems.push(`${manifest.name}: exports/bin target ${t} is not in the tarball`);
      }
    }
    const { messages, pkg } = await publint({ pkgDir: dir, pack: false, strict: true });
    for (const m of messages)
      problems.push(`${manifest.name}: publint ${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
    console.log(`pack check: ${manifest.name} (${files.length} files)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`pack check: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('pack check: every package packs into a valid tarball');
