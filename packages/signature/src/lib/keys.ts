// Sigstore (cosign) key pairs: ECDSA P-256, the public key as a PKIX `PUBLIC KEY` PEM and the
// private key as cosign's encrypted private key PEM — go-securesystemslib's `encrypted`
// JSON (scrypt, then NaCl secretbox over the PKCS#8 DER) — which cosign and skopeo's
// `--sign-by-sigstore-private-key` read (decision 175).
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateNodeKeyPair,
  type KeyObject,
  randomBytes,
  scrypt,
} from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { InvalidArgumentError, PermissionDeniedError, throwIfAborted } from '@ocikit/errors';
import { isJsonObject, parseStrictJson } from './payload-json.ts';

/** The PEM type cosign 2 writes for an encrypted private key; read, not written (decision 175). */
export const SIGSTORE_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED SIGSTORE PRIVATE KEY';
/**
 * The older PEM type, which every cosign and containers/image reads — skopeo 1.9 reads only this
 * one — and which containers/image's own key generation still writes: what we write.
 */
export const COSIGN_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED COSIGN PRIVATE KEY';

// The scrypt parameters go-securesystemslib accepts (legacy, standard, OWASP). We write the legacy
// ones: skopeo 1.9's copy of the library accepts exactly N=32768 and nothing else.
const WRITE_PARAMS = { N: 32768, r: 8, p: 1 } as const;
const ACCEPTED_N = new Set([32768, 65536, 131072]);
const SALT_SIZE = 32;
const NONCE_SIZE = 24;
const KEY_SIZE = 32;
const MAX_KEY_FILE = 64 * 1024;

/** A passphrase: a string (UTF-8) or its bytes. Cosign's keys may have an empty one. */
export type Passphrase = string | Uint8Array;

/** A key pair in cosign's file formats. */
export interface SigstoreKeyPair {
  /** The encrypted private key PEM (`cosign.key`, type `ENCRYPTED COSIGN PRIVATE KEY`). */
  privateKeyPem: string;
  /** The PKIX `PUBLIC KEY` PEM (`cosign.pub`). */
  publicKeyPem: string;
}

/** Options of {@link generateKeyPair}. */
export interface GenerateKeyPairOptions {
  /** Encrypts the private key. */
  passphrase: Passphrase;
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
}

/**
 * Generates an ECDSA P-256 key pair in cosign's formats, as `cosign generate-key-pair` writes it.
 *
 * @example
 * ```ts
 * const { privateKeyPem, publicKeyPem } = await generateKeyPair({ passphrase: 'secret' });
 * ```
 */
export async function generateKeyPair(options: GenerateKeyPairOptions): Promise<SigstoreKeyPair> {
  throwIfAborted(options.signal);
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>(
    (resolve, reject) =>
      generateNodeKeyPair('ec', { namedCurve: 'P-256' }, (err, publicKey, privateKey) =>
        err ? reject(err) : resolve({ publicKey, privateKey }),
      ),
  );
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(SALT_SIZE);
  const nonce = randomBytes(NONCE_SIZE);
  const key = await deriveKey(options.passphrase, salt, WRITE_PARAMS);
  throwIfAborted(options.signal);
  const ciphertext = xsalsa20poly1305(key, nonce).encrypt(pkcs8);
  // Field order and names as Go's json.Marshal writes go-securesystemslib's struct.
  const body = JSON.stringify({
    kdf: { name: 'scrypt', params: WRITE_PARAMS, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  });
  return {
    privateKeyPem: pem(COSIGN_PRIVATE_KEY_PEM_TYPE, Buffer.from(body)),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Options of {@link readPrivateKey}. */
export interface ReadPrivateKeyOptions {
  /** Decrypts the key. */
  passphrase: Passphrase;
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
}

/**
 * Decrypts a cosign private key PEM (`ENCRYPTED SIGSTORE PRIVATE KEY` or
 * `ENCRYPTED COSIGN PRIVATE KEY`) into a private key for signing. A malformed file is an
 * InvalidArgumentError; a wrong passphrase (or a tampered file) a PermissionDeniedError.
 *
 * @example
 * ```ts
 * const key = await readPrivateKey(readFileSync('cosign.key'), { passphrase: 'secret' });
 * ```
 */
export async function readPrivateKey(
  input: string | Uint8Array,
  options: ReadPrivateKeyOptions,
): Promise<KeyObject> {
  throwIfAborted(options.signal);
  const block = decodePem(input, 'cosign private key');
  if (block.type !== SIGSTORE_PRIVATE_KEY_PEM_TYPE && block.type !== COSIGN_PRIVATE_KEY_PEM_TYPE) {
    throw new InvalidArgumentError(
      `cosign private key: unsupported PEM type ${JSON.stringify(block.type)} (want ${SIGSTORE_PRIVATE_KEY_PEM_TYPE})`,
    );
  }
  const what = 'cosign private key';
  const doc = parseStrictJson(block.bytes.toString('utf8'), what);
  if (!isJsonObject(doc) || !isJsonObject(doc.kdf) || !isJsonObject(doc.cipher)) {
    throw new InvalidArgumentError(`${what}: not the encrypted key format (kdf, cipher, ciphertext)`);
  }
  const { kdf, cipher } = doc;
  if (kdf.name !== 'scrypt')
    throw new InvalidArgumentError(`${what}: unknown kdf name ${JSON.stringify(kdf.name)}`);
  if (cipher.name !== 'nacl/secretbox') {
    throw new InvalidArgumentError(`${what}: unknown cipher name ${JSON.stringify(cipher.name)}`);
  }
  const params = kdf.params;
  if (
    !isJsonObject(params) ||
    typeof params.N !== 'number' ||
    !ACCEPTED_N.has(params.N) ||
    params.r !== 8 ||
    params.p !== 1
  ) {
    throw new InvalidArgumentError(`${what}: unsupported scrypt parameters`);
  }
  const salt = base64Field(kdf.salt, `${what} kdf.salt`);
  const nonce = base64Field(cipher.nonce, `${what} cipher.nonce`);
  const sealed = base64Field(doc.ciphertext, `${what} ciphertext`);
  if (nonce.length !== NONCE_SIZE) throw new InvalidArgumentError(`${what}: incorrect nonce size`);
  const key = await deriveKey(options.passphrase, salt, { N: params.N, r: 8, p: 1 });
  throwIfAborted(options.signal);
  let der: Uint8Array;
  try {
    der = xsalsa20poly1305(key, nonce).decrypt(sealed);
  } catch (cause) {
    throw new PermissionDeniedError(`${what}: decryption failed (wrong passphrase?)`, { cause });
  }
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new InvalidArgumentError(`${what}: the decrypted key is not PKCS#8`, { cause });
  }
}

/**
 * Parses a PEM public key (`PUBLIC KEY`, PKIX) as cosign's `.pub` files and sigstoreSigned
 * policies hold it. Anything else is an InvalidArgumentError.
 *
 * @example
 * ```ts
 * const key = parsePublicKey(readFileSync('cosign.pub'));
 * ```
 */
export function parsePublicKey(input: string | Uint8Array, what = 'public key'): KeyObject {
  const block = decodePem(input, what);
  if (block.type !== 'PUBLIC KEY') {
    throw new InvalidArgumentError(`${what}: PEM type ${JSON.stringify(block.type)}, want "PUBLIC KEY"`);
  }
  try {
    return createPublicKey({ key: block.bytes, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new InvalidArgumentError(`${what}: not a valid PKIX public key`, { cause });
  }
}

/**
 * Reads a passphrase file as skopeo's `--sign-passphrase-file` does: its first line, without the
 * line ending.
 */
export function passphraseFromFile(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('utf8');
  const nl = text.indexOf('\n');
  return (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '');
}

function deriveKey(
  passphrase: Passphrase,
  salt: Uint8Array,
  params: { N: number; r: number; p: number },
): Promise<Uint8Array> {
  const pass = typeof passphrase === 'string' ? Buffer.from(passphrase, 'utf8') : passphrase;
  return new Promise((resolve, reject) =>
    scrypt(pass, salt, KEY_SIZE, { ...params, maxmem: 256 * params.N * params.r + (1 << 20) }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

function base64Field(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new InvalidArgumentError(`${what} is not base64`);
  }
  return Buffer.from(value, 'base64');
}

function pem(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** The first PEM block of `input`: its type and decoded bytes. */
export function decodePem(input: string | Uint8Array, what: string): { type: string; bytes: Buffer } {
  if (input.length > MAX_KEY_FILE) throw new InvalidArgumentError(`${what}: more than ${MAX_KEY_FILE} bytes`);
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END ([A-Z0-9 ]+)-----/.exec(text);
  if (m === null || m[1] !== m[3]) throw new InvalidArgumentError(`${what}: no PEM block found`);
  const body = (m[2] ?? '').replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(body) === false || body.length % 4 !== 0 || body.length === 0) {
    throw new InvalidArgumentError(`${what}: the PEM body is not base64`);
  }
  return { type: m[1] ?? '', bytes: Buffer.from(body, 'base64') };
}
