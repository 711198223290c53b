// The user's gpg keyring, for `--sign-by FINGERPRINT` (skopeo's way): the secret key is exported
// with `gpg --export-secret-keys` and signing happens in process with openpgp.js (decision 170).
import { spawn } from 'node:child_process';
import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  throwIfAborted,
} from '@ocikit/errors';
import { signSimpleSigning } from './simple-signing.ts';

/** Options of {@link exportGpgSecretKey} and {@link signSimpleSigningWithGpg}. */
export interface GpgOptions {
  /** `GNUPGHOME` (default: the environment's, else `~/.gnupg`). */
  gnupgHome?: string | undefined;
  /** The key's passphrase, when it has one (given to gpg on a pipe, never on the command line). */
  passphrase?: string | undefined;
  /** The gpg executable (default `gpg`). */
  gpg?: string | undefined;
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
}

const KEY_SPEC = /^(?:0x)?[0-9A-Fa-f]{8,40}$|^[^\s-][^\n]{0,200}$/;

/**
 * Exports the secret key `keySpec` (a fingerprint, key ID or user ID, as `--sign-by` takes) from the
 * user's gpg keyring: `gpg --batch --export-secret-keys`, with `--pinentry-mode loopback` and the
 * passphrase on stdin when one is given. Returns the binary key packets.
 *
 * @throws FailedPreconditionError when gpg cannot be run; NotFoundError when the keyring has no
 *   such secret key; InvalidArgumentError for a key spec that could be taken for an option.
 */
export async function exportGpgSecretKey(keySpec: string, options: GpgOptions = {}): Promise<Uint8Array> {
  if (!KEY_SPEC.test(keySpec)) throw new InvalidArgumentError(`invalid GPG key "${keySpec.slice(0, 80)}"`);
  throwIfAborted(options.signal);
  const args = ['--batch', '--no-tty'];
  if (options.passphrase !== undefined) args.push('--pinentry-mode', 'loopback', '--passphrase-fd', '0');
  args.push('--export-secret-keys', '--', keySpec);
  const env = {
    ...process.env,
    ...(options.gnupgHome !== undefined ? { GNUPGHOME: options.gnupgHome } : {}),
  };
  const child = spawn(options.gpg ?? 'gpg', args, {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    signal: options.signal,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  // gpg may end without reading stdin (a bad key spec, no agent): the write then fails with EPIPE,
  // which must not become an uncaught error; the exit code and stderr below say what went wrong
  child.stdin.on('error', () => {});
  child.stdin.end(options.passphrase !== undefined ? `${options.passphrase}\n` : '');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).catch((cause: NodeJS.ErrnoException) => {
    if (cause.name === 'AbortError') throw new AbortedError('gpg was cancelled', { cause });
    throw new FailedPreconditionError(`cannot run gpg: ${cause.code ?? cause.message}`, {
      cause,
      hint: 'install gnupg (apt-get install gnupg) to sign with --sign-by',
    });
  });
  const stderr = Buffer.concat(err).toString('utf8').trim();
  if (code !== 0) {
    throw new FailedPreconditionError(
      `gpg --export-secret-keys ${keySpec} failed (exit ${code}): ${stderr.slice(0, 400)}`,
    );
  }
  const key = Buffer.concat(out);
  if (key.byteLength === 0) {
    throw new NotFoundError(
      `no secret key ${keySpec} in the gpg keyring${options.gnupgHome ? ` ${options.gnupgHome}` : ''}`,
      {
        details: { reason: 'key-not-found', key: keySpec },
      },
    );
  }
  return new Uint8Array(key);
}

/**
 * Signs `manifest` as `dockerReference` with the secret key `keySpec` from the user's gpg keyring
 * (`--sign-by`), producing the simple signing blob skopeo writes ({@link signSimpleSigning}).
 *
 * @example
 * ```ts
 * const blob = await signSimpleSigningWithGpg(manifest, 'localhost:5000/app:1', 'C0FFEE…', { gnupgHome });
 * ```
 */
export async function signSimpleSigningWithGpg(
  manifest: Uint8Array,
  dockerReference: string,
  keySpec: string,
  options: GpgOptions = {},
): Promise<Uint8Array> {
  const privateKey = await exportGpgSecretKey(keySpec, options);
  const hex = keySpec.replace(/^0x/, '');
  return signSimpleSigning(manifest, dockerReference, {
    privateKey,
    passphrase: options.passphrase,
    ...(/^[0-9A-Fa-f]{8,40}$/.test(hex) ? { keyId: hex } : {}),
  });
}
