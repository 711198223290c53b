/**
 * `signedIdentity` matching: how the identity a signature claims (`critical.identity.docker-reference`)
 * must relate to the image's name, exactly as containers/image `policy_reference_match.go` decides it.
 */
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import {
  parseCanonicalReference,
  parseNormalizedReference,
  type Reference,
  ReferenceGrammar,
} from '@ocikit/reference';
import type { SignedIdentity } from './types.ts';

function parseOrUndefined(input: string): Reference | undefined {
  try {
    return parseNormalizedReference(input);
  } catch {
    return undefined;
  }
}

const isNameOnly = (ref: Reference): boolean => ref.tag === undefined && ref.digest === undefined;

/** `matchRepoDigestOrExactReferenceValues`: a tagged image needs the exact signed reference, a digested one its repository. */
function matchRepoDigestOrExact(intended: Reference, signed: Reference): boolean {
  if (isNameOnly(signed)) return false;
  if (intended.tag !== undefined) return signed.toString() === intended.toString();
  if (intended.digest !== undefined) return signed.name === intended.name;
  return false;
}

/** True when `name` (a reference's name, no tag or digest) is `prefix` or lies under it (`prefix/…`). */
function refMatchesPrefix(name: string, prefix: string): boolean {
  if (name.length < prefix.length) return false;
  if (name.length === prefix.length) return name === prefix;
  return name.startsWith(prefix) && name[prefix.length] === '/';
}

/** `remapReferencePrefix`: the image's reference with `prefix` replaced by `signedPrefix`, unchanged when it does not match. */
function remap(intended: Reference, prefix: string, signedPrefix: string): Reference | undefined {
  if (!refMatchesPrefix(intended.name, prefix)) return intended;
  const s = intended.toString();
  const i = s.indexOf(prefix);
  const rewritten = i < 0 ? s : s.slice(0, i) + signedPrefix + s.slice(i + prefix.length);
  try {
    return parseCanonicalReference(rewritten);
  } catch {
    return undefined;
  }
}

/**
 * True when a signature claiming `signedDockerReference` is accepted for an image named
 * `imageName` under the `signedIdentity` rule — containers/image's `matchesDockerReference`.
 * `imageName` is the image's Docker reference in full form (`docker.io/library/busybox:latest`,
 * `localhost:5000/app@sha256:…`), or `undefined` when its transport has none (an `oci:` or `dir:`
 * image): then only `exactReference` and `exactRepository` can match. A claimed reference that
 * does not parse never matches.
 *
 * @example
 * ```ts
 * matchesSignedIdentity({ type: 'matchRepository' }, 'docker.io/library/busybox:latest', 'busybox:1.36'); // true
 * matchesSignedIdentity({ type: 'matchExact' }, 'docker.io/library/busybox:latest', 'busybox:1.36');      // false
 * ```
 */
export function matchesSignedIdentity(
  identity: SignedIdentity,
  imageName: string | undefined,
  signedDockerReference: string,
): boolean {
  const signed = parseOrUndefined(signedDockerReference);
  if (signed === undefined) return false;
  switch (identity.type) {
    case 'exactReference': {
      const intended = parseOrUndefined(identity.dockerReference);
      if (intended === undefined || isNameOnly(intended) || isNameOnly(signed)) return false;
      return signed.toString() === intended.toString();
    }
    case 'exactRepository': {
      const intended = parseOrUndefined(identity.dockerRepository);
      return intended !== undefined && signed.name === intended.name;
    }
    default:
      break;
  }
  // The remaining rules compare against the image's own Docker reference.
  const image = imageName === undefined ? undefined : parseOrUndefined(imageName);
  if (image === undefined) return false;
  switch (identity.type) {
    case 'matchExact':
      if (isNameOnly(image) || isNameOnly(signed)) return false;
      return signed.toString() === image.toString();
    case 'matchRepoDigestOrExact':
      return matchRepoDigestOrExact(image, signed);
    case 'matchRepository':
      return signed.name === image.name;
    case 'remapIdentity': {
      const remapped = remap(image, identity.prefix, identity.signedPrefix);
      return remapped !== undefined && matchRepoDigestOrExact(remapped, signed);
    }
  }
}

/** The signed identity used when a requirement names none. */
export const DEFAULT_SIGNED_IDENTITY: SignedIdentity = Object.freeze({ type: 'matchRepoDigestOrExact' });

const domainSource = ReferenceGrammar.domainAndPort.source.slice(1, -1);
const domainPrefix = new RegExp(`^${domainSource}/`);

/** containers/image `validateIdentityRemappingPrefix`: a host[:port], or a name that starts with one. */
function isValidRemapPrefix(s: string): boolean {
  return (
    ReferenceGrammar.domainAndPort.test(s) || (ReferenceGrammar.anchoredName.test(s) && domainPrefix.test(s))
  );
}

/**
 * Checks a `signedIdentity` the way containers/image's constructors do (`exactReference` needs a
 * tag or digest, `exactRepository` a valid name, `remapIdentity` prefixes that are host[:port] or a
 * name starting with one) and returns a message saying what is wrong, or `undefined` when it is
 * valid. The policy parser turns the message into an InvalidArgumentError naming the file.
 */
export function signedIdentityProblem(identity: SignedIdentity): string | undefined {
  switch (identity.type) {
    case 'exactReference': {
      const ref = parseOrUndefined(identity.dockerReference);
      if (ref === undefined)
        return `invalid format of dockerReference "${truncate(identity.dockerReference)}"`;
      if (isNameOnly(ref))
        return `dockerReference "${truncate(identity.dockerReference)}" contains neither a tag nor digest`;
      return undefined;
    }
    case 'exactRepository':
      return parseOrUndefined(identity.dockerRepository) === undefined
        ? `invalid format of dockerRepository "${truncate(identity.dockerRepository)}"`
        : undefined;
    case 'remapIdentity':
      if (!isValidRemapPrefix(identity.prefix)) return `prefix "${truncate(identity.prefix)}" is not valid`;
      if (!isValidRemapPrefix(identity.signedPrefix))
        return `prefix "${truncate(identity.signedPrefix)}" is not valid`;
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Throws an InvalidArgumentError when `identity` is not a valid `signedIdentity`
 * (see {@link signedIdentityProblem}).
 */
export function assertSignedIdentity(identity: SignedIdentity): void {
  const problem = signedIdentityProblem(identity);
  if (problem !== undefined) {
    throw new InvalidArgumentError(`invalid signedIdentity ${identity.type}: ${problem}`, {
      details: { reason: 'invalid-signed-identity', type: identity.type },
    });
  }
}
