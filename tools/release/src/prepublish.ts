// The release's pre-publish guard, run by `pnpm release` between the build and `changeset publish`:
// exits 1, before anything is uploaded, when a package to publish is not built (or built from older
// sources) or when there is nothing new to publish (a release run twice). Usage:
//   node tools/release/src/prepublish.ts
import { fileURLToPath } from 'node:url';
import { planPublish } from './lib/guard.ts';
import { publicPackages } from './lib/workspace.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const plan = await planPublish(publicPackages(root), root);
for (const { pkg, registry } of plan.published) {
  console.log(`prepublish: ${pkg.manifest.name}@${pkg.manifest.version} is already on ${registry}: skipped`);
}
for (const { pkg, registry } of plan.publish) {
  console.log(`prepublish: ${pkg.manifest.name}@${pkg.manifest.version} → ${registry}`);
}
if (plan.problems.length > 0) {
  console.error(`prepublish: ${plan.problems.length} problem(s), nothing was published`);
  for (const p of plan.problems) console.error(`  ${p}`);
  process.exit(1);
}
