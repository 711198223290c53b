import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { lookupAlgorithm } from './algorithms.ts';

declare const digestBrand: unique symbol;

/** A validated content digest, `algorithm:encoded`; only made by parsing or computing. */
export type Digest = string & { readonly [digestBrand]: true };

const grammar = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function invalid(input: string, reason: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid digest "${truncate(input)}": ${why}`, {
    details: { reason, input: truncate(input, 200) },
  });
}

/**
 * Parses and validates a digest string. Keeps malformed input (`reason: 'invalid-format'` or
 * `'invalid-length'`) apart from a well-formed digest of an algorithm that is not registered
 * (`reason: 'unsupported'`).
 *
 * @example
 * ```ts
 * const d = parseDigest('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
 * ```
 */
export function parseDigest(input: string): Digest {
  if (typeof input !== 'string') throw invalid(String(input), 'invalid-format', 'not a string');
  const i = input.indexOf(':');
  if (i <= 0 || i === input.length - 1)
    throw invalid(input, 'invalid-format', 'expected "algorithm:encoded"');
  const algorithm = input.slice(0, i);
  const encoded = input.slice(i + 1);
  const spec = lookupAlgorithm(algorithm);
  if (!spec) {
    if (!grammar.test(input)) throw invalid(input, 'invalid-format', 'does not match the digest grammar');
    throw new InvalidArgumentError(`unsupported digest algorithm "${algorithm}" in "${truncate(input)}"`, {
      details: { reason: 'unsupported', algorithm, input: truncate(input, 200) },
    });
  }
  if (spec.encodedLength !== undefined && encoded.length !== spec.encodedLength) {
    throw invalid(
      input,
      'invalid-length',
      `${algorithm} needs ${spec.encodedLength} characters, got ${encoded.length}`,
    );
  }
  if (!spec.encodedPattern.test(encoded)) {
    throw invalid(input, 'invalid-format', `the encoded part is not valid ${algorithm} (lower-case hex)`);
  }
  return input as Digest;
}

/** True when `input` is a valid digest of a registered algorithm. */
export function isDigest(input: unknown): input is Digest {
  if (typeof input !== 'string') return false;
  try {
    parseDigest(input);
    return true;
  } catch {
    return false;
  }
}

/** The algorithm part of a digest (`sha256`). */
export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** The encoded part of a digest (the hex). */
export function digestEncoded(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}
