// Fails on import cycles, forbidden or undeclared imports, and reaching into another package's internals.
import { fileURLToPath } from 'node:url';
import { checkRepo } from './src/deps-lib.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const problems = checkRepo(root);
if (problems.length > 0) {
  console.error(`dependency check: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('dependency check: no cycles, every import allowed and declared');
