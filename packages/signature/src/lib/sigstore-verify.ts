// Verification of sigstore (cosign) signatures against a `sigstoreSigned` requirement, as
// containers/image's policy_eval_sigstore.go: one signature that verifies with one of the keys,
// whose payload names this manifest's digest and an identity the requirement accepts, is enough.
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, PermissionDeniedError, throwIfAborted, truncate } from '@ocikit/errors';
import { manifestDigestLike } from './cosign.ts';
import { DEFAULT_SIGNED_IDENTITY, matchesSignedIdentity } from './identity.ts';
import { parsePublicKey } from './keys.ts';
import { PayloadType, parsePayload, type SigningPayload } from './payload.ts';
import type {
  ImageToVerify,
  SignedIdentity,
  SigstoreSignature,
  SigstoreSignedRequirement,
  VerifyCallOptions,
} from './types.ts';

/** What one cosign signature must show to be accepted. */
export interface CosignAcceptance {
  /** The public keys any one of which may have signed. */
  publicKeys: readonly KeyObject[];
  /** The manifest bytes the signature must be for (its digest is compared with the payload's). */
  manifest: Uint8Array;
  /** Accepts or refuses the payload's claimed `docker-reference`. */
  acceptIdentity: (signedDockerReference: string) => boolean;
}

/**
 * Verifies one cosign signature as containers/image's `VerifySigstorePayload` does: the base64
 * signature over the payload bytes with one of the keys, then the payload parsed strictly, its
 * manifest digest compared with the manifest's, and its identity accepted. Returns the payload;
 * throws PermissionDeniedError saying which check failed (InvalidArgumentError for a malformed
 * payload or signature).
 *
 * @example
 * ```ts
 * const payload = verifyCosignSignature(sig, { publicKeys: [parsePublicKey(pem)], manifest, acceptIdentity: () => true });
 * ```
 */
export function verifyCosignSignature(
  signature: SigstoreSignature,
  acceptance: CosignAcceptance,
): SigningPayload {
  if (signature.signature === '') {
    throw new InvalidArgumentError('the signature has no dev.cosignproject.cosign/signature annotation');
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature.signature) || signature.signature.length % 4 !== 0) {
    throw new InvalidArgumentError(
      `cannot decode base64 signature ${JSON.stringify(truncate(signature.signature, 40))}`,
    );
  }
  const raw = Buffer.from(signature.signature, 'base64');
  const verified = acceptance.publicKeys.some((key) => {
    try {
      return cryptoVerify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', signature.payload, key, raw);
    } catch {
      return false;
    }
  });
  if (!verified) throw new PermissionDeniedError('cryptographic signature verification failed');
  const payload = parsePayload(signature.payload, PayloadType.Sigstore);
  const actual = manifestDigestLike(acceptance.manifest, payload.dockerManifestDigest);
  if (actual !== payload.dockerManifestDigest) {
    throw new PermissionDeniedError(
      `signature for digest ${payload.dockerManifestDigest} does not match the image's ${actual}`,
    );
  }
  if (!acceptance.acceptIdentity(payload.dockerReference)) {
    throw new PermissionDeniedError(
      `signature for identity ${JSON.stringify(truncate(payload.dockerReference, 200))} is not accepted`,
    );
  }
  return payload;
}

/**
 * The public keys of a `sigstoreSigned` requirement: `keyPath`, each of `keyPaths`, or `keyData`
 * (base64 of a PEM). Keyless requirements (`fulcio`) and Rekor checks are refused as unsupported:
 * a requirement that cannot be checked never passes.
 */
export async function requirementPublicKeys(
  requirement: SigstoreSignedRequirement,
  options: VerifyCallOptions = {},
): Promise<KeyObject[]> {
  if (requirement.fulcio !== undefined) {
    throw new PermissionDeniedError('keyless (fulcio) sigstoreSigned requirements are not supported yet');
  }
  if (requirement.rekorPublicKeyPath !== undefined || requirement.rekorPublicKeyData !== undefined) {
    throw new PermissionDeniedError(
      'sigstoreSigned requirements with a Rekor public key are not supported yet',
    );
  }
  const given = [requirement.keyPath, requirement.keyPaths, requirement.keyData].filter(
    (k) => k !== undefined,
  );
  if (given.length !== 1) {
    throw new InvalidArgumentError(
      'a sigstoreSigned requirement needs exactly one of keyPath, keyPaths, keyData',
    );
  }
  if (requirement.keyData !== undefined) {
    return [parsePublicKey(Buffer.from(requirement.keyData, 'base64'), 'sigstoreSigned keyData')];
  }
  const paths = requirement.keyPath !== undefined ? [requirement.keyPath] : (requirement.keyPaths ?? []);
  if (paths.length === 0) throw new InvalidArgumentError('sigstoreSigned keyPaths is empty');
  const keys: KeyObject[] = [];
  for (const path of paths) {
    throwIfAborted(options.signal);
    keys.push(parsePublicKey(await readFile(path, { signal: options.signal }), `public key ${path}`));
  }
  return keys;
}

/** Options of {@link verifySigstoreSigned}. */
export interface VerifySigstoreSignedOptions extends VerifyCallOptions {
  /** The image's Docker reference the identity rules compare with (undefined for `oci:` images). */
  dockerReference: string | undefined;
}

/**
 * Checks a `sigstoreSigned` requirement against an image — the verifier `evaluatePolicy` takes as
 * `verifySigstoreSigned`. Resolves when one of the image's sigstore signatures is accepted; throws
 * a PermissionDeniedError saying why otherwise (no signature, or each signature's reason).
 *
 * @example
 * ```ts
 * await evaluatePolicy(policy, image, { verifySigstoreSigned });
 * ```
 */
export async function verifySigstoreSigned(
  requirement: SigstoreSignedRequirement,
  image: ImageToVerify,
  options: VerifySigstoreSignedOptions,
): Promise<void> {
  throwIfAborted(options.signal);
  const publicKeys = await requirementPublicKeys(requirement, options);
  const identity: SignedIdentity = requirement.signedIdentity ?? DEFAULT_SIGNED_IDENTITY;
  const signatures = await image.signatures.sigstore(options.signal ? { signal: options.signal } : {});
  const acceptance: CosignAcceptance = {
    publicKeys,
    manifest: image.manifest,
    acceptIdentity: (signed) => matchesSignedIdentity(identity, options.dockerReference, signed),
  };
  const reasons: string[] = [];
  for (const signature of signatures) {
    throwIfAborted(options.signal);
    try {
      verifyCosignSignature(signature, acceptance);
      return;
    } catch (e) {
      reasons.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (reasons.length === 0)
    throw new PermissionDeniedError('a signature was required, but no signature exists');
  if (reasons.length === 1) throw new PermissionDeniedError(reasons[0] ?? '');
  throw new PermissionDeniedError(`none of the signatures were accepted, reasons: ${reasons.join('; ')}`);
}
