// containers-policy.json(5): where the file is, which scope's requirements apply to an image
// (containers/image policy_eval.go requirementsForImageRef with each transport's
// PolicyConfigurationIdentity/Namespaces), and the evaluation itself (IsRunningImageAllowed).
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AbortedError,
  FailedPreconditionError,
  isAborted,
  NotFoundError,
  PermissionDeniedError,
  throwIfAborted,
  truncate,
} from '@ocikit/errors';
import { parseNormalizedReference, type Reference } from '@ocikit/reference';
import { parsePolicy } from './policy-parse.ts';
import { verifySigstoreSigned } from './sigstore-verify.ts';
import { verifySignedBy } from './simple-signing.ts';
import type {
  ImageToVerify,
  Policy,
  PolicyRequirement,
  PolicyTransport,
  SignedByRequirement,
  SigstoreSignedRequirement,
  VerifyCallOptions,
} from './types.ts';

/** The system-wide policy file containers/image reads when the user has none. */
export const SYSTEM_POLICY_PATH = '/etc/containers/policy.json';

/** Options of {@link loadPolicy} and {@link resolvePolicyPath}. */
export interface LoadPolicyOptions extends VerifyCallOptions {
  /** `--signature-policy FILE`: this file and no other. */
  path?: string | undefined;
  /** The environment to take `HOME` from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The system policy file (default {@link SYSTEM_POLICY_PATH}); for tests and unusual installs. */
  systemPath?: string | undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which policy file applies, as containers/image `defaultPolicyPath` decides: `path` when given,
 * else `$HOME/.config/containers/policy.json` when it exists, else `/etc/containers/policy.json`
 * when it exists.
 *
 * @throws NotFoundError naming both places when neither exists.
 */
export async function resolvePolicyPath(options: LoadPolicyOptions = {}): Promise<string> {
  if (options.path !== undefined && options.path !== '') return options.path;
  const home = (options.env ?? process.env).HOME;
  const system = options.systemPath ?? SYSTEM_POLICY_PATH;
  const user = home ? join(home, '.config/containers/policy.json') : undefined;
  if (user !== undefined && (await exists(user))) return user;
  if (await exists(system)) return system;
  throw new NotFoundError(
    `no policy.json file found at any of the following: ${user === undefined ? '' : `"${user}", `}"${system}"`,
    {
      details: { reason: 'policy-not-found', paths: user === undefined ? [system] : [user, system] },
      hint: 'give one with --signature-policy FILE, or create /etc/containers/policy.json (see containers-policy.json(5))',
    },
  );
}

/**
 * Reads and parses the policy that applies ({@link resolvePolicyPath}), strictly
 * ({@link parsePolicy}).
 *
 * @throws NotFoundError when there is no policy file; FailedPreconditionError when it cannot be
 *   read; InvalidArgumentError naming the file and
 *   the JSON path inside it when the file is not a valid policy.
 *
 * @example
 * ```ts
 * const policy = await loadPolicy({ path: './policy.json' });
 * ```
 */
export async function loadPolicy(options: LoadPolicyOptions = {}): Promise<Policy> {
  throwIfAborted(options.signal);
  const path = await resolvePolicyPath(options);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path, { signal: options.signal });
  } catch (cause) {
    if (isAborted(cause) || (cause as Error).name === 'AbortError')
      throw new AbortedError('loading the policy was cancelled', { cause });
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new NotFoundError(`policy file ${path} does not exist`, {
        cause,
        details: { reason: 'policy-not-found', paths: [path] },
      });
    throw new FailedPreconditionError(
      `cannot read policy file ${path}: ${code ?? (cause as Error).message}`,
      {
        cause,
        details: { paths: [path] },
      },
    );
  }
  return parsePolicy(bytes, { path });
}

/** Where an image stands for scope matching: its most specific scope, then the more general ones. */
export interface PolicyIdentity {
  /** `PolicyConfigurationIdentity`: the most specific scope (`""` when the transport has none). */
  identity: string;
  /** `PolicyConfigurationNamespaces`: the more general scopes, most specific first. */
  namespaces: string[];
  /** The image's Docker reference, for `signedIdentity` rules; undefined when the transport has none. */
  dockerReference: string | undefined;
}

/** The reference a docker-like name stands for: `latest` added to a bare name, a tag dropped beside a digest. */
function dockerLike(name: string): Reference | undefined {
  let ref: Reference;
  try {
    ref = parseNormalizedReference(name);
  } catch {
    return undefined;
  }
  if (ref.tag === undefined && ref.digest === undefined) return ref.withTag('latest');
  if (ref.tag !== undefined && ref.digest !== undefined) return ref.withoutTag();
  return ref;
}

/** containers/image `DockerReferenceNamespaces`: repository, parent namespaces, host[:port], `*.` wildcards. */
export function dockerNamespaces(repositoryName: string): string[] {
  const res: string[] = [];
  let name = repositoryName;
  for (;;) {
    res.push(name);
    const slash = name.lastIndexOf('/');
    if (slash < 0) break;
    name = name.slice(0, slash);
  }
  const colon = name.indexOf(':');
  if (colon >= 0) name = name.slice(0, colon);
  for (;;) {
    const dot = name.indexOf('.');
    if (dot < 0) break;
    name = name.slice(dot + 1);
    res.push(`*.${name}`);
  }
  return res;
}

/** Path parents: `/a/b/c` → `/a/b`, `/a` (with `self`, `/a/b/c` first); never `/`. */
function pathNamespaces(path: string, self: boolean): string[] {
  const res: string[] = self ? [path] : [];
  let p = path;
  for (;;) {
    const slash = p.lastIndexOf('/');
    if (slash <= 0) break;
    p = p.slice(0, slash);
    res.push(p);
  }
  return res;
}

/**
 * The scopes an image is looked up under, per transport, as containers/image's transports define
 * them. `image.name` is, per transport: `docker` (and `atomic`) a normalized reference
 * (`docker.io/library/busybox:latest`, `…@sha256:…`; a bare name gets `latest`, a tag beside a
 * digest is dropped); `docker-daemon` a reference or an image ID `sha256:…` (ID: only `""`);
 * `oci`, `oci-archive` a `PATH[:REF]` (a relative PATH is resolved against the working directory) (the REF is not part of the identity); `dir`,
 * `sif` an absolute path; `docker-archive`, `tarball` anything (only `""`); `containers-storage`
 * its own scope string, matched exactly.
 */
export function policyIdentity(transport: PolicyTransport, name: string): PolicyIdentity {
  switch (transport) {
    case 'docker':
    case 'atomic':
    case 'docker-daemon': {
      if (transport === 'docker-daemon' && /^[a-z0-9]+:[a-f0-9]{32,}$/.test(name)) {
        return { identity: '', namespaces: [], dockerReference: undefined };
      }
      const ref = dockerLike(name);
      if (ref === undefined) return { identity: name, namespaces: [], dockerReference: undefined };
      return {
        identity: ref.toString(),
        namespaces: dockerNamespaces(ref.name),
        dockerReference: ref.toString(),
      };
    }
    case 'oci':
    case 'oci-archive': {
      const colon = name.indexOf(':');
      const path = resolve(colon < 0 ? name : name.slice(0, colon));
      return { identity: path, namespaces: pathNamespaces(path, true), dockerReference: undefined };
    }
    case 'dir':
    case 'sif': {
      const path = resolve(name);
      return { identity: path, namespaces: pathNamespaces(path, false), dockerReference: undefined };
    }
    case 'docker-archive':
    case 'tarball':
      return { identity: '', namespaces: [], dockerReference: undefined };
    case 'containers-storage':
      return { identity: name, namespaces: [], dockerReference: undefined };
  }
}

/** The requirements that apply to an image and where they came from. */
export interface ApplicableRequirements {
  /** The transport section used, or undefined when the global `default` applies. */
  transport: PolicyTransport | undefined;
  /** The scope used inside it (`""` for the transport default); undefined with the global default. */
  scope: string | undefined;
  /** The requirements; every one must pass. */
  requirements: PolicyRequirement[];
}

/**
 * The requirements for an image (`requirementsForImageRef`): the transport's most specific matching
 * scope (its identity, then its namespaces in order), else the transport's `""`, else the global
 * `default`. Only the most specific match applies.
 */
export function requirementsFor(
  policy: Policy,
  transport: PolicyTransport,
  name: string,
): ApplicableRequirements {
  const scopes = policy.transports[transport];
  if (scopes !== undefined) {
    const { identity, namespaces } = policyIdentity(transport, name);
    for (const scope of [identity, ...namespaces]) {
      const reqs = Object.hasOwn(scopes, scope) ? scopes[scope] : undefined;
      if (reqs !== undefined) return { transport, scope, requirements: reqs };
    }
    const fallback = Object.hasOwn(scopes, '') ? scopes[''] : undefined;
    if (fallback !== undefined) return { transport, scope: '', requirements: fallback };
  }
  return { transport: undefined, scope: undefined, requirements: policy.default };
}

/**
 * A verifier for one kind of requirement: resolves when the image satisfies it, throws when it
 * does not (the error's message says why: no signature, wrong key, wrong identity, …).
 */
export type RequirementVerifier<R extends PolicyRequirement> = (
  requirement: R,
  image: ImageToVerify,
  options: VerifyCallOptions & { dockerReference: string | undefined },
) => Promise<void>;

/** Options of {@link evaluatePolicy}. */
export interface EvaluatePolicyOptions extends VerifyCallOptions {
  /** Verifies `sigstoreSigned` requirements (default: key-based cosign signatures, `verifySigstoreSigned`). */
  verifySigstoreSigned?: RequirementVerifier<SigstoreSignedRequirement> | undefined;
  /** Verifies `signedBy` requirements (default: GPG simple signing with openpgp.js, {@link verifySignedBy}). */
  verifySignedBy?: RequirementVerifier<SignedByRequirement> | undefined;
}

/** What {@link evaluatePolicy} found when it accepted an image. */
export interface PolicyAcceptance extends ApplicableRequirements {
  /** The image's name with its transport (`docker:docker.io/library/busybox:latest`). */
  image: string;
}

function describeScope(applied: ApplicableRequirements): string {
  if (applied.transport === undefined) return 'the default policy';
  return applied.scope === ''
    ? `the ${applied.transport} transport's default scope ""`
    : `scope ${JSON.stringify(applied.scope)} of transport ${applied.transport}`;
}

function describeRequirement(req: PolicyRequirement): string {
  switch (req.type) {
    case 'signedBy': {
      const keys = req.keyPath ?? req.keyPaths?.join(', ') ?? (req.keyData !== undefined ? 'keyData' : '');
      return `signedBy (${keys})`;
    }
    case 'sigstoreSigned': {
      const keys =
        req.keyPath ??
        req.keyPaths?.join(', ') ??
        (req.keyData !== undefined ? 'keyData' : req.fulcio ? 'fulcio' : '');
      return `sigstoreSigned (${keys})`;
    }
    default:
      return req.type;
  }
}

/**
 * Decides whether `image` may be accepted, as containers/image `IsRunningImageAllowed` does: the
 * requirements of the most specific matching scope ({@link requirementsFor}) are checked in order
 * and every one must pass — `insecureAcceptAnything` passes, `reject` fails, `signedBy` needs one
 * GPG simple signing signature by one of its keys for this manifest digest with an accepted
 * identity, `sigstoreSigned` one sigstore (cosign) signature by one of its keys.
 *
 * @throws PermissionDeniedError (`details.reason: 'policy-rejected'`) naming the image, the
 *   requirement that failed (type, index, scope, policy file) and why; AbortedError when
 *   cancelled.
 *
 * @example
 * ```ts
 * const policy = await loadPolicy();
 * await evaluatePolicy(policy, { transport: 'docker', name: 'localhost:5000/app:1', manifestDigest, manifest, signatures });
 * ```
 */
export async function evaluatePolicy(
  policy: Policy,
  image: ImageToVerify,
  options: EvaluatePolicyOptions = {},
): Promise<PolicyAcceptance> {
  throwIfAborted(options.signal);
  const applied = requirementsFor(policy, image.transport, image.name);
  const imageName = `${image.transport}:${image.name}`;
  const { dockerReference } = policyIdentity(image.transport, image.name);
  const reject = (index: number, req: PolicyRequirement, why: string, cause?: unknown): never => {
    const where = describeScope(applied);
    throw new PermissionDeniedError(
      `${truncate(imageName, 200)} rejected by policy: requirement ${index + 1} of ${applied.requirements.length}, ${describeRequirement(req)}, in ${where}${policy.path ? ` of ${policy.path}` : ''}: ${why}`,
      {
        cause,
        details: {
          reason: 'policy-rejected',
          image: imageName,
          requirement: req.type,
          requirementIndex: index,
          transport: applied.transport ?? null,
          scope: applied.scope ?? null,
          policyFile: policy.path ?? null,
          why,
        },
        hint: 'see containers-policy.json(5) for what the policy requires of this image',
      },
    );
  };
  if (applied.requirements.length === 0) {
    return reject(-1, { type: 'reject' }, 'list of verification policy requirements must not be empty');
  }
  const verifyOptions = { signal: options.signal, dockerReference };
  for (const [index, req] of applied.requirements.entries()) {
    throwIfAborted(options.signal);
    switch (req.type) {
      case 'insecureAcceptAnything':
        continue;
      case 'reject':
        return reject(index, req, `running image ${imageName} is rejected by policy`);
      case 'signedBy':
      case 'sigstoreSigned': {
        try {
          if (req.type === 'signedBy')
            await (options.verifySignedBy ?? verifySignedBy)(req, image, verifyOptions);
          else await (options.verifySigstoreSigned ?? verifySigstoreSigned)(req, image, verifyOptions);
        } catch (e) {
          if (isAborted(e)) throw e;
          if (e instanceof PermissionDeniedError && e.details.reason === 'policy-rejected') throw e;
          return reject(index, req, e instanceof Error ? e.message : String(e), e);
        }
        continue;
      }
      default: {
        const unknown = req as { type?: unknown };
        return reject(index, req, `unknown policy requirement type ${JSON.stringify(unknown.type)}`);
      }
    }
  }
  return { ...applied, image: imageName };
}
