// Sigstore signatures checked against the transparency log (Rekor) and, keyless, a Fulcio
// certificate — offline, with the official sigstore libraries (decision 177): a cosign signature's
// annotations (certificate, chain, Rekor SET) become a sigstore bundle (v0.1, message signature),
// and @sigstore/verify checks it against a trusted root made of the policy's Fulcio CA and Rekor
// keys: the SET over the log entry, the entry against the signature and payload digest, the
// certificate chain at the log's integration time, the signature, the certificate's identity.
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { InvalidArgumentError, PermissionDeniedError } from '@ocikit/errors';
import { decodePem } from './keys.ts';
import type { SigstoreSignature } from './types.ts';

/** The trust a Rekor or Fulcio check needs: the Rekor public keys, and for keyless the Fulcio CA certificates. */
export interface SigstoreTrust {
  /** Rekor's public keys (any one may have signed the SET). */
  rekorKeys: readonly KeyObject[];
  /** The Fulcio CA certificates (roots and, optionally, intermediates), for keyless signatures. */
  fulcioCAs?: readonly X509Certificate[] | undefined;
  /**
   * A sigstore trusted root (trusted_root.json, parsed JSON) the user gives: its certificate
   * transparency logs check a Fulcio certificate's SCTs. Its CAs and Rekor keys are not used: the
   * policy names those.
   */
  trustedRoot?: unknown;
}

/** The identity a keyless signature's Fulcio certificate must carry. */
export interface FulcioIdentity {
  /** The OIDC issuer (the certificate's 1.3.6.1.4.1.57264.1.8 or .1.1 extension). */
  oidcIssuer: string;
  /** The e-mail address in its subject alternative name. */
  subjectEmail: string;
}

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

type SigstoreLibraries = [
  typeof import('@sigstore/bundle'),
  typeof import('@sigstore/protobuf-specs'),
  typeof import('@sigstore/verify'),
];
let libraries: Promise<SigstoreLibraries> | undefined;
/** The sigstore libraries, loaded on first use: a key-only check never pays their start-up. */
function sigstoreLibraries(): Promise<SigstoreLibraries> {
  libraries ??= Promise.all([
    import('@sigstore/bundle'),
    import('@sigstore/protobuf-specs'),
    import('@sigstore/verify'),
  ]);
  return libraries;
}

/** Every PEM certificate in `text`, parsed. */
export function parseCertificates(text: string, what: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InvalidArgumentError(`${what}: no PEM certificate found`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (cause) {
      throw new InvalidArgumentError(`${what}: not a valid certificate`, { cause });
    }
  });
}

/** The Rekor SET annotation (`dev.sigstore.cosign/bundle`) cosign writes. */
interface RekorSet {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

function parseRekorSet(value: unknown): RekorSet {
  const v = (typeof value === 'string' ? safeJson(value) : value) as Partial<RekorSet> | undefined;
  const p = v?.Payload;
  if (
    typeof v?.SignedEntryTimestamp !== 'string' ||
    typeof p !== 'object' ||
    p === null ||
    typeof p.body !== 'string' ||
    typeof p.integratedTime !== 'number' ||
    typeof p.logIndex !== 'number' ||
    typeof p.logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(p.logID)
  ) {
    throw new InvalidArgumentError(
      'the Rekor bundle annotation is not {SignedEntryTimestamp, Payload{body, integratedTime, logIndex, logID}}',
    );
  }
  return v as RekorSet;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * The intermediates of `chain` that chain up to one of `cas` (checked here, so only they join the
 * trusted certificates the verifier builds paths from: an untrusted annotation cannot add a root).
 */
function trustedIntermediates(
  chain: readonly X509Certificate[],
  cas: readonly X509Certificate[],
): X509Certificate[] {
  const trusted = [...cas];
  const accepted: X509Certificate[] = [];
  let grew = true;
  while (grew) {
    grew = false;
    for (const cert of chain) {
      if (accepted.includes(cert) || !cert.ca || cert.checkIssued(cert)) continue;
      if (trusted.some((issuer) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
        trusted.push(cert);
        accepted.push(cert);
        grew = true;
      }
    }
  }
  return accepted;
}

function trustedRoot(
  TrustedRoot: SigstoreLibraries[1]['TrustedRoot'],
  trust: SigstoreTrust,
  intermediates: readonly X509Certificate[],
) {
  const start = '1970-01-01T00:00:00Z';
  return TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: trust.rekorKeys.map((key) => {
      const der = key.export({ type: 'spki', format: 'der' });
      return {
        baseUrl: 'https://rekor.invalid',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(der), keyDetails: keyDetails(key), validFor: { start } },
        logId: { keyId: b64(createHash('sha256').update(der).digest()) },
      };
    }),
    certificateAuthorities:
      trust.fulcioCAs === undefined
        ? []
        : [
            {
              subject: { organization: 'fulcio', commonName: 'fulcio' },
              uri: 'https://fulcio.invalid',
              certChain: {
                certificates: [...intermediates, ...trust.fulcioCAs].map((c) => ({ rawBytes: b64(c.raw) })),
              },
              validFor: { start },
            },
          ],
    ctlogs: ctLogsOf(trust.trustedRoot),
    timestampAuthorities: [],
  });
}

function ctLogsOf(root: unknown): unknown[] {
  if (root === undefined) return [];
  const logs = (root as { ctlogs?: unknown }).ctlogs;
  if (typeof root !== 'object' || root === null || !Array.isArray(logs)) {
    throw new InvalidArgumentError('the sigstore trusted root has no ctlogs list');
  }
  return logs;
}

/** True when `cert` carries signed certificate timestamps (the 1.3.6.1.4.1.11129.2.4.2 extension). */
function hasScts(cert: X509Certificate): boolean {
  // the extension's OID, DER-encoded, appears in the certificate only when the extension does
  return Buffer.from(cert.raw).includes(Buffer.from('060a2b06010401d679020402', 'hex'));
}

function keyDetails(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'secp384r1'
      ? 'PKIX_ECDSA_P384_SHA_384'
      : curve === 'secp521r1'
        ? 'PKIX_ECDSA_P521_SHA_512'
        : 'PKIX_ECDSA_P256_SHA_256';
  }
  if (key.asymmetricKeyType === 'ed25519') return 'PKIX_ED25519';
  return 'PKIX_RSA_PKCS1V15_2048_SHA256';
}

/** The public key or certificate the Rekor entry's body names (hashedrekord 0.0.1), as PEM text. */
function entryPublicKey(body: string): string {
  const entry = safeJson(Buffer.from(body, 'base64').toString('utf8')) as
    | { kind?: string; apiVersion?: string; spec?: { signature?: { publicKey?: { content?: string } } } }
    | undefined;
  if (entry?.kind !== 'hashedrekord' || entry.apiVersion !== '0.0.1') {
    throw new PermissionDeniedError(
      `the Rekor entry is a ${entry?.kind}/${entry?.apiVersion}, not a hashedrekord/0.0.1`,
    );
  }
  return Buffer.from(entry.spec?.signature?.publicKey?.content ?? '', 'base64').toString('utf8');
}

/** `a` and `b` are the same key or certificate, whatever their PEM line breaks. */
function samePem(a: string, b: string): boolean {
  try {
    return decodePem(a, 'PEM').bytes.equals(decodePem(b, 'PEM').bytes);
  } catch {
    return false;
  }
}

/**
 * Verifies a cosign signature's Rekor SET and, when it carries a certificate, its Fulcio
 * certificate, with @sigstore/verify against `trust`; returns the time the log integrated it.
 * Key-based (`publicKey` given): the SET must be for this signature, payload digest and key.
 * Keyless (`identity` given): the certificate must chain to a Fulcio CA at that time, be for code
 * signing, and carry the identity. Throws PermissionDeniedError saying what failed.
 */
export async function verifyRekorBundle(
  signature: SigstoreSignature,
  trust: SigstoreTrust,
  signer: { publicKey: KeyObject; publicKeyPem: string } | { identity: FulcioIdentity },
): Promise<Date> {
  if (signature.bundle === undefined) {
    throw new PermissionDeniedError(
      'the signature has no Rekor bundle (dev.sigstore.cosign/bundle annotation), and one is required',
    );
  }
  const set = parseRekorSet(signature.bundle);
  const body = Buffer.from(set.Payload.body, 'base64').toString('utf8');
  const keyless = 'identity' in signer;
  let leaf: X509Certificate | undefined;
  let intermediates: X509Certificate[] = [];
  if (keyless) {
    if (signature.certificate === undefined) {
      throw new PermissionDeniedError(
        'the signature has no certificate (dev.sigstore.cosign/certificate annotation)',
      );
    }
    [leaf] = parseCertificates(signature.certificate, 'the signature certificate');
    const chain =
      signature.chain === undefined ? [] : parseCertificates(signature.chain, 'the certificate chain');
    intermediates = trustedIntermediates(chain, trust.fulcioCAs ?? []);
    if (!leaf?.keyUsage?.includes(CODE_SIGNING)) {
      throw new PermissionDeniedError('the signing certificate is not for code signing');
    }
    if (hasScts(leaf) && ctLogsOf(trust.trustedRoot).length === 0) {
      throw new PermissionDeniedError(
        "the certificate's SCTs cannot be checked: give a sigstore trusted root whose ctlogs hold the CT log's key",
      );
    }
  }
  // as containers/image: the log entry must name the very key or certificate that signed
  const named = entryPublicKey(set.Payload.body);
  if (!samePem(named, keyless ? (signature.certificate ?? '') : signer.publicKeyPem)) {
    throw new PermissionDeniedError('the Rekor entry is for another key or certificate');
  }
  const [{ bundleFromJSON }, { TrustedRoot }, { toSignedEntity, toTrustMaterial, Verifier }] =
    await sigstoreLibraries();
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      ...(leaf !== undefined
        ? {
            x509CertificateChain: {
              certificates: [leaf, ...intermediates].map((c) => ({ rawBytes: b64(c.raw) })),
            },
          }
        : { publicKey: { hint: 'policy-key' } }),
      tlogEntries: [
        {
          logIndex: String(set.Payload.logIndex),
          logId: { keyId: b64(Buffer.from(set.Payload.logID, 'hex')) },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(set.Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: set.SignedEntryTimestamp },
          canonicalizedBody: b64(Buffer.from(body)),
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: b64(createHash('sha256').update(signature.payload).digest()),
      },
      signature: signature.signature,
    },
  });
  const keys = keyless ? undefined : () => ({ publicKey: signer.publicKey, validFor: () => true });
  const material = toTrustMaterial(trustedRoot(TrustedRoot, trust, intermediates), keys);
  const verifier = new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 });
  try {
    verifier.verify(
      toSignedEntity(bundle, Buffer.from(signature.payload)),
      keyless
        ? {
            subjectAlternativeName: signer.identity.subjectEmail,
            extensions: { issuer: signer.identity.oidcIssuer },
          }
        : undefined,
    );
  } catch (cause) {
    throw new PermissionDeniedError(`sigstore verification failed: ${(cause as Error).message}`, { cause });
  }
  return new Date(set.Payload.integratedTime * 1000);
}
