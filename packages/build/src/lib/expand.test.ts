// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words are written ${VAR}, not template literals
import { readFileSync } from 'node:fs';
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { expand, expandWords } from './expand.ts';

const fixture = (name: string): string[] =>
  readFileSync(new URL(`../../test/fixtures/buildkit/${name}`, import.meta.url), 'utf8').split('\n');

// BuildKit's TestShellParser4EnvVars: `A|source|expected` (U: Unix only, W: Windows only).
const envVarCases = fixture('envVarTest').flatMap((line, i) => {
  if (line.startsWith('#') || line.trim() === '') return [];
  const [platform, source, expected] = line
    .trim()
    .split('|')
    .map((part) => part.trim());
  if (platform === 'W') return [];
  return [{ line: i + 1, source: source as string, expected: expected as string }];
});

// BuildKit's TestShellParser4Words: `ENV k=v` lines add variables, `source | w1,w2` expects words.
const wordsCases = (() => {
  const env: Record<string, string> = {};
  const cases: { line: number; source: string; expected: string[]; env: Record<string, string> }[] = [];
  fixture('wordsTest').forEach((line, i) => {
    if (line.startsWith('#') || line === '') return;
    if (line.startsWith('ENV ')) {
      const assignment = line.slice(3).replace(/^ +/, '');
      const eq = assignment.indexOf('=');
      env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
      return;
    }
    const [source, expected] = line.split('|') as [string, string];
    cases.push({
      line: i + 1,
      source: source.trim(),
      expected: expected.replace(/^ +/, '').split(','),
      env: { ...env },
    });
  });
  return cases;
})();

const envs = { PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' };

describe('expand (BuildKit envVarTest)', () => {
  it('has the whole upstream table', () => {
    expect(envVarCases.length).toBeGreaterThan(200);
  });
  it.each(envVarCases)('line $line: $source → $expected', ({ source, expected }) => {
    if (expected === 'error') {
      expect(() => expand(source, envs)).toThrow(/failed to process/);
    } else {
      expect(expand(source, envs)).toBe(expected);
    }
  });
});

describe('expandWords (BuildKit wordsTest)', () => {
  it('has the whole upstream table', () => {
    expect(wordsCases.length).toBeGreaterThan(20);
  });
  it.each(wordsCases)('line $line: $source → $expected', ({ source, expected, env }) => {
    let words: string[];
    try {
      words = expandWords(source, env);
    } catch {
      words = ['error'];
    }
    expect(words).toEqual(expected);
  });
});

// BuildKit's TestShellParserMandatoryEnvVars and TestProcessWithMatches.
describe('expand (BuildKit lex_test cases)', () => {
  it('fails on ${VAR:?msg} when unset or empty and on ${VAR?msg} when unset, with the message', () => {
    expect(expand('${VAR:?message here$ARG}', { VAR: 'plain', ARG: 'x' })).toBe('plain');
    expect(() => expand('${VAR:?message here$ARG}', { VAR: '', ARG: 'x' })).toThrow('VAR: message herex');
    expect(() => expand('${VAR:?message here$ARG}', { ARG: 'x' })).toThrow('VAR: message herex');
    expect(expand('${VAR?message here$ARG}', { VAR: '', ARG: 'x' })).toBe('');
    expect(() => expand('${VAR?message here$ARG}', { ARG: 'x' })).toThrow('VAR: message herex');
    expect(() => expand('${BAZ:?}', {})).toThrow('BAZ: is not allowed to be unset');
    const error = (() => {
      try {
        expand('${BAR:?}', { BAR: '' });
      } catch (e) {
        return e;
      }
    })();
    expect(isInvalidArgument(error)).toBe(true);
    expect((error as Error).message).toBe('failed to process "${BAR:?}": BAR: is not allowed to be empty');
  });

  const set = { FOO: 'xxx', BAR: '' };
  it.each([
    ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', set, 'xxx  ccc'],
    ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', set, 'xxx bbb ccc'],
    ['${FOO:-}', set, 'xxx'],
    ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', set, 'aaa bbb '],
    ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', set, 'aaa  '],
    ['${FOO?aaa}', set, 'xxx'],
    ['${BAR?bbb}', set, ''],
    ['${FOO:?aaa}', set, 'xxx'],
    ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x'],
    ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
    ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y'],
    ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy'],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy'],
    ['${FOO#}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO##*x}', { FOO: 'xxyy' }, 'yy'],
    ['${FOO##}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
    ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.'],
    ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
    ['${FOO%}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO%%$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy'],
    [
      '${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}',
      { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' },
      '/foo.*/*.txt - /foo..*.txt',
    ],
    [
      '${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}',
      { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' },
      '/tmp/bar.txt - /bar.txt',
    ],
    [
      '${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}',
      { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' },
      '/foo/b/c.txt - /foo/c.txt',
    ],
    [
      '${FOO/$NEEDLE/$REPLACEMENT}',
      { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' },
      'https://google.de',
    ],
    ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt'],
    ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy'],
    ['${FOO///}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO///}', {}, ''],
  ] as const)('%s with %o → %s', (input, vars, expected) => {
    expect(expand(input, vars)).toBe(expected);
  });

  it.each([
    ['${BAZ?ccc}', set],
    ['${BAR:?bbb}', set],
    ['${BAZ:?ccc}', set],
    ['${FOO=aaa}', set],
    ['${FOO=:aaa}', set],
    ['${FOO=}', {}],
    ['${FOO:#}', {}],
    ['${FOO:##}', {}],
    ['${FOO:%}', {}],
    ['${FOO:%%}', {}],
    ['${FOO//ww}', { FOO: 'xxyy' }],
    ['${FOO//}', { FOO: 'xxyy' }],
  ] as const)('%s with %o fails', (input, vars) => {
    expect(() => expand(input, vars)).toThrow(/failed to process/);
  });
});

describe('expand (ocikit)', () => {
  it('takes a Map as well as a record, and ignores inherited record keys', () => {
    expect(expand('$A-${B}', new Map([['A', '1']]))).toBe('1-');
    expect(expand('${toString:-none}', {})).toBe('none');
  });

  it('uses the backtick as escape when the Dockerfile says so', () => {
    expect(expand('a`$B c\\d', { B: 'x' }, { escape: '`' })).toBe('a$B c\\d');
    expect(expand('"C:\\dir `"q`""', {}, { escape: '`' })).toBe('C:\\dir "q"');
  });

  it('keeps quotes as text for heredoc bodies (keepQuotes) but still expands', () => {
    expect(expand('echo "$A" \'$A\'\n', { A: 'x' }, { keepQuotes: true })).toBe('echo "x" \'x\'\n');
  });
});
