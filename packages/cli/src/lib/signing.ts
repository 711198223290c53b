// What the signing commands and flags share: passphrases from a file or a prompt, cosign private
// keys, signing an image in a registry, and the signature-policy flag.
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fetchAll, type Target } from '@ocikit/content';
import { AbortedError, InvalidArgumentError, NotFoundError } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import type { RegistriesD } from '@ocikit/signature';
import type { Context } from './command.ts';

/** `--signature-policy FILE`: the containers-policy.json(5) pulls and copies are checked against. */
export const signaturePolicyFlag = {
  'signature-policy': { type: 'string' },
  'sigstore-trusted-root': { type: 'string' },
} as const;

/** Help text of {@link signaturePolicyFlag}. */
export const signaturePolicyFlagHelp = {
  'signature-policy':
    'check images against this containers-policy.json (default ~/.config/containers/policy.json, else /etc/containers/policy.json)',
  'sigstore-trusted-root':
    "a sigstore trusted_root.json whose CT logs check keyless signatures' certificate SCTs",
} as const;

/** Reads a small file a flag names, saying which flag when it cannot. */
export async function readFlagFile(ctx: Context, path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path, { signal: ctx.signal });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${flag} ${path}: no such file`, { cause });
    throw new InvalidArgumentError(`${flag} ${path}: cannot read it (${code ?? (cause as Error).message})`, {
      cause,
    });
  }
}

/**
 * A passphrase: the first line of `file` (as skopeo's `--sign-passphrase-file` reads it), else one
 * line typed at a prompt on stderr (not echoed on a terminal), asked twice when `confirm`.
 */
export async function readPassphrase(
  ctx: Context,
  file: string | undefined,
  flag: string,
  confirm = false,
): Promise<string> {
  const { passphraseFromFile } = await import('@ocikit/signature');
  if (file !== undefined) return passphraseFromFile(await readFlagFile(ctx, file, flag));
  const first = await promptLine(ctx, 'Enter passphrase for the private key: ');
  if (confirm && (ctx.stdin as { isTTY?: boolean }).isTTY) {
    const again = await promptLine(ctx, 'Enter passphrase again: ');
    if (again !== first) throw new InvalidArgumentError('the passphrases do not match');
  }
  return first;
}

/** One line from stdin after `question` on stderr; not echoed when stdin is a terminal. */
function promptLine(ctx: Context, question: string): Promise<string> {
  const stdin = ctx.stdin as NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  const tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  ctx.stderr.write(question);
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err: Error | undefined) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      if (tty) stdin.setRawMode?.(false);
      stdin.pause();
      if (tty) ctx.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done(undefined);
        if (ch === '\u0003') return done(new AbortedError('the passphrase prompt was interrupted'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    const onEnd = () =>
      done(line === '' ? new InvalidArgumentError('no passphrase: stdin ended') : undefined);
    if (tty) stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

/** The cosign private key `file`, decrypted with the passphrase from `passphraseFile` or a prompt. */
export async function loadSigningKey(
  ctx: Context,
  file: string,
  flag: string,
  passphraseFile: string | undefined,
  passphraseFlag: string,
): Promise<KeyObject> {
  const pem = await readFlagFile(ctx, file, flag);
  const passphrase = await readPassphrase(ctx, passphraseFile, passphraseFlag);
  const { readPrivateKey } = await import('@ocikit/signature');
  return readPrivateKey(pem, { passphrase, signal: ctx.signal });
}

/**
 * Signs the manifest `digest` in `target` for the name `identity` (a full reference, the payload's
 * `docker-reference`) and stores the signature as cosign does; returns the signature manifest.
 */
export async function signInTarget(
  ctx: Context,
  target: Target,
  digest: string,
  identity: string,
  key: KeyObject,
): Promise<Descriptor> {
  const { attachCosignSignature, makePayload, signPayload } = await import('@ocikit/signature');
  const payload = makePayload(digest, identity);
  return attachCosignSignature(
    target,
    digest,
    { payload, signature: signPayload(key, payload) },
    { signal: ctx.signal },
  );
}

/** registries.d as a command reads it: once, however many lookasides it reads or writes. */
const registriesD = new WeakMap<Context, Promise<RegistriesD>>();

/** Where the lookaside (registries.d) signatures of `name` are read, or with `write` written. */
async function lookasideBase(ctx: Context, name: string, write: boolean): Promise<URL> {
  const { loadRegistriesD, lookasideFor } = await import('@ocikit/signature');
  let config = registriesD.get(ctx);
  if (config === undefined) {
    config = loadRegistriesD({ env: ctx.env, signal: ctx.signal });
    registriesD.set(ctx, config);
  }
  return lookasideFor(await config, name, { write, env: ctx.env });
}

/** The lookaside signatures of `digest` under `base`. */
async function lookasideSignatures(ctx: Context, base: URL, digest: string): Promise<Uint8Array[]> {
  const { readLookasideSignatures } = await import('@ocikit/signature');
  return readLookasideSignatures(base, digest, { signal: ctx.signal });
}

/** Adds `blobs` to the lookaside signatures of `digest` for `name` (its `lookaside-staging`), skipping ones there. */
async function addLookasideSignatures(
  ctx: Context,
  name: string,
  digest: string,
  blobs: readonly Uint8Array[],
) {
  const { writeLookasideSignatures } = await import('@ocikit/signature');
  const base = await lookasideBase(ctx, name, true);
  // only a file: staging can be written; an http(s) one is a read-only mirror
  const existing = base.protocol === 'file:' ? await lookasideSignatures(ctx, base, digest) : [];
  const fresh = blobs.filter((b) => !existing.some((e) => Buffer.from(e).equals(b)));
  if (fresh.length === 0) return;
  await writeLookasideSignatures(base, digest, [...existing, ...fresh], { signal: ctx.signal });
}

/**
 * Copies the simple signing signatures of `digest` from the lookaside of `from` to that of `to`
 * (skopeo copies them between registries too); nothing when the source has none.
 */
export async function carryLookasideSignatures(
  ctx: Context,
  from: string,
  to: string,
  digest: string,
): Promise<void> {
  const found = await lookasideSignatures(ctx, await lookasideBase(ctx, from, false), digest);
  if (found.length > 0) await addLookasideSignatures(ctx, to, digest, found);
}

/**
 * Signs the manifest `desc` in `target` with the GPG key `keySpec` for the name `identity`, as
 * skopeo's `--sign-by` does, and adds the signature to the name's lookaside (`lookaside-staging`).
 * The key's passphrase is read from `passphrase.file` (named as `passphrase.flag` in errors) when
 * given, else gpg asks for it.
 */
export async function signWithGpg(
  ctx: Context,
  target: Target,
  desc: Descriptor,
  identity: string,
  keySpec: string,
  passphrase: { file: string | undefined; flag: string },
): Promise<void> {
  const { signSimpleSigningWithGpg } = await import('@ocikit/signature');
  const manifest = await fetchAll(target, desc, { signal: ctx.signal });
  const secret =
    passphrase.file === undefined ? undefined : await readPassphrase(ctx, passphrase.file, passphrase.flag);
  const gnupgHome = ctx.env.GNUPGHOME;
  const blob = await signSimpleSigningWithGpg(manifest, identity, keySpec, {
    ...(gnupgHome !== undefined ? { gnupgHome } : {}),
    ...(secret !== undefined ? { passphrase: secret } : {}),
    signal: ctx.signal,
  });
  await addLookasideSignatures(ctx, identity, desc.digest, [blob]);
}
