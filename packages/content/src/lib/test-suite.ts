// The Target conformance suite for this package's own tests, under vitest (the suite itself is
// exported from ./target-suite.ts as `@ocikit/content/testsuite`).
import { describe, it } from 'vitest';
import type { Target } from './target.ts';
import { describeTargetConformance } from './target-suite.ts';

export { blob, buildImage, buildIndex } from './target-suite.ts';

/** Runs the Target conformance suite against stores made by `make`. */
export function targetSuite(name: string, make: () => Promise<Target>): void {
  describeTargetConformance(name, make, { describe, it });
}
