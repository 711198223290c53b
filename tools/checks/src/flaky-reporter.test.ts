import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const reporter = fileURLToPath(new URL('./flaky-reporter.ts', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

// a project of three tests: one passes, one fails once and then passes, one always fails
async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-flaky-'));
  dirs.push(dir);
  await writeFile(
    join(dir, 'vitest.config.mjs'),
    `export default { test: { include: ['*.test.mjs'], retry: Number(process.env.OCIKIT_TEST_RETRIES ?? 0), reporters: ['default', ${JSON.stringify(reporter)}] } };\n`,
  );
  await writeFile(
    join(dir, 'cases.test.mjs'),
    [
      "import { expect, it } from 'vitest';",
      "it('steady', () => expect(1).toBe(1));",
      'let tries = 0;',
      "it('wobbly', () => { tries += 1; expect(tries, 'the first try fails').toBe(2); });",
      "it('broken', () => expect(1).toBe(2));",
      '',
    ].join('\n'),
  );
  return dir;
}

async function vitest(dir: string, env: Record<string, string>): Promise<{ code: number; log: string }> {
  const log = join(dir, 'flaky.log');
  const bin = join(root, 'node_modules', '.bin', 'vitest');
  try {
    await promisify(execFile)(bin, ['run', '--root', dir], {
      cwd: root,
      env: { ...process.env, ...env, OCIKIT_FLAKY_LOG: log },
    });
    return { code: 0, log: await readFile(log, 'utf8').catch(() => '') };
  } catch (e) {
    const code = (e as { code?: number }).code ?? -1;
    return { code, log: await readFile(log, 'utf8').catch(() => '') };
  }
}

describe('the flaky reporter', () => {
  it('names the test that passed only on its retry, with its first failure; a broken test still fails', async () => {
    const dir = await project();
    const { code, log } = await vitest(dir, { OCIKIT_TEST_RETRIES: '1' });
    expect(code).toBe(1);
    expect(log.trim().split('\n')).toEqual([
      'FLAKY cases.test.mjs > wobbly: passed on retry 1 (first failure: the first try fails: expected 1 to be 2 // Object.is equality)',
    ]);
  }, 60_000);

  it('without retries the wobbly test fails and nothing is listed', async () => {
    const dir = await project();
    const { code, log } = await vitest(dir, { OCIKIT_TEST_RETRIES: '0' });
    expect(code).toBe(1);
    expect(log).toBe('');
  }, 60_000);
});
