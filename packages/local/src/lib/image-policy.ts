// The trust policy check of a pull (decision 176): before anything is stored, the image's
// top-level manifest is checked against containers-policy.json(5) as podman and skopeo check it,
// and a rejected image fails with `policy-rejected` naming the requirement.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchAll, type ReadOnlyTarget } from '@ocikit/content';
import { engineError, type Operation } from '@ocikit/engine';
import { isInvalidArgument, isPermissionDenied } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import type { LocalContext } from './context.ts';

const SYSTEM_POLICY = '/etc/containers/policy.json';

/** The policy file that applies, and its bytes; undefined when no file is given and none exists. */
async function readPolicyFile(
  settings: SignaturePolicySettings,
  signal: AbortSignal | undefined,
): Promise<{ path: string; bytes: Buffer } | undefined> {
  const given = settings.signaturePolicy;
  const home = settings.env.HOME;
  const candidates =
    given !== undefined && given !== ''
      ? [given]
      : [...(home ? [join(home, '.config/containers/policy.json')] : []), SYSTEM_POLICY];
  for (const path of candidates) {
    try {
      return { path, bytes: await readFile(path, { signal }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || path === given) throw e;
    }
  }
  return undefined;
}

/**
 * True when every requirement of the policy document is `insecureAcceptAnything` and it has no
 * other fields: nothing to check, and the signature package (and openpgp) need not be loaded.
 */
function acceptsAnything(bytes: Buffer): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return false; // the strict parser says what is wrong
  }
  const onlyAccept = (reqs: unknown) =>
    Array.isArray(reqs) &&
    reqs.length > 0 &&
    reqs.every(
      (r) =>
        typeof r === 'object' &&
        r !== null &&
        Object.keys(r).length === 1 &&
        (r as { type?: unknown }).type === 'insecureAcceptAnything',
    );
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const { default: dflt, transports, ...rest } = doc as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || !onlyAccept(dflt)) return false;
  if (transports === undefined) return true;
  if (typeof transports !== 'object' || transports === null || Array.isArray(transports)) return false;
  return Object.values(transports).every(
    (scopes) =>
      typeof scopes === 'object' &&
      scopes !== null &&
      !Array.isArray(scopes) &&
      Object.values(scopes).every((reqs) => onlyAccept(reqs)),
  );
}

/** The settings {@link checkSignaturePolicy} reads the policy with. */
export interface SignaturePolicySettings {
  /** `--signature-policy FILE`; default the user's, else the system's policy.json, else no check. */
  signaturePolicy?: string | undefined;
  /** A sigstore trusted root file (trusted_root.json): its CT logs check keyless certificates' SCTs. */
  sigstoreTrustedRoot?: string | undefined;
  /** The environment (`HOME`, for the user's policy.json and registries.d). */
  env: Readonly<Record<string, string | undefined>>;
}

/** Where an image comes from, as the policy check needs it. */
export interface PolicySource {
  /** The registry repository (any content target) it is read from. */
  target: ReadOnlyTarget;
  /** The tag or digest there. */
  ref: string;
  /** The normalized name asked for, which the policy's scopes and identities see. */
  name: string;
}

/**
 * Checks the image `source` names against the signature policy (decision 176). Returns the
 * descriptor of the top-level manifest that was checked (copy that digest, so what is stored is
 * what was checked), or undefined when no policy applies or it accepts anything. Throws a
 * PermissionDeniedError with `details.reason: 'policy-rejected'` naming the requirement when the
 * policy refuses the image, an InvalidArgumentError naming the file when the policy is malformed.
 *
 * @example
 * ```ts
 * const checked = await checkSignaturePolicy({ env: process.env }, { target: repo, ref: '1', name });
 * await copy(repo, checked?.digest ?? '1', store, name);
 * ```
 */
export async function checkSignaturePolicy(
  settings: SignaturePolicySettings,
  source: PolicySource,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<Descriptor | undefined> {
  const { signal } = options;
  const file = await readPolicyFile(settings, signal);
  if (file === undefined || acceptsAnything(file.bytes)) return undefined;
  const signature = await import('@ocikit/signature');
  const policy = signature.parsePolicy(file.bytes, { path: file.path });
  const call = signal ? { signal } : {};
  const descriptor = await source.target.resolve(source.ref, { ...call, fetching: true });
  const manifest = await fetchAll(source.target, descriptor, call);
  const digest = descriptor.digest;
  const { env } = settings;
  // the trusted root is read once, when a sigstoreSigned requirement first needs it
  const rootFile = settings.sigstoreTrustedRoot;
  let trustedRoot: Promise<unknown> | undefined;
  await signature.evaluatePolicy(
    policy,
    {
      transport: 'docker',
      name: source.name,
      manifestDigest: digest,
      manifest,
      signatures: signature.targetSignatureSource(source.target, digest, {
        simpleSigning: async (c) => {
          const registriesD = await signature.loadRegistriesD({ env, ...c });
          const base = signature.lookasideFor(registriesD, source.name, { env });
          return signature.readLookasideSignatures(base, digest, c);
        },
      }),
    },
    {
      verifySigstoreSigned: async (requirement, img, o) => {
        if (rootFile !== undefined)
          trustedRoot ??= readFile(rootFile, call).then((b) => JSON.parse(b.toString('utf8')) as unknown);
        await signature.verifySigstoreSigned(requirement, img, { ...o, trustedRoot: await trustedRoot });
      },
      ...call,
    },
  );
  return descriptor;
}

/**
 * {@link checkSignaturePolicy} for a pull of the local engine: a refusal is the contract's
 * `policy-rejected`, a malformed policy `bad-argument`.
 */
export async function checkPullPolicy(
  ctx: LocalContext,
  source: PolicySource,
  operation: Operation,
  signal: AbortSignal | undefined,
): Promise<Descriptor | undefined> {
  try {
    return await checkSignaturePolicy(
      {
        signaturePolicy: ctx.registry.signaturePolicy,
        sigstoreTrustedRoot: ctx.registry.sigstoreTrustedRoot,
        env: ctx.env,
      },
      source,
      {
        signal,
      },
    );
  } catch (e) {
    if (isPermissionDenied(e) && e.details.reason === 'policy-rejected') {
      const requirement = e.details.requirement;
      throw engineError('policy-rejected', {
        engine: 'local',
        operation,
        message: e.message,
        cause: e,
        hint: e.hint,
        extra: { name: source.name, ...(typeof requirement === 'string' ? { requirement } : {}) },
      });
    }
    if (isInvalidArgument(e) && e.details.reason !== 'too-large')
      throw engineError('bad-argument', { engine: 'local', operation, message: e.message, cause: e });
    throw e;
  }
}
