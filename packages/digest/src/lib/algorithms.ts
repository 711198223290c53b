import { InvalidArgumentError } from '@ocikit/errors';

import { sha256Hex } from './sha256.ts';

// node:crypto loads on the first hash that needs it: loading it costs ~8 ms, which a short command
// (run, inspect of a local image) need not pay for the few KiB it hashes (decision 105)
const crypto = () => process.getBuiltinModule('node:crypto');

/** An incremental hash function as a digest algorithm needs it. */
export interface HashFunction {
  update(bytes: Uint8Array): void;
  /** The encoded (lower-case hex for the built-ins) digest of everything written. */
  digest(): string;
}

/** How to compute and recognise digests of one algorithm. */
export interface AlgorithmSpec {
  /** Makes a fresh hash function. */
  createHash: () => HashFunction;
  /** The encoded part must match this (anchored) pattern. */
  encodedPattern: RegExp;
  /** The exact length of the encoded part, when the algorithm has one (checked before the pattern). */
  encodedLength?: number;
}

const nodeHash = (name: string) => () => {
  const h = crypto().createHash(name);
  return {
    update: (b: Uint8Array) => {
      h.update(b);
    },
    digest: () => h.digest('hex'),
  };
};

/**
 * Up to this many bytes, sha256 runs in JavaScript (cold, ~1 ms per KiB at worst, less than loading
 * node:crypto); past it, node:crypto takes over, fed what was held back.
 */
export const SMALL_SHA256 = 8 << 10;

function sha256(): HashFunction {
  let held: Uint8Array[] = [];
  let size = 0;
  let native: ReturnType<ReturnType<typeof crypto>['createHash']> | undefined;
  return {
    update(b) {
      if (native) {
        native.update(b);
        return;
      }
      size += b.byteLength;
      if (size <= SMALL_SHA256) {
        // a copy: callers may reuse their buffer once update returns
        held.push(new Uint8Array(b));
        return;
      }
      native = crypto().createHash('sha256');
      for (const p of held) native.update(p);
      native.update(b);
      held = [];
    },
    digest: () => (native ? native.digest('hex') : sha256Hex(Buffer.concat(held))),
  };
}

const algorithms = new Map<string, AlgorithmSpec>([
  ['sha256', { createHash: sha256, encodedPattern: /^[a-f0-9]{64}$/, encodedLength: 64 }],
  ['sha512', { createHash: nodeHash('sha512'), encodedPattern: /^[a-f0-9]{128}$/, encodedLength: 128 }],
]);

/** The algorithm-name grammar of image-spec descriptor.md and go-digest. */
export const algorithmNamePattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;

/**
 * Registers another digest algorithm (for example blake3), so `parseDigest` accepts it and
 * `digestOf` can compute it. Re-registering a name replaces it.
 *
 * @example
 * ```ts
 * registerAlgorithm('sha384', { createHash: () => …, encodedPattern: /^[a-f0-9]{96}$/ });
 * ```
 */
export function registerAlgorithm(name: string, spec: AlgorithmSpec): void {
  if (!algorithmNamePattern.test(name)) {
    throw new InvalidArgumentError(`invalid digest algorithm name "${name}"`, {
      details: { reason: 'invalid-format' },
    });
  }
  algorithms.set(name, spec);
}

/** Removes a registered algorithm (the built-in sha256 cannot be removed). */
export function unregisterAlgorithm(name: string): void {
  if (name !== 'sha256') algorithms.delete(name);
}

/** The names of every registered algorithm. */
export function registeredAlgorithms(): string[] {
  return [...algorithms.keys()];
}

/** The spec of `name`, or undefined when it is not registered. */
export function lookupAlgorithm(name: string): AlgorithmSpec | undefined {
  return algorithms.get(name);
}

/** The spec of `name`; an InvalidArgumentError (reason `unsupported`) when it is not registered. */
export function requireAlgorithm(name: string): AlgorithmSpec {
  const spec = algorithms.get(name);
  if (!spec) {
    throw new InvalidArgumentError(`unsupported digest algorithm "${name}"`, {
      details: { reason: 'unsupported', algorithm: name },
      hint: `supported: ${registeredAlgorithms().join(', ')}`,
    });
  }
  return spec;
}
