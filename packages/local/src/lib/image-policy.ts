// The trust policy check of a pull (decision 176): before anything is stored, the image's
// top-level manifest is checked against containers-policy.json(5) as podman and skopeo check it,
// and a rejected image fails with `policy-rejected` naming the requirement.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { engineError, type Operation } from '@ocikit/engine';
import { isPermissionDenied } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import type { Repository } from '@ocikit/registry';
import type { LocalContext } from './context.ts';

const SYSTEM_POLICY = '/etc/containers/policy.json';

/** The policy file that applies, and its bytes; undefined when no file is given and none exists. */
async function readPolicyFile(
  ctx: LocalContext,
  signal: AbortSignal | undefined,
): Promise<{ path: string; bytes: Buffer } | undefined> {
  const given = ctx.registry.signaturePolicy;
  const home = ctx.env.HOME;
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

/** Where a pull comes from, as the policy check needs it. */
export interface PolicySource {
  /** The repository it is pulled from (a mirror's, or the registry's own). */
  repository: Repository;
  /** The tag or digest there. */
  ref: string;
  /** The normalized name asked for, which the policy's scopes and identities see. */
  name: string;
}

/**
 * Checks the image `source` names against the signature policy. Returns the descriptor of the
 * top-level manifest that was checked (pull that digest, so what is stored is what was checked), or
 * undefined when no policy applies or it accepts anything. Throws `policy-rejected` (a
 * PermissionDeniedError naming the requirement) when the policy refuses the image, `bad-argument`
 * when the policy file is malformed.
 */
export async function checkPullPolicy(
  ctx: LocalContext,
  source: PolicySource,
  operation: Operation,
  signal: AbortSignal | undefined,
): Promise<Descriptor | undefined> {
  const file = await readPolicyFile(ctx, signal);
  if (file === undefined || acceptsAnything(file.bytes)) return undefined;
  const signature = await import('@ocikit/signature');
  let policy: Awaited<ReturnType<typeof signature.parsePolicy>>;
  try {
    policy = signature.parsePolicy(file.bytes, { path: file.path });
  } catch (e) {
    throw engineError('bad-argument', {
      engine: 'local',
      operation,
      message: (e as Error).message,
      cause: e,
    });
  }
  const fetched = await source.repository.fetchManifest(source.ref, signal ? { signal } : {});
  const digest = fetched.descriptor.digest;
  const env = ctx.env;
  try {
    await signature.evaluatePolicy(
      policy,
      {
        transport: 'docker',
        name: source.name,
        manifestDigest: digest,
        manifest: fetched.bytes,
        signatures: signature.targetSignatureSource(source.repository, digest, {
          simpleSigning: async (call) => {
            const registriesD = await signature.loadRegistriesD({ env, ...call });
            const base = signature.lookasideFor(registriesD, source.name, { env });
            return signature.readLookasideSignatures(base, digest, call);
          },
        }),
      },
      { verifySigstoreSigned: signature.verifySigstoreSigned, ...(signal ? { signal } : {}) },
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
    throw e;
  }
  return fetched.descriptor;
}
