// `ocikit key generate`, `ocikit sign`, `ocikit verify`: cosign key pairs, signing an image in a
// registry as cosign does, and checking its signatures with a public key or a policy.
import { constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fetchAll } from '@ocikit/content';
import { AlreadyExistsError, InvalidArgumentError } from '@ocikit/errors';
import { parseReference } from '@ocikit/reference';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printJson, println } from '../lib/output.ts';
import {
  expectRemote,
  registryFlags,
  registryFlagsHelp,
  remoteImage,
  transportFor,
} from '../lib/registry.ts';
import { loadSigningKey, readFlagFile, readPassphrase, signInTarget, signWithGpg } from '../lib/signing.ts';

/** Writes `data` to a new file; AlreadyExistsError rather than overwrite a key. */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  try {
    await writeFile(path, data, { mode, flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST')
      throw new AlreadyExistsError(`${path} exists: not overwriting a key`, { cause });
    throw cause;
  }
}

/** `ocikit key generate`: a cosign key pair, `P.key` (encrypted) and `P.pub`. */
export const keyCommand = defineCommand({
  name: 'key',
  summary: 'Generate a cosign (sigstore) key pair for signing images',
  usage: 'ocikit key generate [--output-key-prefix P] [--passphrase-file F]',
  description:
    "Writes P.key, the ECDSA P-256 private key encrypted with the passphrase in cosign's format (which cosign and " +
    "skopeo's --sign-by-sigstore-private-key read), and P.pub, its public key (default prefix cosign). The " +
    'passphrase is the first line of --passphrase-file, else asked for. Existing files are never overwritten.',
  options: {
    'output-key-prefix': { type: 'string' },
    'passphrase-file': { type: 'string' },
  },
  help: {
    'output-key-prefix': 'write PREFIX.key and PREFIX.pub (default cosign)',
    'passphrase-file': 'read the passphrase from the first line of this file',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(keyCommand, positionals, 1);
    if (positionals[0] !== 'generate')
      throw new InvalidArgumentError(`ocikit key: unknown subcommand ${JSON.stringify(positionals[0])}`, {
        hint: `usage: ${keyCommand.usage}`,
      });
    const prefix = values['output-key-prefix'] ?? 'cosign';
    const passphrase = await readPassphrase(ctx, values['passphrase-file'], '--passphrase-file', true);
    const { generateKeyPair } = await import('@ocikit/signature');
    const pair = await generateKeyPair({ passphrase, signal: ctx.signal });
    await writeNew(`${prefix}.key`, pair.privateKeyPem, 0o600);
    await writeNew(`${prefix}.pub`, pair.publicKeyPem, 0o644);
    if (ctx.json) printJson(ctx, { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub` });
    else if (!ctx.quiet)
      println(ctx, `Private key written to ${prefix}.key\nPublic key written to ${prefix}.pub`);
    return 0;
  },
});

/**
 * `ocikit sign --key FILE IMAGE`: a cosign signature of an image in a registry; `--sign-by FPR`: a
 * GPG simple signing signature in the name's lookaside, as skopeo's `--sign-by`.
 */
export const signCommand = defineCommand({
  name: 'sign',
  summary: 'Sign an image in a registry with a cosign key (sigstore) or a GPG key (simple signing)',
  usage: 'ocikit sign (--key FILE | --sign-by FINGERPRINT) [--passphrase-file F] IMAGE',
  description:
    "Signs the image's manifest digest for its name (the payload's docker-reference). With --key, stores the " +
    'signature as cosign does, under the sha256-<hex>.sig tag of its repository (added to any signatures there), ' +
    'and prints the signature manifest digest. With --sign-by, signs with that key of your gpg keyring (gpg asks ' +
    "for its passphrase, or reads it from --passphrase-file) and adds the signature to the name's lookaside " +
    '(registries.d lookaside-staging, as skopeo --sign-by), and prints the manifest digest signed. skopeo, podman ' +
    'and cosign read both.',
  options: {
    key: { type: 'string' },
    'sign-by': { type: 'string' },
    'passphrase-file': { type: 'string' },
    ...registryFlags,
  },
  help: {
    key: "the cosign private key (ocikit key generate's or cosign's)",
    'sign-by': 'the fingerprint (or user id) of a GPG secret key in your keyring (GNUPGHOME)',
    'passphrase-file': 'read the passphrase from the first line of this file (else it is asked for)',
    ...registryFlagsHelp,
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(signCommand, positionals, 1);
    const arg = (positionals[0] ?? '').replace(/^docker:\/\//, '');
    expectRemote(arg, 'ocikit sign: the image');
    if ((values.key === undefined) === (values['sign-by'] === undefined))
      throw new InvalidArgumentError('ocikit sign: give exactly one of --key FILE and --sign-by FINGERPRINT');
    const key =
      values.key === undefined
        ? undefined
        : await loadSigningKey(ctx, values.key, '--key', values['passphrase-file'], '--passphrase-file');
    const transport = transportFor(ctx, values);
    try {
      const { repo, ref } = remoteImage(arg, transport);
      const desc = await repo.resolve(ref, { signal: ctx.signal });
      const identity = parseReference(arg).toString();
      if (key === undefined) {
        await signWithGpg(ctx, repo, desc, identity, values['sign-by'] ?? '', {
          file: values['passphrase-file'],
          flag: '--passphrase-file',
        });
        if (ctx.json) printJson(ctx, { image: identity, digest: desc.digest, signedBy: values['sign-by'] });
        else println(ctx, desc.digest);
        return 0;
      }
      const sig = await signInTarget(ctx, repo, desc.digest, identity, key);
      if (ctx.json) printJson(ctx, { image: identity, digest: desc.digest, signature: sig.digest });
      else println(ctx, sig.digest);
      return 0;
    } finally {
      await transport.close();
    }
  },
});

/** `ocikit verify IMAGE --key PUB | --policy FILE`: check an image's signatures. */
export const verifyCommand = defineCommand({
  name: 'verify',
  summary: "Verify an image's cosign signatures with a public key or a trust policy",
  usage: 'ocikit verify (--key PUB | --policy FILE) IMAGE',
  description:
    'With --key: accepts the image when one of its sigstore (cosign) signatures verifies with the public key, is for ' +
    "its manifest digest and names its repository. With --policy: accepts it when the containers-policy.json's " +
    'requirements for it pass, as a pull would check them. Prints the digest; exits 1 saying why when not accepted.',
  options: {
    key: { type: 'string' },
    policy: { type: 'string' },
    'sigstore-trusted-root': { type: 'string' },
    ...registryFlags,
  },
  help: {
    key: 'a PEM public key (cosign.pub)',
    policy: 'a containers-policy.json(5) file',
    'sigstore-trusted-root':
      "with --policy: a sigstore trusted_root.json whose CT logs check keyless certificates' SCTs",
    ...registryFlagsHelp,
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(verifyCommand, positionals, 1);
    const arg = (positionals[0] ?? '').replace(/^docker:\/\//, '');
    expectRemote(arg, 'ocikit verify: the image');
    if ((values.key === undefined) === (values.policy === undefined))
      throw new InvalidArgumentError('ocikit verify: give exactly one of --key PUB and --policy FILE');
    const transport = transportFor(ctx, values);
    try {
      const { repo, ref } = remoteImage(arg, transport);
      const name = parseReference(arg).toString();
      const desc = await repo.resolve(ref, { signal: ctx.signal, fetching: true });
      if (values.policy !== undefined) {
        // the policy file as a pull checks it (GPG lookasides from registries.d included)
        const { checkSignaturePolicy } = await import('@ocikit/local');
        await checkSignaturePolicy(
          {
            signaturePolicy: values.policy,
            sigstoreTrustedRoot: values['sigstore-trusted-root'],
            env: ctx.env,
          },
          { target: repo, ref: desc.digest, name },
          { signal: ctx.signal },
        );
      } else {
        const signature = await import('@ocikit/signature');
        const keyData = (await readFlagFile(ctx, values.key ?? '', '--key')).toString('base64');
        const requirement = {
          type: 'sigstoreSigned' as const,
          keyData,
          signedIdentity: { type: 'matchRepository' as const },
        };
        await signature.evaluatePolicy(
          { default: [requirement], transports: {} },
          {
            transport: 'docker',
            name,
            manifestDigest: desc.digest,
            manifest: await fetchAll(repo, desc, { signal: ctx.signal }),
            signatures: signature.targetSignatureSource(repo, desc.digest),
          },
          { verifySigstoreSigned: signature.verifySigstoreSigned, signal: ctx.signal },
        );
      }
      if (ctx.json) printJson(ctx, { image: name, digest: desc.digest, verified: true });
      else println(ctx, desc.digest);
      return 0;
    } finally {
      await transport.close();
    }
  },
});
