// A vitest reporter for the retry CI allows (decision 209): it names every test that failed and
// then passed on its retry, with the first failure's message, on stderr and, when
// OCIKIT_FLAKY_LOG names a file, in that file, which `tools/run.sh test` prints after the run.
// A flaky test is shown, never hidden.
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestCase } from 'vitest/node';

/** One line per test that passed only on a retry. */
export function flakyLine(test: TestCase, root: string): string | undefined {
  const diagnostic = test.diagnostic();
  if (diagnostic?.flaky !== true) return undefined;
  const first = test.result().errors?.[0]?.message?.split('\n')[0];
  const where = `${relative(root, test.module.moduleId)} > ${test.fullName}`;
  return `${where}: passed on retry ${diagnostic.retryCount}${first ? ` (first failure: ${first})` : ''}`;
}

/** Lists the tests that passed only on a retry. */
export default class FlakyReporter implements Reporter {
  readonly #lines: string[] = [];
  #root = process.cwd();

  onInit(ctx: { config: { root: string } }): void {
    this.#root = ctx.config.root;
  }

  onTestCaseResult(test: TestCase): void {
    const line = flakyLine(test, this.#root);
    if (line !== undefined) this.#lines.push(line);
  }

  onTestRunEnd(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.map((l) => `FLAKY ${l}\n`).join('');
    process.stderr.write(`\n${this.#lines.length} test(s) passed only on a retry:\n${text}`);
    const log = process.env['OCIKIT_FLAKY_LOG'];
    if (log) appendFileSync(log, text);
  }
}
