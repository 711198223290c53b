// The API reference's checks, on a two-package workspace run through the repository's own
// typedoc.json: a clean package gives one page; an undocumented export or a broken {@link} fails.
import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/** Runs TypeDoc with the repository's config over a workspace of two packages, `demo` being `source`. */
function typedoc(source: string): Promise<{ code: number; output: string; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-typedoc-'));
  dirs.push(dir);
  for (const [name, text] of [
    ['demo', source],
    ['other', '/** The other package. */\nexport const other = 2;\n'],
  ] as const) {
    const pkg = join(dir, 'packages', name);
    mkdirSync(join(pkg, 'src'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: `@ocikit/${name}`, version: '0.0.0', type: 'module' }),
    );
    const tsconfig = JSON.stringify({ extends: join(root, 'tsconfig.base.json'), include: ['src'] });
    writeFileSync(join(pkg, 'tsconfig.json'), tsconfig);
    writeFileSync(join(pkg, 'tsconfig.build.json'), tsconfig);
    writeFileSync(join(pkg, 'src', 'index.ts'), text);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'demo-root', private: true }));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as {
    plugin: string[];
    readme: string;
  };
  config.plugin = config.plugin.map((p) => join(root, p));
  config.readme = join(root, config.readme);
  writeFileSync(join(dir, 'typedoc.json'), JSON.stringify(config));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc')],
      { cwd: dir, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, output: `${stdout}${stderr}`, out: join(dir, 'docs', 'api') });
      },
    );
  });
}

const clean = `/** Adds one. See {@link Options}. */
export function addOne(n: number, options: Options = {}): number {
  return n + (options.step ?? 1);
}
/** Options of {@link addOne}. */
export interface Options {
  step?: number;
}
`;

describe('pnpm docs (typedoc.json and tools/docs/src/plugin.ts)', () => {
  it('renders each documented package as one page', async () => {
    const r = await typedoc(clean);
    expect(r.code, r.output).toBe(0);
    const pages = listFiles(r.out).filter((f) => f.endsWith('.html'));
    expect(pages.filter((p) => p !== 'hierarchy.html').sort()).toEqual([
      '_ocikit/demo.html',
      '_ocikit/other.html',
      'index.html',
      'modules.html',
    ]);
    const page = readFileSync(join(r.out, '_ocikit', 'demo.html'), 'utf8');
    expect(page).toContain('Adds one.');
    expect(page).toContain('id="addone"');
  }, 60_000);

  it('fails on an export without JSDoc', async () => {
    const r = await typedoc(`${clean}export const undocumented = 1;\n`);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('undocumented is exported without a JSDoc comment');
  }, 60_000);

  it('fails on a broken link', async () => {
    const r = await typedoc(`${clean}/** See {@link nowhere}. */\nexport const linked = 1;\n`);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('Failed to resolve link to "nowhere"');
  }, 60_000);

  it('fails on an exported API that uses a type the package does not export', async () => {
    const r = await typedoc(
      `${clean}interface Hidden { x: number }\n/** Uses Hidden. */\nexport const h: Hidden = { x: 1 };\n`,
    );
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('Hidden, defined in');
  }, 60_000);
});
