// GPG "simple signing" (containers-signature(5), skopeo --sign-by): an OpenPGP signed message whose
// literal data is the `atomic container signature` payload, verified with openpgp.js against a
// keyring as containers/image's prSignedBy does (policy_eval_signedby.go, simple.go).
import { readFile } from 'node:fs/promises';
import { digestAlgorithm, digestOfSync } from '@ocikit/digest';
import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  isAborted,
  isOcikitError,
  PermissionDeniedError,
  throwIfAborted,
  truncate,
} from '@ocikit/errors';
import type * as openpgp from 'openpgp';
import { DEFAULT_SIGNED_IDENTITY, matchesSignedIdentity } from './identity.ts';
import { MAX_PAYLOAD_SIZE, makePayload, PayloadType, parsePayload, type SigningPayload } from './payload.ts';
import type { ImageToVerify, SignedByRequirement, SignedIdentity, VerifyCallOptions } from './types.ts';

let openpgpModule: Promise<typeof openpgp> | undefined;
/** openpgp.js, loaded on first use: a pull that no signedBy requirement checks never pays its start-up. */
const pgp = (): Promise<typeof openpgp> => {
  openpgpModule ??= import('openpgp');
  return openpgpModule;
};

/** containers/image's `iolimits.MaxSignatureBodySize`: a signature blob larger than this is refused unread. */
export const MAX_SIGNATURE_SIZE = 4 << 20;

/** A keyring larger than this is refused (a few thousand keys; far above any real policy's). */
export const MAX_KEYRING_SIZE = 16 << 20;

/** A compressed signature may not expand past this (a payload is at most MAX_PAYLOAD_SIZE): no zip bombs. */
const OPENPGP_LIMITS = { maxDecompressedMessageSize: MAX_PAYLOAD_SIZE + 64 * 1024 };

const SIMPLE_SIGNING_PREFIX = new TextEncoder().encode('\0simple-signing\n');

/** The first bytes containers/image's `signature.FromBlob` takes as a simple signing blob (compressed, one-pass or signature packets). */
const OPENPGP_FIRST_BYTES = new Set([
  0xa0, 0xa1, 0xa2, 0xa3, 0xc8, 0x90, 0x91, 0x92, 0x3d, 0xc4, 0x88, 0x89, 0x8a, 0x8b, 0xc2,
]);

/** containers/image `FromBlob` for simple signing: a bare OpenPGP message, or one behind `\0simple-signing\n`. */
function unwrapBlob(blob: Uint8Array): Uint8Array {
  const invalid = (why: string) =>
    new InvalidArgumentError(why, {
      details: { reason: 'invalid-signature' },
      hint: 'simple signing signatures are binary OpenPGP messages (not armored)',
    });
  if (blob.byteLength === 0) throw invalid('empty signature blob');
  let raw = blob;
  if (blob[0] === 0) {
    const prefixed = SIMPLE_SIGNING_PREFIX.every((b, i) => blob[i] === b);
    if (!prefixed) throw invalid('not a simple signing signature (another signature format)');
    raw = blob.subarray(SIMPLE_SIGNING_PREFIX.byteLength);
  }
  const first = raw[0];
  if (first === undefined || !OPENPGP_FIRST_BYTES.has(first)) {
    throw invalid(
      `unrecognized signature format, starting with byte 0x${(first ?? 0).toString(16).padStart(2, '0')}`,
    );
  }
  return raw;
}

/**
 * Parsed public keys from a `signedBy` requirement's keyPath/keyPaths/keyData (or any keyring).
 * Opaque: made by {@link readKeyring} or {@link loadSignedByKeyring}, used by
 * {@link verifySimpleSignature}; the OpenPGP objects inside stay private to this package.
 */
export interface Keyring {
  /** The primary key fingerprints, upper-case hex (as containers/image names key identities). */
  readonly fingerprints: readonly string[];
}

const keyringKeys = new WeakMap<Keyring, readonly openpgp.Key[]>();

function makeKeyring(keys: readonly openpgp.Key[]): Keyring {
  const ring: Keyring = Object.freeze({
    fingerprints: Object.freeze(keys.map((k) => k.getFingerprint().toUpperCase())),
  });
  keyringKeys.set(ring, keys);
  return ring;
}

function keysIn(ring: Keyring): readonly openpgp.Key[] {
  const keys = keyringKeys.get(ring);
  if (keys === undefined)
    throw new InvalidArgumentError('not a keyring made by readKeyring or loadSignedByKeyring');
  return keys;
}

function keyringError(what: string, why: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`cannot read GPG keyring ${what}: ${why}`, {
    cause,
    details: { reason: 'invalid-keyring', source: what },
    hint: 'a keyring is what `gpg --export [--armor] KEY` writes',
  });
}

const ARMOR_BLOCK =
  /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g;

/**
 * Reads OpenPGP public keys from keyring bytes, binary (`gpg --export`) or armored
 * (`gpg --export --armor`, several blocks allowed). `what` names the source in errors.
 *
 * @throws InvalidArgumentError (`details.reason: 'invalid-keyring'`) when the bytes are not a keyring.
 */
export async function readKeyring(bytes: Uint8Array, what = 'keyData'): Promise<Keyring> {
  if (bytes.byteLength > MAX_KEYRING_SIZE)
    throw keyringError(what, `it is ${bytes.byteLength} bytes, more than ${MAX_KEYRING_SIZE}`);
  const keys: openpgp.Key[] = [];
  const text = bytes.byteLength > 0 && bytes[0] === 0x2d ? new TextDecoder().decode(bytes) : undefined;
  try {
    if (text !== undefined) {
      const blocks = text.match(ARMOR_BLOCK);
      if (blocks === null)
        throw keyringError(what, 'it is neither a binary keyring nor an armored key block');
      for (const armoredKeys of blocks) keys.push(...(await (await pgp()).readKeys({ armoredKeys })));
    } else if (bytes.byteLength > 0) {
      keys.push(...(await (await pgp()).readKeys({ binaryKeys: bytes })));
    }
  } catch (e) {
    if (isOcikitError(e)) throw e;
    throw keyringError(what, (e as Error).message, e);
  }
  return makeKeyring(keys);
}

function decodeBase64(data: string): Uint8Array {
  return Buffer.from(data, 'base64');
}

/**
 * Loads the keyring a `signedBy` requirement names: the `keyPath` file, all `keyPaths` files, or the
 * base64 `keyData`.
 *
 * @throws InvalidArgumentError when a file is not a keyring; NotFound-like errors are reported
 *   as InvalidArgumentError naming the file (the policy points at something unusable).
 */
export async function loadSignedByKeyring(
  requirement: SignedByRequirement,
  options: VerifyCallOptions = {},
): Promise<Keyring> {
  const paths = requirement.keyPath ? [requirement.keyPath] : (requirement.keyPaths ?? []);
  if (requirement.keyData !== undefined && paths.length === 0)
    return readKeyring(decodeBase64(requirement.keyData), 'keyData');
  const keys: openpgp.Key[] = [];
  for (const path of paths) {
    throwIfAborted(options.signal);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path, { signal: options.signal });
    } catch (cause) {
      if ((cause as Error).name === 'AbortError')
        throw new AbortedError('reading the keyring was cancelled', { cause });
      throw keyringError(path, (cause as NodeJS.ErrnoException).code ?? (cause as Error).message, cause);
    }
    keys.push(...keysIn(await readKeyring(bytes, path)));
  }
  return makeKeyring(keys);
}

/** Why one signature blob was not accepted (the message), as a typed error. */
function notAccepted(why: string, cause?: unknown): PermissionDeniedError {
  return new PermissionDeniedError(why, { cause, details: { reason: 'signature-not-accepted' } });
}

/** What a verified simple signing signature says. */
export interface VerifiedSimpleSignature {
  /** The payload (digest and identity) the key signed. */
  payload: SigningPayload;
  /** The fingerprint of the primary key that signed it (upper-case hex). */
  keyFingerprint: string;
}

/** What a simple signing signature must say to be accepted. */
export interface SimpleSigningRules {
  /** The manifest bytes the signature must be for (its digest is compared with the signed one). */
  manifest: Uint8Array;
  /** The image's Docker reference, for the identity rule (undefined when the transport has none). */
  dockerReference: string | undefined;
  /** How the signed identity must match (default `matchRepoDigestOrExact`). */
  signedIdentity?: SignedIdentity | undefined;
}

/**
 * Verifies one simple signing blob against `keyring` and `rules`, as containers/image
 * `verifyAndExtractSignature` does: the OpenPGP signature must verify with one of the keyring's
 * keys (or their subkeys), the literal data must be a valid `atomic container signature` payload,
 * its `docker-manifest-digest` must be the manifest's digest and its `docker-reference` must be
 * accepted by the identity rule.
 *
 * @throws InvalidArgumentError when the blob is not an OpenPGP message (too large, truncated,
 *   armored, garbage) or its payload is malformed; PermissionDeniedError
 *   (`details.reason: 'signature-not-accepted'`) when it is well-formed but not accepted (unknown
 *   key, bad signature, another digest, another identity).
 */
export async function verifySimpleSignature(
  blob: Uint8Array,
  keyring: Keyring,
  rules: SimpleSigningRules,
): Promise<VerifiedSimpleSignature> {
  if (blob.byteLength > MAX_SIGNATURE_SIZE) {
    throw new InvalidArgumentError(`signature is ${blob.byteLength} bytes, more than ${MAX_SIGNATURE_SIZE}`, {
      details: { reason: 'invalid-signature', size: blob.byteLength },
    });
  }
  const raw = unwrapBlob(blob);
  const keys = keysIn(keyring);
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await (await pgp()).readMessage({ binaryMessage: raw, config: OPENPGP_LIMITS });
  } catch (cause) {
    throw new InvalidArgumentError(`malformed OpenPGP signature: ${(cause as Error).message}`, {
      cause,
      details: { reason: 'invalid-signature' },
    });
  }
  let data: Uint8Array;
  let signatures: Awaited<ReturnType<typeof openpgp.verify>>['signatures'];
  try {
    const result = await (await pgp()).verify({
      message,
      verificationKeys: [...keys],
      format: 'binary',
      config: OPENPGP_LIMITS,
    });
    data = result.data;
    signatures = result.signatures;
  } catch (cause) {
    throw new InvalidArgumentError(`malformed OpenPGP signature: ${(cause as Error).message}`, {
      cause,
      details: { reason: 'invalid-signature' },
    });
  }
  if (signatures.length === 0) throw notAccepted('not signed');
  let signer: openpgp.Key | undefined;
  const reasons: string[] = [];
  for (const sig of signatures) {
    try {
      await sig.verified;
      signer = keys.find((k) => k.getKeys(sig.keyID).length > 0);
      if (signer !== undefined) break;
    } catch (e) {
      const keyHex = sig.keyID.toHex().toUpperCase();
      const known = keys.some((k) => k.getKeys(sig.keyID).length > 0);
      reasons.push(
        known
          ? `invalid signature by key ${keyHex}: ${(e as Error).message}`
          : `signature by key ${keyHex} is not accepted (not in the keyring)`,
      );
    }
  }
  if (signer === undefined) throw notAccepted(reasons.join('; ') || 'no signature by a trusted key');
  const payload = parsePayload(data, PayloadType.SimpleSigning);
  let manifestDigest: string;
  try {
    manifestDigest = digestOfSync(rules.manifest, {
      algorithm: digestAlgorithm(payload.dockerManifestDigest),
    });
  } catch (cause) {
    throw notAccepted(
      `signature for digest ${payload.dockerManifestDigest} uses an unsupported algorithm`,
      cause,
    );
  }
  if (manifestDigest !== payload.dockerManifestDigest) {
    throw notAccepted(
      `signature for digest ${payload.dockerManifestDigest} does not match (the manifest is ${manifestDigest})`,
    );
  }
  if (
    !matchesSignedIdentity(
      rules.signedIdentity ?? DEFAULT_SIGNED_IDENTITY,
      rules.dockerReference,
      payload.dockerReference,
    )
  ) {
    throw notAccepted(
      `signature for identity ${JSON.stringify(truncate(payload.dockerReference, 200))} is not accepted${rules.dockerReference ? ` for ${rules.dockerReference}` : ''} (signedIdentity ${(rules.signedIdentity ?? DEFAULT_SIGNED_IDENTITY).type})`,
    );
  }
  return { payload, keyFingerprint: signer.getFingerprint().toUpperCase() };
}

/**
 * The `signedBy` verifier {@link evaluatePolicy} uses by default: resolves when one of the image's
 * simple signing signatures is accepted ({@link verifySimpleSignature}); otherwise throws an
 * error whose message says why, as containers/image words it ("A signature was required, but no
 * signature exists", the one signature's reason, or all reasons).
 */
export async function verifySignedBy(
  requirement: SignedByRequirement,
  image: ImageToVerify,
  options: VerifyCallOptions & { dockerReference: string | undefined },
): Promise<void> {
  const keyring = await loadSignedByKeyring(requirement, options);
  if (keyring.fingerprints.length === 0) throw notAccepted('no public keys imported');
  throwIfAborted(options.signal);
  const blobs = await image.signatures.simpleSigning({ signal: options.signal });
  const reasons: string[] = [];
  for (const blob of blobs) {
    throwIfAborted(options.signal);
    try {
      await verifySimpleSignature(blob, keyring, {
        manifest: image.manifest,
        dockerReference: options.dockerReference,
        signedIdentity: requirement.signedIdentity,
      });
      return;
    } catch (e) {
      if (isAborted(e)) throw e;
      reasons.push((e as Error).message);
    }
  }
  if (reasons.length === 0) throw notAccepted('a signature was required, but no signature exists');
  if (reasons.length === 1) throw notAccepted(reasons[0] as string);
  throw notAccepted(`none of the ${reasons.length} signatures were accepted, reasons: ${reasons.join('; ')}`);
}

/** Options of {@link signSimpleSigning}. */
export interface SignSimpleSigningOptions {
  /** The private key: armored or binary, as `gpg --export-secret-keys [--armor]` writes it. */
  privateKey: string | Uint8Array;
  /** Its passphrase, when it is protected. */
  passphrase?: string | undefined;
  /** Which key of several (a fingerprint or key ID suffix); default the first. */
  keyId?: string | undefined;
  /** `optional.creator` (default `ocikit`). */
  creator?: string | undefined;
  /** `optional.timestamp`, Unix seconds (default now). */
  timestamp?: number | undefined;
}

async function readPrivateKeys(key: string | Uint8Array): Promise<openpgp.PrivateKey[]> {
  try {
    if (typeof key === 'string') return await (await pgp()).readPrivateKeys({ armoredKeys: key });
    if (key.byteLength > 0 && key[0] === 0x2d)
      return await (await pgp()).readPrivateKeys({ armoredKeys: new TextDecoder().decode(key) });
    return await (await pgp()).readPrivateKeys({ binaryKeys: key });
  } catch (cause) {
    throw new InvalidArgumentError(`cannot read the GPG private key: ${(cause as Error).message}`, {
      cause,
      details: { reason: 'invalid-private-key' },
    });
  }
}

/**
 * Signs `manifest` as `dockerReference` with GPG simple signing: the `atomic container signature`
 * payload for the manifest's sha256 digest, in an OpenPGP signed message (binary, uncompressed),
 * as skopeo `--sign-by` writes it and skopeo/podman's `signedBy` policy accepts it.
 *
 * @throws InvalidArgumentError when the key cannot be read, FailedPreconditionError when it cannot
 *   be decrypted (wrong or missing passphrase) or cannot sign.
 *
 * @example
 * ```ts
 * const blob = await signSimpleSigning(manifestBytes, 'registry.example/app:1', { privateKey: armoredKey });
 * ```
 */
export async function signSimpleSigning(
  manifest: Uint8Array,
  dockerReference: string,
  options: SignSimpleSigningOptions,
): Promise<Uint8Array> {
  if (options.passphrase?.includes('\n')) {
    throw new InvalidArgumentError('invalid passphrase: must not contain a line break');
  }
  const keys = await readPrivateKeys(options.privateKey);
  const wanted = options.keyId?.toUpperCase();
  const key =
    wanted === undefined
      ? keys[0]
      : keys.find((k) =>
          k
            .getKeys()
            .some(
              (sub) =>
                sub.getFingerprint().toUpperCase().endsWith(wanted) ||
                sub.getKeyID().toHex().toUpperCase().endsWith(wanted),
            ),
        );
  if (key === undefined) {
    throw new InvalidArgumentError(
      wanted === undefined ? 'no private key given' : `no private key ${wanted} among those given`,
      {
        details: { reason: 'invalid-private-key' },
      },
    );
  }
  let signingKey: openpgp.PrivateKey = key;
  if (!key.isDecrypted()) {
    if (options.passphrase === undefined) {
      throw new FailedPreconditionError(
        `the private key ${key.getFingerprint().toUpperCase()} is protected by a passphrase, and none was given`,
      );
    }
    try {
      signingKey = await (await pgp()).decryptKey({ privateKey: key, passphrase: options.passphrase });
    } catch (cause) {
      throw new FailedPreconditionError(
        `cannot decrypt the private key ${key.getFingerprint().toUpperCase()}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  const digest = digestOfSync(manifest);
  const payload = makePayload(digest, dockerReference, {
    type: PayloadType.SimpleSigning,
    ...(options.creator !== undefined ? { creator: options.creator } : {}),
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
  try {
    const message = await (await pgp()).createMessage({ binary: payload });
    return await (await pgp()).sign({ message, signingKeys: signingKey, format: 'binary' });
  } catch (cause) {
    throw new FailedPreconditionError(
      `cannot sign with key ${key.getFingerprint().toUpperCase()}: ${(cause as Error).message}`,
      { cause },
    );
  }
}
