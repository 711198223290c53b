import { type Digest, parseDigest } from '@ocikit/digest';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { NAME_TOTAL_LENGTH_MAX, ReferenceGrammar } from './grammar.ts';

/** Why a reference was rejected (`details.reason` of the InvalidArgumentError). */
export type ReferenceErrorReason =
  | 'name-empty'
  | 'invalid-format'
  | 'name-contains-uppercase'
  | 'name-too-long'
  | 'name-not-canonical'
  | 'tag-invalid-format'
  | 'digest-invalid-format'
  | 'digest-invalid-length'
  | 'digest-unsupported';

const messages: Record<ReferenceErrorReason, string> = {
  'name-empty': 'repository name must have at least one component',
  'invalid-format': 'invalid reference format',
  'name-contains-uppercase': 'repository name must be lowercase',
  'name-too-long': `repository path must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
  'name-not-canonical': 'repository name must be canonical (e.g. docker.io/library/busybox)',
  'tag-invalid-format': 'invalid tag format',
  'digest-invalid-format': 'invalid digest format',
  'digest-invalid-length': 'invalid digest length',
  'digest-unsupported': 'unsupported digest algorithm',
};

function fail(reason: ReferenceErrorReason, input: string, extra?: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid reference "${truncate(input)}": ${extra ?? messages[reason]}`, {
    details: { reason, input: truncate(input, 300) },
    hint: 'references look like [registry[:port]/]repository[:tag][@digest], e.g. busybox or localhost:5000/app:v1',
  });
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

/** An image reference: `registry/repository[:tag][@digest]`. */
export class Reference {
  /** The registry host (and port): `docker.io`, `localhost:5000`; empty for a strict parse without one. */
  readonly registry: string;
  /** The repository path inside the registry: `library/busybox`. */
  readonly repository: string;
  /** The tag, if any. */
  readonly tag: string | undefined;
  /** The digest, if any. */
  readonly digest: Digest | undefined;

  constructor(registry: string, repository: string, tag?: string, digest?: Digest) {
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.digest = digest;
  }

  /** `registry/repository` (or just the repository when there is no registry). */
  get name(): string {
    return this.registry ? `${this.registry}/${this.repository}` : this.repository;
  }

  /** The full form: `docker.io/library/busybox:latest`. */
  toString(): string {
    return `${this.name}${this.tag ? `:${this.tag}` : ''}${this.digest ? `@${this.digest}` : ''}`;
  }

  /** The name as Docker shows it: `busybox`, `user/app`, `localhost:5000/app`. */
  familiarName(): string {
    if (this.registry !== DEFAULT_DOMAIN) return this.name;
    const rest = this.repository.startsWith(OFFICIAL_PREFIX)
      ? this.repository.slice(OFFICIAL_PREFIX.length)
      : undefined;
    return rest !== undefined && !rest.includes('/') ? rest : this.repository;
  }

  /** The reference as Docker shows it: `busybox:latest`. */
  familiarString(): string {
    return `${this.familiarName()}${this.tag ? `:${this.tag}` : ''}${this.digest ? `@${this.digest}` : ''}`;
  }

  /** A copy with `tag` (validated). */
  withTag(tag: string): Reference {
    if (!ReferenceGrammar.tag.test(tag)) throw fail('tag-invalid-format', tag);
    return new Reference(this.registry, this.repository, tag, this.digest);
  }

  /** A copy with `digest` (validated against the reference grammar and the digest algorithm). */
  withDigest(digest: string): Reference {
    if (!ReferenceGrammar.digest.test(digest)) throw fail('digest-invalid-format', digest);
    return new Reference(this.registry, this.repository, this.tag, digest as Digest);
  }

  /**
   * A copy without the tag: what Docker and podman keep of `name:tag@digest` (upstream
   * `ParseDockerRef`), where ocikit keeps both (decision 011).
   */
  withoutTag(): Reference {
    return new Reference(this.registry, this.repository, undefined, this.digest);
  }

  /** A copy without tag and digest. */
  nameOnly(): Reference {
    return new Reference(this.registry, this.repository);
  }

  /** The tag or digest to ask a registry for: the digest when there is one, else the tag. */
  get identifier(): string | undefined {
    return this.digest ?? this.tag;
  }
}

function toDigest(input: string, whole: string): Digest {
  try {
    return parseDigest(input);
  } catch (e) {
    const reason = (e as InvalidArgumentError).details['reason'];
    throw fail(
      reason === 'unsupported'
        ? 'digest-unsupported'
        : reason === 'invalid-length'
          ? 'digest-invalid-length'
          : 'digest-invalid-format',
      whole,
    );
  }
}

/**
 * Parses a reference exactly as written, without normalization (distribution/reference `Parse`):
 * `busybox` stays `busybox` with no registry.
 */
export function parseStrictReference(input: string): Reference {
  const m = ReferenceGrammar.reference.exec(input);
  if (!m) {
    if (input === '') throw fail('name-empty', input);
    if (ReferenceGrammar.reference.test(input.toLowerCase())) throw fail('name-contains-uppercase', input);
    throw fail('invalid-format', input);
  }
  const name = m[1] ?? '';
  const n = ReferenceGrammar.anchoredName.exec(name);
  const registry = n?.[1] ?? '';
  const repository = n?.[2] ?? name;
  if (repository.length > NAME_TOTAL_LENGTH_MAX) throw fail('name-too-long', input);
  const digest = m[3] ? toDigest(m[3], input) : undefined;
  return new Reference(registry, repository, m[2] || undefined, digest);
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * Parses a reference with Docker's normalization (`ParseNormalizedNamed`): `busybox` →
 * `docker.io/library/busybox`, `index.docker.io` → `docker.io`. No default tag is added.
 */
export function parseNormalizedReference(input: string): Reference {
  if (ReferenceGrammar.identifier.test(input)) {
    throw fail('invalid-format', input, `cannot use a 64-character hexadecimal string as a repository name`);
  }
  const [domain, remainder] = splitDockerDomain(input);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (input === '') throw fail('name-empty', input);
  if (remoteName.toLowerCase() !== remoteName) throw fail('name-contains-uppercase', input);
  try {
    return parseStrictReference(`${domain}/${remainder}`);
  } catch (e) {
    // Report the reference as the user wrote it, not its normalized form.
    throw fail((e as InvalidArgumentError).details['reason'] as ReferenceErrorReason, input);
  }
}

/**
 * Parses an image reference to pull or run: normalized (`busybox` → `docker.io/library/busybox`)
 * and tagged `latest` when it has neither tag nor digest. A reference with both keeps both, as
 * Docker's `ParseNormalizedNamed` and containerd's parser do: the digest decides what is pulled
 * ({@link Reference.identifier}), the tag stays for display and for the name an image is stored
 * under (`docker.io/library/busybox:latest@sha256:…`). Upstream `ParseDockerRef` drops the tag
 * instead; {@link Reference.withoutTag} gives that form (decision 011).
 *
 * @example
 * ```ts
 * const ref = parseReference('busybox');
 * ref.toString();        // 'docker.io/library/busybox:latest'
 * ref.familiarString();  // 'busybox:latest'
 * ref.registry;          // 'docker.io'
 * ref.repository;        // 'library/busybox'
 * parseReference('busybox:1@sha256:…').identifier; // 'sha256:…'
 * ```
 */
export function parseReference(input: string): Reference {
  const ref = parseNormalizedReference(input);
  if (!ref.tag && !ref.digest) return new Reference(ref.registry, ref.repository, 'latest');
  return ref;
}

/** Parses a canonical reference only (`ParseNamed`): the input must already be normalized. */
export function parseCanonicalReference(input: string): Reference {
  const ref = parseNormalizedReference(input);
  if (ref.toString() !== input) throw fail('name-not-canonical', input);
  return ref;
}

/** A bare digest, or a 64-hex image identifier (taken as sha256), or else a normalized reference. */
export function parseAnyReference(input: string): Reference | Digest {
  if (ReferenceGrammar.identifier.test(input)) return toDigest(`sha256:${input}`, input);
  try {
    return parseDigest(input);
  } catch {
    return parseNormalizedReference(input);
  }
}

/** Makes a name-only reference from `domain/path`, checking the name grammar (`WithName`). */
export function referenceFromName(name: string): Reference {
  const m = ReferenceGrammar.anchoredName.exec(name);
  if (!m) throw fail('invalid-format', name);
  if ((m[2] ?? '').length > NAME_TOTAL_LENGTH_MAX) throw fail('name-too-long', name);
  return new Reference(m[1] ?? '', m[2] ?? '');
}

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) out += `\\${pattern[++i]}`;
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new InvalidArgumentError(`bad pattern "${pattern}": unterminated [`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^/${cls.slice(1)}`;
      out += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** True when `pattern` (Go `path.Match` syntax) matches the reference's familiar string or familiar name. */
export function familiarMatch(pattern: string, ref: Reference): boolean {
  const re = globToRegExp(pattern);
  return re.test(ref.familiarString()) || re.test(ref.familiarName());
}
