import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import cases from '../../test/fixtures/reference.json' with { type: 'json' };
import { ReferenceGrammar } from './grammar.ts';
import {
  familiarMatch,
  parseAnyReference,
  parseCanonicalReference,
  parseNormalizedReference,
  parseReference,
  parseStrictReference,
  type Reference,
  type ReferenceErrorReason,
  referenceFromName,
} from './reference.ts';

interface Expected {
  domain?: string;
  repository?: string;
  path?: string;
  tag?: string;
  digest?: string;
  string?: string;
  familiarName?: string;
  familiarString?: string;
  digestOnly?: boolean;
  match?: boolean;
  submatches?: string[];
}
interface Case {
  name: string;
  kind: string;
  input: string | { name?: string; tag?: string; digest?: string; reference?: string; pattern?: string };
  valid: boolean;
  error?: string;
  expected?: Expected;
  derivedExpected?: Expected;
}
const all = cases as Case[];
const byKind = (kind: string) => all.filter((c) => c.kind === kind).map((c) => [c.name, c] as const);

/**
 * The fixtures name upstream's error by its sentinel (`ErrReferenceInvalidFormat` is
 * `invalid-format`, go-digest's `ErrDigestUnsupported` is `digest-unsupported`, …); each is mapped to
 * our reason here, so a fixture naming an error we do not know fails instead of passing.
 */
const OURS_FOR_UPSTREAM: Record<string, ReferenceErrorReason> = {
  'name-empty': 'name-empty', // ErrNameEmpty
  'invalid-format': 'invalid-format', // ErrReferenceInvalidFormat
  'name-contains-uppercase': 'name-contains-uppercase', // ErrNameContainsUppercase
  'name-too-long': 'name-too-long', // ErrNameTooLong
  'name-not-canonical': 'name-not-canonical', // ErrNameNotCanonical
  'tag-invalid-format': 'tag-invalid-format', // ErrTagInvalidFormat
  'digest-invalid-format': 'digest-invalid-format', // ErrDigestInvalidFormat
  'digest-invalid-length': 'digest-invalid-length', // go-digest ErrDigestInvalidLength
  'digest-unsupported': 'digest-unsupported', // go-digest ErrDigestUnsupported
};

/** Our reason for a case's upstream error; throws when the case names none or an unknown one. */
function expectedReason(c: Case): ReferenceErrorReason {
  const reason = c.error === undefined ? undefined : OURS_FOR_UPSTREAM[c.error];
  if (reason === undefined) throw new Error(`${c.name}: no known expected error (${String(c.error)})`);
  return reason;
}

/**
 * The invalid `ParseNormalizedNamed` cases: upstream's test asserts only `err != nil`, so the fixture
 * names no error. What ParseNormalizedNamed (normalize.go at the fixture's commit) returns for each,
 * read from its code and mapped to ours:
 * - a 64-hex name: `fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal
 *   strings")`, no sentinel → `invalid-format` (with a message of its own);
 * - an upper-case remote name: `fmt.Errorf("invalid reference format: repository name (%s) must be
 *   lowercase")`, no sentinel → `name-contains-uppercase`;
 * - otherwise `Parse(domain + "/" + remainder)`'s sentinel: ErrReferenceInvalidFormat, ErrNameTooLong.
 */
const NORMALIZED_ERRORS: Record<string, ReferenceErrorReason> = {
  'https://github.com/docker/docker': 'invalid-format', // "https:" taken as a domain; Parse fails
  'docker/Docker': 'name-contains-uppercase',
  '-docker': 'invalid-format',
  '-docker/docker': 'invalid-format',
  '-docker.io/docker/docker': 'invalid-format',
  'docker///docker': 'invalid-format',
  'docker.io/docker/Docker': 'name-contains-uppercase',
  'docker.io/docker///docker': 'invalid-format',
  '[fc00::1]': 'invalid-format', // no "/": docker.io/library/[fc00::1]
  '[fc00::1]:5000': 'invalid-format',
  'fc00::1:5000/debian': 'invalid-format', // an IPv6 domain must be bracketed
  '[fe80::1%eth0]:5000/debian': 'invalid-format', // no zone in a domain
  '[2001:db8:3:4::192.0.2.33]:5000/debian': 'invalid-format', // no embedded IPv4 in a domain
  '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a': 'invalid-format', // the 64-hex check
  'docker-/docker': 'invalid-format',
  '-docker-/docker': 'invalid-format',
  '____/____': 'invalid-format',
  '_docker/_docker': 'invalid-format',
  'dock..er/docker': 'invalid-format',
  'dock_.er/docker': 'invalid-format',
  'dock-.er/docker': 'invalid-format',
  'docker/': 'invalid-format',
  [`${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4).slice(0, -1)}/docker`]:
    'name-too-long', // ErrNameTooLong: a path of 278 characters
  '-foo': 'invalid-format',
};

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(isInvalidArgument(e)).toBe(true);
    return (e as { details: { reason: string } }).details.reason;
  }
  return undefined;
}

function checkRef(ref: Reference, e: Expected) {
  if (e.domain !== undefined) expect(ref.registry).toBe(e.domain);
  if (e.path !== undefined) expect(ref.repository).toBe(e.path);
  if (e.repository !== undefined) expect(ref.name).toBe(e.repository);
  if (e.tag !== undefined) expect(ref.tag ?? '').toBe(e.tag);
  if (e.digest !== undefined) expect(ref.digest ?? '').toBe(e.digest);
  if (e.string !== undefined) expect(ref.toString()).toBe(e.string);
  if (e.familiarName !== undefined) expect(ref.familiarName()).toBe(e.familiarName);
  if (e.familiarString !== undefined) expect(ref.familiarString()).toBe(e.familiarString);
}

// Our deliberate difference (docs/decisions/010-reference-sha512.md): sha512 is built into
// @ocikit/digest, so a well-formed sha512 digest is valid where upstream (sha256 only) says
// "digest-unsupported".
const sha512Supported = (c: Case) =>
  c.error === 'digest-unsupported' && typeof c.input === 'string' && c.input.includes('@sha512:');

describe('parseStrictReference: distribution/reference Parse', () => {
  it.each(byKind('parse'))('%s', (_n, c) => {
    const input = c.input as string;
    if (sha512Supported(c)) {
      expect(parseStrictReference(input).digest).toMatch(/^sha512:/);
      return;
    }
    if (c.valid) checkRef(parseStrictReference(input), c.expected ?? {});
    else expect(reasonOf(() => parseStrictReference(input))).toBe(expectedReason(c));
  });
});

describe('parseNormalizedReference: ParseNormalizedNamed', () => {
  it.each(byKind('parseNormalizedNamed'))('%s', (_n, c) => {
    const input = c.input as string;
    if (c.valid) checkRef(parseNormalizedReference(input), c.expected ?? c.derivedExpected ?? {});
    else {
      const expected = c.error === undefined ? NORMALIZED_ERRORS[input] : expectedReason(c);
      if (expected === undefined) throw new Error(`${c.name}: no expected error mapped for ${input}`);
      expect(reasonOf(() => parseNormalizedReference(input))).toBe(expected);
    }
  });
});

describe('parseCanonicalReference: ParseNamed', () => {
  it.each(byKind('parseNamed'))('%s', (_n, c) => {
    const input = c.input as string;
    if (c.valid) checkRef(parseCanonicalReference(input), c.expected ?? {});
    else expect(reasonOf(() => parseCanonicalReference(input))).toBe(expectedReason(c));
  });
});

// Our deliberate difference (docs/decisions/011-reference-keeps-tag-with-digest.md): with both a tag
// and a digest, parseReference keeps the tag, as ParseNormalizedNamed does; upstream's ParseDockerRef
// drops it, which is withoutTag().
describe('parseReference: ParseDockerRef', () => {
  it.each(byKind('parseDockerRef'))('%s', (_n, c) => {
    const input = c.input as string;
    const ref = parseReference(input);
    if (ref.tag !== undefined && ref.digest !== undefined) {
      expect(ref.toString()).toBe(parseNormalizedReference(input).toString());
      expect(ref.identifier).toBe(ref.digest);
      expect(ref.withoutTag().toString()).toBe(c.expected?.string);
    } else expect(ref.toString()).toBe(c.expected?.string);
  });
});

describe('parseAnyReference', () => {
  it.each(byKind('parseAnyReference'))('%s', (_n, c) => {
    const r = parseAnyReference(c.input as string);
    expect(typeof r === 'string').toBe(c.expected?.digestOnly);
    expect(r.toString()).toBe(c.expected?.string);
  });
});

describe('referenceFromName, withTag, withDigest', () => {
  it.each(byKind('withName'))('%s', (_n, c) => {
    const input = c.input as string;
    if (c.valid) checkRef(referenceFromName(input), c.expected ?? {});
    else expect(reasonOf(() => referenceFromName(input))).toBe(expectedReason(c));
  });
  it.each([...byKind('withTag'), ...byKind('withDigest')])('%s', (_n, c) => {
    const input = c.input as { name: string; tag?: string; digest?: string };
    const build = () => {
      let ref = referenceFromName(input.name);
      // Upstream order: WithDigest then WithTag for withTag cases, and the reverse for withDigest.
      if (c.kind === 'withTag') {
        if (input.digest) ref = ref.withDigest(input.digest);
        if (input.tag !== undefined) ref = ref.withTag(input.tag);
      } else {
        if (input.tag) ref = ref.withTag(input.tag);
        if (input.digest !== undefined) ref = ref.withDigest(input.digest);
      }
      return ref;
    };
    if (c.valid) expect(build().toString()).toBe(c.expected?.string);
    else expect(reasonOf(build)).toBe(expectedReason(c));
  });
});

describe('familiarMatch', () => {
  it.each(byKind('familiarMatch'))('%s', (_n, c) => {
    const input = c.input as { reference: string; pattern: string };
    expect(familiarMatch(input.pattern, parseNormalizedReference(input.reference))).toBe(c.expected?.match);
  });
});

describe('the grammar', () => {
  const patterns = {
    'regexp:domainAndPort': ReferenceGrammar.domainAndPort,
    'regexp:anchoredName': ReferenceGrammar.anchoredName,
    'regexp:reference': ReferenceGrammar.reference,
    'regexp:identifier': ReferenceGrammar.identifier,
  } as const;
  it.each(Object.keys(patterns).flatMap((k) => byKind(k)))('%s', (_n, c) => {
    const re = patterns[c.kind as keyof typeof patterns];
    const m = re.exec(c.input as string);
    expect(m !== null).toBe(c.expected?.match);
    if (m && c.expected?.submatches) expect(m.slice(1).map((s) => s ?? '')).toEqual(c.expected.submatches);
  });
});
