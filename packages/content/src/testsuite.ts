// `@ocikit/content/testsuite`: the Target conformance suite, for implementations of Target.
export type {
  TargetConformanceCase,
  TargetConformanceOptions,
  TestFramework,
} from './lib/target-suite.ts';
export {
  blob,
  buildImage,
  buildIndex,
  describeTargetConformance,
  targetConformanceCases,
} from './lib/target-suite.ts';
