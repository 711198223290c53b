/**
 * The shapes the policy evaluator and the signature formats share: the policy
 * (containers-policy.json(5)), the image under verification, and where its signatures come from.
 */

/** The transports containers-policy.json names (`transports` keys). */
export type PolicyTransport =
  | 'docker'
  | 'atomic'
  | 'containers-storage'
  | 'dir'
  | 'docker-archive'
  | 'docker-daemon'
  | 'oci'
  | 'oci-archive'
  | 'sif'
  | 'tarball';

/** How a signature's claimed identity must relate to the image's name (`signedIdentity`). */
export type SignedIdentity =
  | { type: 'matchExact' }
  | { type: 'matchRepoDigestOrExact' }
  | { type: 'matchRepository' }
  | { type: 'exactReference'; dockerReference: string }
  | { type: 'exactRepository'; dockerRepository: string }
  | { type: 'remapIdentity'; prefix: string; signedPrefix: string };

/** `insecureAcceptAnything`: accept with no signature. */
export interface InsecureAcceptAnything {
  type: 'insecureAcceptAnything';
}

/** `reject`: refuse. */
export interface RejectRequirement {
  type: 'reject';
}

/** `signedBy`: a GPG simple signing signature by one of these keys. */
export interface SignedByRequirement {
  type: 'signedBy';
  /** Only `GPGKeys` is defined (`signedByGPGKeys`, `X509Certificates` are refused as unknown). */
  keyType: 'GPGKeys';
  /** One keyring file. Exactly one of keyPath, keyPaths, keyData. */
  keyPath?: string | undefined;
  /** Several keyring files. */
  keyPaths?: string[] | undefined;
  /** A keyring, base64 of its binary or armored form. */
  keyData?: string | undefined;
  /** How the signed identity must match (default `matchRepoDigestOrExact`). */
  signedIdentity?: SignedIdentity | undefined;
}

/** `sigstoreSigned`: a sigstore (cosign) signature by this key, or by a Fulcio certificate. */
export interface SigstoreSignedRequirement {
  type: 'sigstoreSigned';
  /** A PEM public key file. One of keyPath, keyPaths, keyData, fulcio. */
  keyPath?: string | undefined;
  /** Several PEM public key files (any one may sign). */
  keyPaths?: string[] | undefined;
  /** A PEM public key, base64. */
  keyData?: string | undefined;
  /** Keyless: the Fulcio CA and the identity the certificate must carry. */
  fulcio?:
    | {
        caPath?: string | undefined;
        caData?: string | undefined;
        oidcIssuer: string;
        subjectEmail: string;
      }
    | undefined;
  /** The Rekor public key (file or base64 PEM); when set, a Rekor entry is required. */
  rekorPublicKeyPath?: string | undefined;
  /** As {@link SigstoreSignedRequirement.rekorPublicKeyPath}, inline. */
  rekorPublicKeyData?: string | undefined;
  /** How the signed identity must match (default `matchRepoDigestOrExact`). */
  signedIdentity?: SignedIdentity | undefined;
}

/** One requirement of a policy. */
export type PolicyRequirement =
  | InsecureAcceptAnything
  | RejectRequirement
  | SignedByRequirement
  | SigstoreSignedRequirement;

/** A parsed containers-policy.json. */
export interface Policy {
  /** Requirements for images no scope matches. */
  default: PolicyRequirement[];
  /** Per transport, per scope (`docker.io/library/busybox`, `docker.io`, `*.example.com`, `""`). */
  transports: Partial<Record<PolicyTransport, Record<string, PolicyRequirement[]>>>;
  /** The file it was read from, for errors. */
  path?: string | undefined;
}

/** A sigstore (cosign) signature as stored beside an image. */
export interface SigstoreSignature {
  /** The simple signing payload the signature is over (the layer's bytes). */
  payload: Uint8Array;
  /** The base64 signature (`dev.cosignproject.cosign/signature` annotation). */
  signature: string;
  /** A PEM certificate (`dev.sigstore.cosign/certificate`), keyless. */
  certificate?: string | undefined;
  /** Its PEM chain (`dev.sigstore.cosign/chain`). */
  chain?: string | undefined;
  /** A sigstore bundle (`dev.sigstore.cosign/bundle`, or a bundle referrer), parsed JSON. */
  bundle?: unknown;
}

/** Options every verification call takes. */
export interface VerifyCallOptions {
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
}

/**
 * Where an image's signatures come from: sigstore signatures from its registry (the cosign tag or
 * OCI 1.1 referrers), simple signing ones from a lookaside (registries.d) or the registry's
 * signature extension. An image with none gives empty lists.
 */
export interface SignatureSource {
  /** Sigstore signatures for the image's manifest digest. */
  sigstore(options: VerifyCallOptions): Promise<SigstoreSignature[]>;
  /** Simple signing (GPG) signature blobs for the image's manifest digest. */
  simpleSigning(options: VerifyCallOptions): Promise<Uint8Array[]>;
}

/** An image about to be accepted, as a policy sees it. */
export interface ImageToVerify {
  /** The transport it comes from. */
  transport: PolicyTransport;
  /**
   * Its name as the policy's scopes see it: for `docker`, the normalized reference
   * (`docker.io/library/busybox:latest`, or `…@sha256:…`); for `oci`, `/abs/dir:ref`.
   */
  name: string;
  /** The digest of the manifest that would be stored (`sha256:…`). */
  manifestDigest: string;
  /** That manifest's bytes, exactly as fetched and verified against `manifestDigest`. */
  manifest: Uint8Array;
  /** Its signatures. */
  signatures: SignatureSource;
}
