// Verification of sigstore (cosign) signatures against a `sigstoreSigned` requirement, as
// containers/image's policy_eval_sigstore.go: one signature that verifies with one of the keys,
// whose payload names this manifest's digest and an identity the requirement accepts, is enough.
import { verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, PermissionDeniedError, throwIfAborted, truncate } from '@ocikit/errors';
import { parseCertificates, verifyRekorBundle } from './bundle.ts';
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
  return acceptPayload(signature.payload, acceptance);
}

/**
 * The payload checks that follow a verified signature: parsed strictly, its manifest digest the
 * manifest's, its identity accepted. PermissionDeniedError saying which failed.
 */
export function acceptPayload(
  bytes: Uint8Array,
  acceptance: Pick<CosignAcceptance, 'manifest' | 'acceptIdentity'>,
): SigningPayload {
  const payload = parsePayload(bytes, PayloadType.Sigstore);
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
 * (base64 of a PEM).
 */
export async function requirementPublicKeys(
  requirement: SigstoreSignedRequirement,
  options: VerifyCallOptions = {},
): Promise<KeyObject[]> {
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
  /**
   * A sigstore trusted root (trusted_root.json, parsed) whose CT logs check a keyless
   * certificate's SCTs; without one, a certificate with SCTs is not accepted.
   */
  trustedRoot?: unknown;
}

/** The Rekor public keys of a requirement (`rekorPublicKeyPath`, `rekorPublicKeyData`), or none. */
async function rekorKeysOf(
  requirement: SigstoreSignedRequirement,
  options: VerifyCallOptions,
): Promise<KeyObject[]> {
  if (requirement.rekorPublicKeyData !== undefined) {
    return [parsePublicKey(Buffer.from(requirement.rekorPublicKeyData, 'base64'), 'rekorPublicKeyData')];
  }
  if (requirement.rekorPublicKeyPath !== undefined) {
    const path = requirement.rekorPublicKeyPath;
    return [parsePublicKey(await readFile(path, { signal: options.signal }), `Rekor public key ${path}`)];
  }
  return [];
}

/** The Fulcio CA certificates of a keyless requirement (`caPath` or `caData`, base64 of PEM). */
async function fulcioCAsOf(
  fulcio: NonNullable<SigstoreSignedRequirement['fulcio']>,
  options: VerifyCallOptions,
): Promise<X509Certificate[]> {
  if ((fulcio.caPath === undefined) === (fulcio.caData === undefined)) {
    throw new InvalidArgumentError('a fulcio requirement needs exactly one of caPath and caData');
  }
  const text =
    fulcio.caData !== undefined
      ? Buffer.from(fulcio.caData, 'base64').toString('utf8')
      : (await readFile(fulcio.caPath ?? '', { signal: options.signal })).toString('utf8');
  return parseCertificates(text, fulcio.caPath ?? 'fulcio caData');
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
  const identity: SignedIdentity = requirement.signedIdentity ?? DEFAULT_SIGNED_IDENTITY;
  const accept = {
    manifest: image.manifest,
    acceptIdentity: (signed: string) => matchesSignedIdentity(identity, options.dockerReference, signed),
  };
  const rekorKeys = await rekorKeysOf(requirement, options);
  let check: (signature: SigstoreSignature) => Promise<void>;
  if (requirement.fulcio !== undefined) {
    // as containers/image: a Fulcio certificate is trusted only with its Rekor entry
    if (rekorKeys.length === 0) {
      throw new InvalidArgumentError(
        'a fulcio sigstoreSigned requirement needs rekorPublicKeyPath or rekorPublicKeyData',
      );
    }
    const trust = {
      rekorKeys,
      fulcioCAs: await fulcioCAsOf(requirement.fulcio, options),
      trustedRoot: options.trustedRoot,
    };
    const who = { oidcIssuer: requirement.fulcio.oidcIssuer, subjectEmail: requirement.fulcio.subjectEmail };
    check = async (signature) => {
      await verifyRekorBundle(signature, trust, { identity: who });
      acceptPayload(signature.payload, accept);
    };
  } else {
    const publicKeys = await requirementPublicKeys(requirement, options);
    check = async (signature) => {
      verifyCosignSignature(signature, { ...accept, publicKeys });
      if (rekorKeys.length === 0) return;
      // the SET must be for the key that signed: try each (one verified the signature above)
      const errors: string[] = [];
      for (const publicKey of publicKeys) {
        try {
          const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
          await verifyRekorBundle(signature, { rekorKeys }, { publicKey, publicKeyPem });
          return;
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      throw new PermissionDeniedError(errors[0] ?? 'no key');
    };
  }
  const signatures = await image.signatures.sigstore(options.signal ? { signal: options.signal } : {});
  const reasons: string[] = [];
  for (const signature of signatures) {
    throwIfAborted(options.signal);
    try {
      await check(signature);
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
