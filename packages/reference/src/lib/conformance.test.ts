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
    else expect(reasonOf(() => parseStrictReference(input))).toBe(c.error);
  });
});

describe('parseNormalizedReference: ParseNormalizedNamed', () => {
  it.each(byKind('parseNormalizedNamed'))('%s', (_n, c) => {
    const input = c.input as string;
    if (c.valid) checkRef(parseNormalizedReference(input), c.expected ?? c.derivedExpected ?? {});
    else expect(reasonOf(() => parseNormalizedReference(input))).toBeDefined();
  });
});

describe('parseCanonicalReference: ParseNamed', () => {
  it.each(byKind('parseNamed'))('%s', (_n, c) => {
    const input = c.input as string;
    if (c.valid) checkRef(parseCanonicalReference(input), c.expected ?? {});
    else expect(reasonOf(() => parseCanonicalReference(input))).toBe(c.error);
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
    else expect(reasonOf(() => referenceFromName(input))).toBe(c.error);
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
    else expect(reasonOf(build)).toBe(c.error);
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
