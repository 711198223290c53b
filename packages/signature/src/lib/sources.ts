// Where an image's sigstore signatures come from: the cosign `sha256-<hex>.sig` tag of the target
// that holds the image and, when the target lists referrers (a registry repository, typed here only
// structurally), the OCI 1.1 referrers of cosign's signature artifact type.
import {
  isReferrerLister,
  type ReadOnlyTarget,
  type ReferrerLister,
  type SignalOptions,
} from '@ocikit/content';
import { parseDigest } from '@ocikit/digest';
import { InvalidArgumentError, throwIfAborted } from '@ocikit/errors';
import { MediaType } from '@ocikit/image-spec';
import {
  COSIGN_SIGNATURE_ARTIFACT_TYPE,
  MAX_SIGNATURES,
  readCosignSignatures,
  readSignatureLayers,
  readSignatureManifest,
} from './cosign.ts';
import type { SignatureSource, SigstoreSignature, VerifyCallOptions } from './types.ts';

/** Options of {@link targetSignatureSource}. */
export interface TargetSignatureSourceOptions {
  /** Also read signatures attached as OCI 1.1 referrers when the target lists them (default true). */
  referrers?: boolean;
  /** Where simple signing (GPG) signatures come from (default: none). */
  simpleSigning?: ((options: VerifyCallOptions) => Promise<Uint8Array[]>) | undefined;
}

/**
 * The signatures of the manifest `manifestDigest` in `target` (a registry repository, a layout):
 * sigstore signatures from the cosign `.sig` tag and from referrers, and simple signing ones from
 * `options.simpleSigning`. Each kind is read once, on first use.
 * A target listing more than 128 signature referrers is refused with an InvalidArgumentError
 * (`details.reason: 'too-many-signatures'`) without reading any of them.
 *
 * @example
 * ```ts
 * const signatures = targetSignatureSource(repository, desc.digest);
 * const found = await signatures.sigstore({});
 * ```
 */
export function targetSignatureSource(
  target: ReadOnlyTarget,
  manifestDigest: string,
  options: TargetSignatureSourceOptions = {},
): SignatureSource {
  let sigstore: Promise<SigstoreSignature[]> | undefined;
  let simpleSigning: Promise<Uint8Array[]> | undefined;
  return {
    sigstore(call) {
      sigstore ??= readAll(target, manifestDigest, options, call);
      return sigstore;
    },
    simpleSigning(call) {
      simpleSigning ??= options.simpleSigning ? options.simpleSigning(call) : Promise.resolve([]);
      return simpleSigning;
    },
  };
}

async function readAll(
  target: ReadOnlyTarget,
  manifestDigest: string,
  options: TargetSignatureSourceOptions,
  call: VerifyCallOptions,
): Promise<SigstoreSignature[]> {
  const signal: SignalOptions = call.signal ? { signal: call.signal } : {};
  // the two places are independent: ask both at once
  const [tagged, referred] = await Promise.all([
    readCosignSignatures(target, manifestDigest, signal),
    options.referrers === false || !isReferrerLister(target)
      ? []
      : readReferrerSignatures(target, manifestDigest, signal),
  ]);
  const found = [...tagged, ...referred];
  if (found.length > MAX_SIGNATURES) {
    throw new InvalidArgumentError(`${manifestDigest} has more than ${MAX_SIGNATURES} signatures`, {
      details: { reason: 'too-many-signatures', limit: MAX_SIGNATURES },
    });
  }
  return found;
}

async function readReferrerSignatures(
  target: ReadOnlyTarget & ReferrerLister,
  manifestDigest: string,
  signal: SignalOptions,
): Promise<SigstoreSignature[]> {
  throwIfAborted(signal.signal);
  const subject = { mediaType: MediaType.ImageManifest, digest: parseDigest(manifestDigest), size: 0 };
  const listed = await target.referrers(subject, { ...signal, artifactType: COSIGN_SIGNATURE_ARTIFACT_TYPE });
  const referrers = listed.filter((d) => d.artifactType === COSIGN_SIGNATURE_ARTIFACT_TYPE);
  if (referrers.length > MAX_SIGNATURES) {
    throw new InvalidArgumentError(
      `${manifestDigest} has ${referrers.length} signature referrers, more than the ${MAX_SIGNATURES} read`,
      { details: { reason: 'too-many-signatures', count: referrers.length, limit: MAX_SIGNATURES } },
    );
  }
  const found: SigstoreSignature[] = [];
  for (const desc of referrers) {
    const what = `the signature referrer ${desc.digest}`;
    const manifest = await readSignatureManifest(target, desc, what, signal);
    found.push(...(await readSignatureLayers(target, manifest, what, signal)));
    if (found.length > MAX_SIGNATURES) {
      throw new InvalidArgumentError(`${manifestDigest} has more than ${MAX_SIGNATURES} signatures`, {
        details: { reason: 'too-many-signatures', limit: MAX_SIGNATURES },
      });
    }
  }
  return found;
}
