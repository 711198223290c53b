// Packs every public package the way `pnpm publish` would and checks the tarball: publint finds no
// problem, the entry points, type declarations and LICENSE are there, and no sources or tests are
// shipped. `--keep DIR` leaves the tarballs in DIR (emptied first) for tools/checks/types.ts.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { packPublic } from './src/pack-lib.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const problems: string[] = [];
const { keep } = parseArgs({ options: { keep: { type: 'string' } } }).values;
const work = keep === undefined ? mkdtempSync(join(tmpdir(), 'ocikit-pack-')) : resolve(keep);
if (keep !== undefined) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
}
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
  for (const { name, dir } of await packPublic(root, work)) {
    const files = listFiles(dir);
    const packed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      exports?: unknown;
      bin?: Record<string, string>;
    };
    for (const required of ['README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
      if (!files.includes(required)) problems.push(`${name}: tarball lacks ${required}`);
    }
    if (files.includes('LICENSE') && readFileSync(join(dir, 'LICENSE'), 'utf8') !== license) {
      problems.push(`${name}: tarball's LICENSE differs from the repository's LICENSE`);
    }
    for (const f of files) {
      if (/\.test\.|(^|\/)test-/.test(f)) problems.push(`${name}: tarball ships test file ${f}`);
      if (f.startsWith('src/')) problems.push(`${name}: tarball ships source file ${f}`);
    }
    for (const t of [...targets(packed.exports), ...Object.values(packed.bin ?? {})]) {
      if (t.startsWith('./') && !t.includes('*') && !existsSync(join(dir, t))) {
        problems.push(`${name}: exports/bin target ${t} is not in the tarball`);
      }
    }
    const { messages, pkg } = await publint({ pkgDir: dir, pack: false, strict: true });
    for (const m of messages) problems.push(`${name}: publint ${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
    console.log(`pack check: ${name} (${files.length} files)`);
  }
} catch (e) {
  problems.push(`packing failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  if (keep === undefined) rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`pack check: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('pack check: every package packs into a valid tarball');
