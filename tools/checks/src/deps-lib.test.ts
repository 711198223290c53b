import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRepo, findCycles, importsOf } from './deps-lib.ts';

let root: string | undefined;
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-deps-'));
  root = dir;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
const pkg = (name: string, deps: Record<string, string> = {}) =>
  JSON.stringify({ name: `@ocikit/${name}`, dependencies: deps });

afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe('importsOf', () => {
  it('finds static, type-only, re-export and dynamic imports', () => {
    const src = `import { a } from './a.ts';\nimport type { B } from "@ocikit/errors";\nexport { c } from './c.ts';\nconst d = await import('./d.ts');\n// import { no } from './comment.ts';`;
    expect(importsOf(src)).toEqual(['./a.ts', '@ocikit/errors', './c.ts', './d.ts']);
  });
});

describe('findCycles', () => {
  it('reports a cycle and nothing for a DAG', () => {
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });
});

describe('checkRepo', () => {
  it('passes a clean tree', () => {
    const r = tree({
      'packages/errors/package.json': pkg('errors'),
      'packages/errors/src/index.ts': `export { x } from './lib/x.ts';`,
      'packages/errors/src/lib/x.ts': `export const x = 1;`,
      'packages/digest/package.json': pkg('digest', { '@ocikit/errors': 'workspace:^' }),
      'packages/digest/src/index.ts': `import { x } from '@ocikit/errors';\nimport { createHash } from 'node:crypto';`,
    });
    expect(checkRepo(r)).toEqual([]);
  });

  it('catches a file cycle, a forbidden import, internals and undeclared dependencies', () => {
    const r = tree({
      'packages/errors/package.json': pkg('errors'),
      'packages/errors/src/index.ts': `import { a } from './lib/a.ts';`,
      'packages/errors/src/lib/a.ts': `import { b } from './b.ts';`,
      'packages/errors/src/lib/b.ts': `import { a } from './a.ts';\nimport { z } from 'zod';`,
      'packages/digest/package.json': pkg('digest', {
        '@ocikit/errors': 'workspace:^',
        '@ocikit/content': 'workspace:^',
      }),
      'packages/digest/src/index.ts': `import { C } from '@ocikit/content';\nimport { e } from '@ocikit/errors/src/lib/a.ts';`,
    });
    const problems = checkRepo(r);
    expect(problems).toContain(
      'import cycle: packages/errors/src/lib/a.ts → packages/errors/src/lib/b.ts → packages/errors/src/lib/a.ts',
    );
    expect(problems).toContain('packages/errors/src/lib/b.ts: imports zod, not in package.json dependencies');
    expect(problems).toContain(
      '@ocikit/digest: package.json depends on @ocikit/content, which DESIGN.md does not allow',
    );
    expect(problems).toContain(
      'packages/digest/src/index.ts: imports @ocikit/content, which DESIGN.md does not allow',
    );
    expect(problems).toContain(
      "packages/digest/src/index.ts: imports @ocikit/errors/src/lib/a.ts, another package's internals",
    );
  });

  it('allows a subpath the other package exports, and only that one', () => {
    const r = tree({
      'packages/errors/package.json': JSON.stringify({
        name: '@ocikit/errors',
        exports: { '.': './src/index.ts', './testsuite': './src/testsuite.ts' },
      }),
      'packages/errors/src/index.ts': '',
      'packages/errors/src/testsuite.ts': '',
      'packages/digest/package.json': pkg('digest', { '@ocikit/errors': 'workspace:^' }),
      'packages/digest/src/index.ts': `import { s } from '@ocikit/errors/testsuite';\nimport { t } from '@ocikit/errors/src/testsuite.ts';`,
    });
    expect(checkRepo(r)).toEqual([
      "packages/digest/src/index.ts: imports @ocikit/errors/src/testsuite.ts, another package's internals",
    ]);
  });

  it('catches a cycle between packages', () => {
    const r = tree({
      'packages/errors/package.json': pkg('errors', { '@ocikit/digest': 'workspace:^' }),
      'packages/errors/src/index.ts': `import { d } from '@ocikit/digest';`,
      'packages/digest/package.json': pkg('digest', { '@ocikit/errors': 'workspace:^' }),
      'packages/digest/src/index.ts': `import { e } from '@ocikit/errors';`,
    });
    expect(checkRepo(r)).toContain('package cycle: digest → errors → digest');
  });
});
