// The simple signing payload both signature formats sign: sigstore/cosign
// (`cosign container image signature`) and GPG simple signing (`atomic container signature`), made
// and read as containers/image does (signature/internal/sigstore_payload.go and simple.go): every
// field checked, no unknown critical field, no duplicate key.
import { type Digest, parseDigest } from '@ocikit/digest';
import { InvalidArgumentError } from '@ocikit/errors';
import { isJsonObject, type JsonValue, parseStrictJson } from './payload-json.ts';

/** The `critical.type` of each payload kind. */
export const PayloadType = {
  /** A sigstore (cosign) signature's payload. */
  Sigstore: 'cosign container image signature',
  /** A GPG simple signing ("atomic") signature's payload. */
  SimpleSigning: 'atomic container signature',
} as const;

/** One of the {@link PayloadType} values. */
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

/** The media type of a cosign payload layer. */
export const SIGSTORE_PAYLOAD_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** A payload is small; anything larger than this is refused before it is parsed. */
export const MAX_PAYLOAD_SIZE = 1 << 20;

/**
 * A parsed signing payload. Nothing in it is trusted until the signature over its bytes has been
 * verified and the identity matched against the policy.
 */
export interface SigningPayload {
  /** Which kind of signature the payload is for. */
  type: PayloadType;
  /** `critical.image.docker-manifest-digest`: the manifest the signature is for. */
  dockerManifestDigest: Digest;
  /** `critical.identity.docker-reference`: the name the signer gave the image. */
  dockerReference: string;
  /** `optional.creator`, when present. */
  creator?: string | undefined;
  /** `optional.timestamp` (Unix seconds, an integer), when present. */
  timestamp?: number | undefined;
}

/** Options of {@link makePayload}. */
export interface MakePayloadOptions {
  /** The payload kind (default {@link PayloadType.Sigstore}). */
  type?: PayloadType;
  /** `optional.creator` (default `ocikit`); null leaves it out. */
  creator?: string | null;
  /** `optional.timestamp` in Unix seconds (default now); null leaves it out. */
  timestamp?: number | null;
}

/**
 * Makes the payload bytes to sign for the manifest `manifestDigest` under the name
 * `dockerReference`, byte for byte as containers/image writes them (Go's sorted keys).
 *
 * @example
 * ```ts
 * const payload = makePayload('sha256:…', 'registry.example/app:1');
 * ```
 */
export function makePayload(
  manifestDigest: string,
  dockerReference: string,
  options: MakePayloadOptions = {},
): Uint8Array {
  const digest = parseDigest(manifestDigest);
  if (dockerReference === '') throw new InvalidArgumentError('a signature payload needs a docker reference');
  const optional: Record<string, string | number> = {};
  const creator = options.creator === undefined ? 'ocikit' : options.creator;
  if (creator !== null) optional.creator = creator;
  const timestamp = options.timestamp === undefined ? Math.floor(Date.now() / 1000) : options.timestamp;
  if (timestamp !== null) {
    if (!Number.isSafeInteger(timestamp)) {
      throw new InvalidArgumentError(`a payload timestamp must be an integer, got ${timestamp}`);
    }
    optional.timestamp = timestamp;
  }
  const doc = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': digest },
      type: options.type ?? PayloadType.Sigstore,
    },
    optional,
  };
  return Buffer.from(JSON.stringify(doc));
}

/**
 * Parses payload bytes as containers/image does, for a signature of kind `type`: the top level has
 * exactly `critical` and `optional`; `critical` exactly `type`, `image`, `identity`; `image` exactly
 * `docker-manifest-digest` (a valid digest); `identity` exactly `docker-reference`; `optional` any
 * fields, of which `creator` must be a string and `timestamp` an integer (a sigstore payload may
 * have `"optional": null`, as cosign writes it). Anything else is an InvalidArgumentError.
 *
 * @example
 * ```ts
 * const { dockerManifestDigest, dockerReference } = parsePayload(bytes, PayloadType.Sigstore);
 * ```
 */
export function parsePayload(bytes: Uint8Array, type: PayloadType): SigningPayload {
  const what = type === PayloadType.Sigstore ? 'sigstore signature payload' : 'simple signing payload';
  if (bytes.byteLength > MAX_PAYLOAD_SIZE) {
    throw new InvalidArgumentError(`${what} is ${bytes.byteLength} bytes, more than ${MAX_PAYLOAD_SIZE}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new InvalidArgumentError(`${what} is not UTF-8`, { cause });
  }
  const top = exactObject(parseStrictJson(text, what), ['critical', 'optional'], what);
  const critical = exactObject(top.critical, ['type', 'image', 'identity'], `${what} field critical`);
  const optional = top.optional ?? null;
  const result: Partial<SigningPayload> = {};
  if (!(optional === null && type === PayloadType.Sigstore)) {
    if (!isJsonObject(optional)) throw new InvalidArgumentError(`${what}: field optional is not an object`);
    if (Object.hasOwn(optional, 'creator')) {
      const creator = optional.creator;
      if (typeof creator !== 'string') {
        throw new InvalidArgumentError(`${what}: field optional.creator is not a string`);
      }
      result.creator = creator;
    }
    if (Object.hasOwn(optional, 'timestamp')) {
      const ts = optional.timestamp;
      if (typeof ts !== 'number' || !Number.isInteger(ts)) {
        throw new InvalidArgumentError(`${what}: field optional.timestamp is not an integer`);
      }
      result.timestamp = ts;
    }
  }
  const t = critical.type;
  if (typeof t !== 'string') throw new InvalidArgumentError(`${what}: field critical.type is not a string`);
  if (t !== type) throw new InvalidArgumentError(`${what}: unrecognized signature type ${JSON.stringify(t)}`);
  const image = exactObject(critical.image, ['docker-manifest-digest'], `${what} field critical.image`);
  const digestText = image['docker-manifest-digest'];
  if (typeof digestText !== 'string') {
    throw new InvalidArgumentError(`${what}: field critical.image.docker-manifest-digest is not a string`);
  }
  let digest: Digest;
  try {
    digest = parseDigest(digestText);
  } catch (cause) {
    throw new InvalidArgumentError(
      `${what}: invalid docker-manifest-digest value ${JSON.stringify(digestText)}`,
      {
        cause,
      },
    );
  }
  const identity = exactObject(critical.identity, ['docker-reference'], `${what} field critical.identity`);
  const ref = identity['docker-reference'];
  if (typeof ref !== 'string') {
    throw new InvalidArgumentError(`${what}: field critical.identity.docker-reference is not a string`);
  }
  return { ...result, type, dockerManifestDigest: digest, dockerReference: ref };
}

function exactObject(
  value: JsonValue | undefined,
  fields: readonly string[],
  what: string,
): { [key: string]: JsonValue } {
  if (!isJsonObject(value)) throw new InvalidArgumentError(`${what} is not a JSON object`);
  for (const key of Object.keys(value)) {
    if (!fields.includes(key))
      throw new InvalidArgumentError(`${what}: unexpected field ${JSON.stringify(key)}`);
  }
  for (const key of fields) {
    if (!Object.hasOwn(value, key))
      throw new InvalidArgumentError(`${what}: missing field ${JSON.stringify(key)}`);
  }
  return value;
}
