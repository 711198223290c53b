import { readFileSync } from 'node:fs';
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import {
  compileDockerignore,
  compilePattern,
  dockerignoreMatcher,
  isIgnored,
  parseDockerignore,
} from './dockerignore.ts';

interface Cases {
  matches: { pattern: string; text: string; pass: boolean }[];
  multiPattern: { patterns: string[]; text: string; pass: boolean }[];
  matchTests: { pattern: string; text: string; match: boolean; badPattern: boolean }[];
  compile: { pattern: string; matchType: string; regexp: string }[];
}

// Tables extracted from moby/patternmatcher's patternmatcher_test.go (see test/fixtures/SOURCES.md).
const cases = JSON.parse(
  readFileSync(new URL('../../test/fixtures/patternmatcher/cases.json', import.meta.url), 'utf8'),
) as Cases;

describe('dockerignore: patternmatcher TestMatches (MatchesOrParentMatches)', () => {
  it('has the upstream tables', () => {
    expect([cases.matches.length, cases.multiPattern.length, cases.matchTests.length]).toEqual([68, 4, 54]);
  });
  it.each(cases.matches)('$pattern against $text → $pass', ({ pattern, text, pass }) => {
    expect(isIgnored(text, [pattern])).toBe(pass);
  });
  it.each(cases.multiPattern)('$patterns against $text → $pass', ({ patterns, text, pass }) => {
    expect(isIgnored(text, patterns)).toBe(pass);
  });
});

describe('dockerignore: patternmatcher TestMatch (Go filepath.Match cases)', () => {
  it.each(cases.matchTests)(
    '$pattern against $text → $match (bad pattern: $badPattern)',
    ({ pattern, text, match, badPattern }) => {
      if (badPattern) {
        let error: unknown;
        try {
          isIgnored(text, [pattern]);
        } catch (e) {
          error = e;
        }
        expect(isInvalidArgument(error)).toBe(true);
        expect((error as Error).message).toContain(`.dockerignore: bad pattern`);
      } else {
        expect(isIgnored(text, [pattern])).toBe(match);
      }
    },
  );
});

describe('dockerignore: patternmatcher TestCompile (the match type and regexp of each pattern)', () => {
  it.each(cases.compile)('$pattern is a $matchType match', ({ pattern, matchType, regexp }) => {
    const compiled = compilePattern(pattern, false);
    expect(compiled.type).toBe(matchType);
    // JavaScript writes `/` as `\/` in a RegExp's source; Go does not.
    expect(compiled.regexp?.source.replaceAll('\\/', '/') ?? '').toBe(regexp);
  });
});

describe('dockerignore: pattern list rules (TestCleanPatterns*, TestSingleExclamationError, TestExclusionPatternMatchesWholeDirectory)', () => {
  it('drops empty patterns, trims spaces, refuses a lone !', () => {
    expect(compileDockerignore(['docs', 'config', '']).patterns).toEqual(['docs', 'config']);
    expect(compileDockerignore(['docs', '  !docs/README.md', '!docs/x  ']).patterns).toEqual([
      'docs',
      '!docs/README.md',
      '!docs/x',
    ]);
    expect(() => compileDockerignore(['!'])).toThrow('.dockerignore: illegal exclusion pattern: "!"');
  });
  it('never ignores the context root, and matches nothing without patterns', () => {
    expect(isIgnored('.', ['*.go'])).toBe(false);
    expect(isIgnored('./', ['**'])).toBe(false);
    expect(isIgnored('any/path/there', [])).toBe(false);
  });
  it('lets an exception re-include a file in an excluded folder, and later patterns win', () => {
    expect(isIgnored('docs/README.md', ['docs', '!docs/README.md'])).toBe(false);
    expect(isIgnored('docs/README.md', ['docs/', '!docs/README.md'])).toBe(false);
    expect(isIgnored('docs/README.md', ['docs/*', '!docs/README.md'])).toBe(false);
    expect(isIgnored('fileutils.go', ['*.go', '!fileutils.go'])).toBe(false);
    expect(isIgnored('fileutils.go', ['!fileutils.go', '*.go'])).toBe(true);
    expect(isIgnored('docs/other.md', ['docs', '!docs/README.md'])).toBe(true);
  });
});

describe('parseDockerignore (ignorefile TestReadAll)', () => {
  it('reads the upstream example', () => {
    const content =
      'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
    expect(parseDockerignore(content)).toEqual([
      'test1',
      'test2',
      'a/file/here',
      'lastfile',
      '!inverted/abs/path',
      '!',
      '!',
    ]);
    expect(parseDockerignore('')).toEqual([]);
  });
  it('drops a BOM and CRLF line ends, cleans ./ and .. and trailing slashes', () => {
    expect(parseDockerignore('\uFEFFa/./b/../c/\r\n./d\r\n  #not-a-comment\n')).toEqual([
      'a/c',
      'd',
      '#not-a-comment',
    ]);
  });
});

describe('dockerignoreMatcher', () => {
  it('is a function of a context path, with the patterns it uses', () => {
    const ignored = dockerignoreMatcher('node_modules\n**/*.log\n!keep.log\n');
    expect(ignored.patterns).toEqual(['node_modules', '**/*.log', '!keep.log']);
    expect(ignored('node_modules/x/index.js')).toBe(true);
    expect(ignored('src/a.log')).toBe(true);
    expect(ignored('keep.log')).toBe(false);
    expect(ignored('src/index.ts')).toBe(false);
  });

  it('says when a walk may skip an excluded directory, as BuildKit (fsutil) does', () => {
    const plain = dockerignoreMatcher('node_modules\ndocs\n!docs/README.md\n!build/out/*\n');
    expect(plain.mayIncludeBelow('node_modules')).toBe(false);
    expect(plain.mayIncludeBelow('docs')).toBe(true);
    expect(plain.mayIncludeBelow('build')).toBe(true);
    expect(plain.mayIncludeBelow('build/out')).toBe(true);
    expect(plain.mayIncludeBelow('doc')).toBe(false);
    expect(dockerignoreMatcher('node_modules\n').mayIncludeBelow('node_modules')).toBe(false);
    // An exception with a wildcard could match anywhere: every directory is walked.
    expect(dockerignoreMatcher('node_modules\n!**/*.md\n').mayIncludeBelow('node_modules')).toBe(true);
  });
});
