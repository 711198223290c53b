// @ocikit/test-verdaccio: a real npm registry (Verdaccio 6) on loopback with a throwaway storage and
// one user, for release tests that publish and install the packages without touching the npm registry.

export type { RunningVerdaccio, StartVerdaccioOptions } from './lib/verdaccio.ts';
export { startVerdaccio } from './lib/verdaccio.ts';
