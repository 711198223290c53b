// @ocikit/test-contract: the engine contract suite (issue 14) — one set of cases, parameterized by
// driver, run against dockerd, podman's Docker-compatible and libpod APIs, and the local engine. Apart
// from @ocikit/test-engines (the engines themselves), which @ocikit/engine's own tests use: the suite
// needs @ocikit/local, which depends on @ocikit/engine, and one package would make a build cycle.

export type { ContractContext, ContractTarget } from './lib/contract-suite.ts';
export { describeEngineContract, engineTarget } from './lib/contract-suite.ts';
