export type { AlgorithmSpec, HashFunction } from './lib/algorithms.ts';
export { registerAlgorithm, registeredAlgorithms, unregisterAlgorithm } from './lib/algorithms.ts';
export type { DigestInput, DigestOptions, Expected, Hasher } from './lib/compute.ts';
export {
  createHasher,
  digestFile,
  digestOf,
  digestOfSync,
  verifyBytes,
  verifyStream,
} from './lib/compute.ts';
export type { Digest } from './lib/digest.ts';
export { digestAlgorithm, digestEncoded, isDigest, parseDigest } from './lib/digest.ts';
export { randomHex } from './lib/random.ts';
