// Cosign signatures as cosign, skopeo and podman store them in a registry: a manifest tagged
// `sha256-<hex>.sig` whose layers are simple signing payloads (media type
// `application/vnd.dev.cosign.simplesigning.v1+json`), each with its base64 ECDSA signature in
// the `dev.cosignproject.cosign/signature` annotation; signing again appends a layer.
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import {
  fetchAll,
  isTaggedPusher,
  pushBytes,
  type ReadOnlyTarget,
  type SignalOptions,
  type Target,
} from '@ocikit/content';
import { type Digest, digestAlgorithm, digestOfSync, parseDigest } from '@ocikit/digest';
import { InvalidArgumentError, isNotFound, throwIfAborted } from '@ocikit/errors';
import {
  type Descriptor,
  type ImageManifest,
  MAX_DOCUMENT_SIZE,
  MediaType,
  parseManifest,
} from '@ocikit/image-spec';
import { MAX_PAYLOAD_SIZE, SIGSTORE_PAYLOAD_MEDIA_TYPE } from './payload.ts';
import type { SigstoreSignature } from './types.ts';

/** The layer annotation holding the base64 signature. */
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** The layer annotation holding a Fulcio certificate (keyless). */
export const COSIGN_CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
/** The layer annotation holding the certificate chain (keyless). */
export const COSIGN_CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
/** The layer annotation holding a Rekor bundle (SET). */
export const COSIGN_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
/** The artifact type of a cosign signature stored as an OCI 1.1 referrer. */
export const COSIGN_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

/**
 * At most this many signature layers are read from one image's `.sig` manifest (or signature
 * referrers): more is refused, so a hostile registry cannot make a verification read without end.
 */
export const MAX_SIGNATURES = 128;

/** The tag cosign keeps an image's signatures under: `sha256-<hex>.sig`. */
export function cosignSignatureTag(manifestDigest: string): string {
  const digest = parseDigest(manifestDigest);
  return `${digest.replace(':', '-')}.sig`;
}

/**
 * Signs `payload` with `key` as cosign does (ECDSA or RSA with SHA-256, ASN.1 DER; Ed25519 pure)
 * and returns the base64 signature that goes in {@link COSIGN_SIGNATURE_ANNOTATION}.
 */
export function signPayload(key: KeyObject, payload: Uint8Array): string {
  const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return cryptoSign(algorithm, payload, key).toString('base64');
}

/** Options of the calls that read or write a target. */
export interface CosignOptions extends SignalOptions {}

/**
 * Reads the sigstore signatures stored under an image's `sha256-<hex>.sig` tag in `target`: none
 * when the tag is absent. Layers of other media types (attestations) are skipped. The manifest and
 * each payload are read whole only when small (4 MiB, 1 MiB) and verified against their digests.
 */
export async function readCosignSignatures(
  target: ReadOnlyTarget,
  manifestDigest: string,
  options: CosignOptions = {},
): Promise<SigstoreSignature[]> {
  throwIfAborted(options.signal);
  const tag = cosignSignatureTag(manifestDigest);
  let desc: Descriptor;
  try {
    desc = await target.resolve(tag, { ...signalOf(options), fetching: true });
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
  const manifest = await readSignatureManifest(target, desc, `the signature manifest ${tag}`, options);
  return readSignatureLayers(target, manifest, `the signature manifest ${tag}`, options);
}

/** Reads and parses a signature manifest, refusing anything but an OCI image manifest. */
export async function readSignatureManifest(
  target: ReadOnlyTarget,
  desc: Descriptor,
  what: string,
  options: CosignOptions,
): Promise<ImageManifest> {
  if (desc.mediaType !== MediaType.ImageManifest) {
    throw new InvalidArgumentError(`${what}: unexpected media type ${JSON.stringify(desc.mediaType)}`);
  }
  const bytes = await fetchAll(target, desc, { ...signalOf(options), maxSize: MAX_DOCUMENT_SIZE });
  let manifest: ImageManifest;
  try {
    manifest = parseManifest(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch (cause) {
    throw new InvalidArgumentError(`${what} is not a valid OCI manifest`, { cause });
  }
  return manifest;
}

/** The simple signing layers of a signature manifest, with their payloads, as signatures. */
export async function readSignatureLayers(
  target: ReadOnlyTarget,
  manifest: ImageManifest,
  what: string,
  options: CosignOptions,
): Promise<SigstoreSignature[]> {
  const layers = manifest.layers.filter((l) => l.mediaType === SIGSTORE_PAYLOAD_MEDIA_TYPE);
  if (layers.length > MAX_SIGNATURES) {
    throw new InvalidArgumentError(`${what} has ${layers.length} signatures, more than ${MAX_SIGNATURES}`, {
      details: { reason: 'too-many-signatures', count: layers.length, limit: MAX_SIGNATURES },
    });
  }
  const out: SigstoreSignature[] = [];
  for (const layer of layers) {
    throwIfAborted(options.signal);
    const payload = await fetchAll(target, layer, { ...signalOf(options), maxSize: MAX_PAYLOAD_SIZE });
    const a = layer.annotations ?? {};
    const signature = a[COSIGN_SIGNATURE_ANNOTATION];
    out.push({
      payload,
      signature: signature ?? '',
      ...(a[COSIGN_CERTIFICATE_ANNOTATION] !== undefined
        ? { certificate: a[COSIGN_CERTIFICATE_ANNOTATION] }
        : {}),
      ...(a[COSIGN_CHAIN_ANNOTATION] !== undefined ? { chain: a[COSIGN_CHAIN_ANNOTATION] } : {}),
      ...(a[COSIGN_BUNDLE_ANNOTATION] !== undefined
        ? { bundle: parseBundleAnnotation(a[COSIGN_BUNDLE_ANNOTATION]) }
        : {}),
    });
  }
  return out;
}

function parseBundleAnnotation(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return text;
  }
}

/**
 * A signature to attach: the payload bytes and the base64 signature over them, and for a keyless
 * or logged signature its certificate, chain and Rekor bundle (kept as their annotations).
 */
export interface CosignSignatureToAttach {
  /** The simple signing payload (see `makePayload`). */
  payload: Uint8Array;
  /** Its base64 signature ({@link signPayload}). */
  signature: string;
  /** A PEM certificate ({@link COSIGN_CERTIFICATE_ANNOTATION}). */
  certificate?: string | undefined;
  /** Its PEM chain ({@link COSIGN_CHAIN_ANNOTATION}). */
  chain?: string | undefined;
  /** The Rekor bundle, parsed JSON or its text ({@link COSIGN_BUNDLE_ANNOTATION}). */
  bundle?: unknown;
}

/**
 * Stores `signature` for the manifest `manifestDigest` in `target` as cosign does: the payload as a
 * blob, then the `sha256-<hex>.sig` manifest with one more layer (a new manifest when there is
 * none; nothing changes when the same payload and signature are there already). Returns the
 * signature manifest's descriptor.
 *
 * @example
 * ```ts
 * const payload = makePayload(desc.digest, 'registry.example/app:1');
 * await attachCosignSignature(repository, desc.digest, { payload, signature: signPayload(key, payload) });
 * ```
 */
export async function attachCosignSignature(
  target: Target,
  manifestDigest: string,
  signature: CosignSignatureToAttach,
  options: CosignOptions = {},
): Promise<Descriptor> {
  throwIfAborted(options.signal);
  const tag = cosignSignatureTag(manifestDigest);
  let existing: ImageManifest | undefined;
  try {
    const desc = await target.resolve(tag, { ...signalOf(options), fetching: true });
    existing = await readSignatureManifest(target, desc, `the signature manifest ${tag}`, options);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const layer: Descriptor = {
    mediaType: SIGSTORE_PAYLOAD_MEDIA_TYPE,
    digest: digestOfSync(signature.payload),
    size: signature.payload.byteLength,
    annotations: {
      [COSIGN_SIGNATURE_ANNOTATION]: signature.signature,
      ...(signature.certificate !== undefined
        ? { [COSIGN_CERTIFICATE_ANNOTATION]: signature.certificate }
        : {}),
      ...(signature.chain !== undefined ? { [COSIGN_CHAIN_ANNOTATION]: signature.chain } : {}),
      ...(signature.bundle !== undefined
        ? {
            [COSIGN_BUNDLE_ANNOTATION]:
              typeof signature.bundle === 'string' ? signature.bundle : JSON.stringify(signature.bundle),
          }
        : {}),
    },
  };
  const layers = existing?.layers ?? [];
  const same = layers.find(
    (l) => l.digest === layer.digest && l.annotations?.[COSIGN_SIGNATURE_ANNOTATION] === signature.signature,
  );
  if (same !== undefined && existing !== undefined) return target.resolve(tag, signalOf(options));
  const all = [...layers, layer];
  if (all.length > MAX_SIGNATURES) {
    throw new InvalidArgumentError(
      `${tag} already holds ${layers.length} signatures, the most one image may have`,
    );
  }
  await target.push(layer, signature.payload, signalOf(options));
  // The config cosign writes: an image config whose rootfs lists the payloads.
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      config: {},
      created: '0001-01-01T00:00:00Z',
      history: all.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: all.map((l) => l.digest) },
    }),
  );
  const configDesc = await pushBytes(target, MediaType.ImageConfig, config, signalOf(options));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config: configDesc,
    layers: all,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const desc: Descriptor = {
    mediaType: MediaType.ImageManifest,
    digest: digestOfSync(bytes),
    size: bytes.byteLength,
  };
  if (isTaggedPusher(target)) await target.pushTagged(desc, bytes, tag, signalOf(options));
  else {
    await target.push(desc, bytes, signalOf(options));
    await target.tag(desc, tag, signalOf(options));
  }
  return desc;
}

/** The digest of `manifest` with the algorithm of `like` (a digest the payload claims). */
export function manifestDigestLike(manifest: Uint8Array, like: Digest): Digest {
  return digestOfSync(manifest, { algorithm: digestAlgorithm(like) });
}

function signalOf(options: SignalOptions): SignalOptions {
  return options.signal ? { signal: options.signal } : {};
}
