// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words are written ${VAR}, not template literals
import { readdirSync, readFileSync } from 'node:fs';
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import type { CopyInstruction, RunInstruction } from './ast.ts';
import {
  type LineArgs,
  lineArgs,
  type Node,
  parseDockerfile,
  parseDuration,
  parseHeredocWord,
  parseInstructions,
  scan,
} from './parse.ts';
import { splitWords } from './words.ts';

const fixtures = new URL('../../test/fixtures/buildkit/parser/', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, fixtures), 'utf8');

/** Go's strconv.Quote, for the characters these files hold. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\v') out += '\\v';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** BuildKit's Node.Dump for one instruction. */
function dump(node: Node, line: LineArgs): string {
  let out = node.keyword.toLowerCase();
  if (node.flags.length > 0) out += ` [${node.flags.map(goQuote).join(' ')}]`;
  if (line.sub) out += ` (${dump(line.sub.node, line.sub.line)})`;
  for (const arg of line.args) out += ` ${goQuote(arg)}`;
  return out.trim();
}

const positive = readdirSync(new URL('testfiles/', fixtures)).sort();

describe('parser: BuildKit testfiles (parser/testfiles/*/Dockerfile against result)', () => {
  it('has them all', () => {
    expect(positive.length).toBe(33);
  });
  it.each(positive)('%s', (name) => {
    const { nodes, escape: escapeChar } = scan(read(`testfiles/${name}/Dockerfile`), undefined);
    const got = nodes.map((node) => `(${dump(node, lineArgs(node, escapeChar))})\n`).join('');
    expect(got).toBe(read(`testfiles/${name}/result`));
  });
});

describe('parser: BuildKit testfiles-negative', () => {
  it.each(readdirSync(new URL('testfiles-negative/', fixtures)).sort())('%s is refused', (name) => {
    expect(() => parseDockerfile(read(`testfiles-negative/${name}/Dockerfile`))).toThrow(/^Dockerfile:\d+: /);
  });
});

describe('parser: line numbers (BuildKit TestParseIncludesLineNumbers)', () => {
  it('gives each instruction its first and last line', () => {
    const { nodes } = scan(read('testfile-line.Dockerfile'), undefined);
    expect(nodes.map((n) => [n.range.startLine, n.range.endLine])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });
});

describe('parser: continuation lines (BuildKit TestParseWarnsOnEmptyContinutationLine)', () => {
  it('skips empty and comment lines inside a continuation', () => {
    const { nodes } = scan(
      [
        '',
        'FROM alpine:3.6',
        '',
        'RUN valid \\',
        '    continuation',
        '',
        'RUN something \\',
        '',
        '    following \\',
        '',
        '    more',
        '',
        'RUN non-indented \\',
        '# this is a comment',
        '   after-comment',
        '',
        'RUN indented \\',
        '    # this is an indented comment',
        '    comment',
        '\t',
      ].join('\n'),
      undefined,
    );
    expect(nodes.map((n) => n.source)).toEqual([
      'FROM alpine:3.6',
      'RUN valid     continuation',
      'RUN something     following     more',
      'RUN non-indented    after-comment',
      'RUN indented     comment',
    ]);
  });
});

// BuildKit's TestParseExtractsHeredoc, line by line.
const heredocFile = `
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
	foo
	bar
INDENT

RUN <<-UNINDENT
	baz
	quux
UNINDENT

RUN <<-UNINDENT2
	baz
	quux
	UNINDENT2

RUN <<-EXPAND
	expand $NAME
EXPAND

RUN <<-'NOEXPAND'
	don't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<EOF /quotes
"foo"
'bar'
EOF

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\\'f
echo foo
eo'f

RUN <<'e'o\\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF
	`;

const doc = (name: string, content: string, expand = true, chomp = false) => ({
  name,
  content,
  expand,
  chomp,
});

describe('parser: heredocs (BuildKit TestParseExtractsHeredoc)', () => {
  const { nodes } = scan(heredocFile, undefined);
  it.each([
    [1, 'ENV NAME=me', []],
    [2, 'RUN ls', []],
    [3, 'USER <<INVALID', []],
    [4, 'INVALID', []],
    [5, 'RUN <<EMPTY', [doc('EMPTY', '')]],
    [6, 'RUN 3<<EMPTY2', [doc('EMPTY2', '')]],
    [7, 'RUN "<<NOHEREDOC"', []],
    [8, 'RUN <<INDENT', [doc('INDENT', '\tfoo\n\tbar\n')]],
    [9, 'RUN <<-UNINDENT', [doc('UNINDENT', '\tbaz\n\tquux\n', true, true)]],
    [10, 'RUN <<-UNINDENT2', [doc('UNINDENT2', '\tbaz\n\tquux\n', true, true)]],
    [11, 'RUN <<-EXPAND', [doc('EXPAND', '\texpand $NAME\n', true, true)]],
    [12, "RUN <<-'NOEXPAND'", [doc('NOEXPAND', "\tdon't expand $NAME\n", false, true)]],
    [13, 'RUN <<COPY', [doc('COPY', 'echo hello world\necho foo bar\n')]],
    [
      14,
      'RUN <<COMMENT',
      [doc('COMMENT', '# internal comment\necho hello world\necho foo bar # trailing comment\n')],
    ],
    [15, 'RUN --mount=type=cache,target=/foo <<MOUNT', [doc('MOUNT', 'echo hello\n')]],
    [16, 'COPY <<FILE1 <<FILE2 /dest', [doc('FILE1', 'content 1\n'), doc('FILE2', 'content 2\n')]],
    [17, 'COPY <<EOF /quotes', [doc('EOF', '"foo"\n\'bar\'\n')]],
    [18, 'COPY <<X <<Y /dest', [doc('X', 'Y\n'), doc('Y', 'X\n')]],
    [19, 'RUN <<COMPLEX python3', [doc('COMPLEX', "print('hello world')\n")]],
    [20, 'COPY <<file.txt /dest', [doc('file.txt', 'hello world\n')]],
    [21, "RUN <<eo'f'", [doc('eof', 'echo foo\n', false)]],
    [22, "RUN <<eo\\'f", [doc("eo'f", 'echo foo\n')]],
    [23, "RUN <<'e'o\\'f", [doc("eo'f", 'echo foo\n', false)]],
    [24, "RUN <<'one two'", [doc('one two', 'echo bar\n', false)]],
    [25, 'RUN <<$EOF', [doc('$EOF', '')]],
    [26, 'RUN <<  EOF', [doc('EOF', '')]],
    [27, 'RUN <<  EOF  > foo', [doc('EOF', '')]],
  ] as const)('node %i: %s', (index, source, heredocs) => {
    expect(nodes[index]?.source).toBe(source);
    expect(nodes[index]?.heredocs).toEqual(heredocs);
  });

  it('finds no heredocs in JSON form (TestParseJSONHeredoc)', () => {
    const json = scan('FROM alpine:3.6\nRUN ["whoami"]\nRUN ["<<EOF"]\nRUN ["<<\'EOF\'"]\n', undefined);
    expect(json.nodes.map((n) => n.heredocs)).toEqual([[], [], [], []]);
  });

  it('reads heredoc words as ParseHeredoc does (TestParseHeredocHelpers)', () => {
    for (const word of [
      '<<EOF',
      "<<'EOF'",
      '<<"EOF"',
      '<<-EOF',
      "<<-'EOF'",
      '<<-"EOF"',
      '<<EO"F"',
      '<< EOF',
      '<<- EOF',
    ]) {
      expect(parseHeredocWord(word, 1)?.name, word).toBe('EOF');
    }
    for (const word of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) {
      expect(parseHeredocWord(word, 1), word).toBeUndefined();
    }
    for (const word of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) {
      expect(() => parseHeredocWord(word, 1), word).toThrow();
    }
  });
});

describe('parseDockerfile', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    '# escape=\\',
    'ARG BASE=busybox',
    'ARG TAG',
    'FROM --platform=$BUILDPLATFORM ${BASE}:${TAG:-latest} AS Build',
    'MAINTAINER someone@example.com',
    'ENV PATH /opt/bin:$PATH',
    'ENV A=1 B="two words" C=\'$literal\'',
    'LABEL org.example.v="1" \\',
    '      # a comment inside the continuation',
    '      other=x',
    'RUN --mount=type=cache,target=/root/.cache --network=none make \\',
    '    && make install',
    'RUN ["/bin/sh", "-c", "echo exec"]',
    'RUN [not json',
    'RUN <<EOF',
    'echo one',
    'EOF',
    'RUN cat <<-A <<"B"',
    '\tfirst $X',
    '\tA',
    'second $X',
    'B',
    'FROM scratch',
    'COPY --from=build --chown=1:1 --chmod=0644 --link /out/a /out/b /dst/',
    'COPY <<EOF /etc/motd',
    'hello',
    'EOF',
    'ADD --checksum=sha256:abc https://example.com/x.tar /x',
    'WORKDIR /app',
    'USER 1000:1000',
    'EXPOSE 80/tcp 53/udp',
    'VOLUME ["/data", "/logs"]',
    'STOPSIGNAL SIGTERM',
    'HEALTHCHECK --interval=30s --retries=3 CMD wget -q -O- http://localhost/ || exit 1',
    'HEALTHCHECK NONE',
    'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
    'ONBUILD COPY . /src',
    'ONBUILD RUN <<EOF',
    'make',
    'EOF',
    'CMD ["app"]',
    'ENTRYPOINT exec app',
    '',
  ].join('\n');
  const parsed = parseDockerfile(text);
  const [first, second] = parsed.stages;

  it('reads directives, global ARGs and stages', () => {
    expect(parsed.directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '\\' });
    expect(parsed.escape).toBe('\\');
    expect(parsed.globalArgs.map((a) => a.pairs)).toEqual([
      [{ key: 'BASE', value: 'busybox' }],
      [{ key: 'TAG' }],
    ]);
    expect(parsed.stages.map((s) => s.index)).toEqual([0, 1]);
    expect(first?.from).toEqual({
      kind: 'FROM',
      source: 'FROM --platform=$BUILDPLATFORM ${BASE}:${TAG:-latest} AS Build',
      range: { startLine: 5, endLine: 5 },
      flags: [{ name: 'platform', value: '$BUILDPLATFORM' }],
      image: '${BASE}:${TAG:-latest}',
      alias: 'build',
    });
    expect(second?.from.image).toBe('scratch');
    expect(second?.from.alias).toBeUndefined();
  });

  it('reads the first stage', () => {
    const i = first?.instructions ?? [];
    expect(i.map((x) => x.kind)).toEqual([
      'MAINTAINER',
      'ENV',
      'ENV',
      'LABEL',
      'RUN',
      'RUN',
      'RUN',
      'RUN',
      'RUN',
    ]);
    expect(i[0]).toMatchObject({ value: 'someone@example.com' });
    expect(i[1]).toMatchObject({ pairs: [{ key: 'PATH', value: '/opt/bin:$PATH' }] });
    expect(i[2]).toMatchObject({
      pairs: [
        { key: 'A', value: '1' },
        { key: 'B', value: '"two words"' },
        { key: 'C', value: "'$literal'" },
      ],
    });
    expect(i[3]).toMatchObject({
      pairs: [
        { key: 'org.example.v', value: '"1"' },
        { key: 'other', value: 'x' },
      ],
      range: { startLine: 9, endLine: 11 },
    });
    expect(i[4]).toMatchObject({
      flags: [
        { name: 'mount', value: 'type=cache,target=/root/.cache' },
        { name: 'network', value: 'none' },
      ],
      command: { form: 'shell', text: 'make     && make install' },
      heredocs: [],
    });
    expect(i[5]).toMatchObject({ command: { form: 'exec', args: ['/bin/sh', '-c', 'echo exec'] } });
    expect(i[6]).toMatchObject({ command: { form: 'shell', text: '[not json' } });
    expect(i[7]).toMatchObject({
      command: { form: 'shell', text: '<<EOF' },
      heredocs: [{ name: 'EOF', content: 'echo one\n', expand: true }],
      range: { startLine: 16, endLine: 18 },
    });
    expect((i[8] as RunInstruction).heredocs).toEqual([
      { name: 'A', content: 'first $X\n', expand: true },
      { name: 'B', content: 'second $X\n', expand: false },
    ]);
  });

  it('reads the second stage', () => {
    const i = second?.instructions ?? [];
    expect(i.map((x) => x.kind)).toEqual([
      'COPY',
      'COPY',
      'ADD',
      'WORKDIR',
      'USER',
      'EXPOSE',
      'VOLUME',
      'STOPSIGNAL',
      'HEALTHCHECK',
      'HEALTHCHECK',
      'SHELL',
      'ONBUILD',
      'ONBUILD',
      'CMD',
      'ENTRYPOINT',
    ]);
    expect(i[0]).toMatchObject({
      flags: [
        { name: 'from', value: 'build' },
        { name: 'chown', value: '1:1' },
        { name: 'chmod', value: '0644' },
        { name: 'link', value: true },
      ],
      sources: ['/out/a', '/out/b'],
      destination: '/dst/',
      heredocs: [],
    });
    expect(i[1] as CopyInstruction).toMatchObject({
      sources: [],
      destination: '/etc/motd',
      heredocs: [{ name: 'EOF', content: 'hello\n', expand: true }],
    });
    expect(i[2]).toMatchObject({
      flags: [{ name: 'checksum', value: 'sha256:abc' }],
      sources: ['https://example.com/x.tar'],
    });
    expect(i[3]).toMatchObject({ value: '/app' });
    expect(i[4]).toMatchObject({ value: '1000:1000' });
    expect(i[5]).toMatchObject({ words: ['80/tcp', '53/udp'] });
    expect(i[6]).toMatchObject({ words: ['/data', '/logs'] });
    expect(i[7]).toMatchObject({ value: 'SIGTERM' });
    expect(i[8]).toMatchObject({
      flags: [
        { name: 'interval', value: '30s' },
        { name: 'retries', value: '3' },
      ],
      command: { form: 'shell', text: 'wget -q -O- http://localhost/ || exit 1' },
    });
    expect(i[9]).toEqual({
      kind: 'HEALTHCHECK',
      source: 'HEALTHCHECK NONE',
      range: { startLine: 36, endLine: 36 },
      flags: [],
    });
    expect(i[10]).toMatchObject({ command: { form: 'exec', args: ['/bin/ash', '-eo', 'pipefail', '-c'] } });
    expect(i[11]).toMatchObject({ trigger: 'COPY . /src' });
    expect(i[12]).toMatchObject({ trigger: 'RUN <<EOF\nmake\nEOF', range: { startLine: 39, endLine: 41 } });
    expect(i[13]).toMatchObject({ command: { form: 'exec', args: ['app'] } });
    expect(i[14]).toMatchObject({ command: { form: 'shell', text: 'exec app' } });
  });

  it('takes the backtick escape directive, for continuations and words', () => {
    const d = parseDockerfile('# escape=`\nFROM windows\nRUN dir c:\\ `\n  /b\nENV A=x` y\n');
    expect(d.escape).toBe('`');
    expect(d.stages[0]?.instructions.map((i) => i.source)).toEqual(['RUN dir c:\\   /b', 'ENV A=x` y']);
    expect(d.stages[0]?.instructions[1]).toMatchObject({ pairs: [{ key: 'A', value: 'x` y' }] });
  });

  it('reads directives only at the very top', () => {
    expect(parseDockerfile('# hello\n# escape=`\nFROM x\n').directives).toEqual({});
    expect(parseDockerfile('\n# escape=`\nFROM x\n').escape).toBe('\\');
    expect(parseDockerfile('FROM x\n# escape=`\n').directives).toEqual({});
    expect(parseDockerfile('\uFEFF# Syntax = a/b:1\n#check=skip=all\nFROM x').directives).toEqual({
      syntax: 'a/b:1',
      check: 'skip=all',
    });
  });

  it('keeps an escaped escape before a line end as text, and ends at EOF inside a continuation', () => {
    const d = parseDockerfile('FROM x\nRUN echo \\\\\nRUN a \\');
    expect(d.stages[0]?.instructions.map((i) => i.source)).toEqual(['RUN echo \\\\', 'RUN a']);
  });

  it('gives parseInstructions for ONBUILD triggers and commit --change values', () => {
    const list = parseInstructions('ENV A=1\nRUN <<EOF\nmake\nEOF\nCMD ["sh"]');
    expect(list.map((i) => i.kind)).toEqual(['ENV', 'RUN', 'CMD']);
    expect((list[1] as RunInstruction).heredocs).toEqual([{ name: 'EOF', content: 'make\n', expand: true }]);
    expect(() => parseInstructions('FROM x')).toThrow('instructions:1: FROM is not allowed here');
  });
});

describe('parseDockerfile: bad input', () => {
  const fails = (text: string, message: string | RegExp, file?: string) => {
    let error: unknown;
    try {
      parseDockerfile(text, file === undefined ? undefined : { file });
    } catch (e) {
      error = e;
    }
    expect(isInvalidArgument(error), String(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  };

  it('names file:line for an unknown instruction, with a suggestion', () => {
    fails(
      'FROM x\n\nCPY a b\n',
      'Containerfile:3: unknown instruction: CPY (did you mean COPY?)',
      'Containerfile',
    );
    fails('FROM x\nFOOBARBAZ\n', /^Dockerfile:2: unknown instruction: FOOBARBAZ$/);
  });

  it('refuses instructions before the first FROM, other than ARG', () => {
    fails(
      'ARG A\nRUN true\nFROM x\n',
      'Dockerfile:2: RUN before the first FROM (only ARG may come before FROM)',
    );
    fails('ARG A\n', 'Dockerfile:1: the Dockerfile has no FROM instruction');
  });

  it('refuses an empty Dockerfile, or one of only comments', () => {
    fails('', 'Dockerfile:0: the Dockerfile has no instructions');
    fails('# only\n\n# comments\n', 'Dockerfile:3: the Dockerfile has no instructions');
  });

  it('refuses ONBUILD ONBUILD, ONBUILD FROM, ONBUILD MAINTAINER and a bad trigger', () => {
    fails(
      'FROM x\nONBUILD ONBUILD RUN a\n',
      "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    );
    fails('FROM x\nONBUILD FROM y\n', "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
    fails('FROM x\nonbuild maintainer me\n', "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
    fails('FROM x\nONBUILD RUNN a\n', 'Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)');
    fails('FROM x\nONBUILD\n', 'Dockerfile:2: ONBUILD requires at least one argument');
  });

  it('refuses an unterminated heredoc', () => {
    fails('FROM x\nRUN <<EOF\necho\n', 'Dockerfile:2: unterminated heredoc "EOF"');
    fails('FROM x\nCOPY <<A <<B /d\na\nA\n', 'Dockerfile:2: unterminated heredoc "B"');
  });

  it('refuses flags the instruction does not take, and bad flag values', () => {
    fails('FROM x\nCOPY --form=a b c\n', 'Dockerfile:2: unknown flag: --form (COPY takes --from, --chown');
    fails('FROM x\nRUN --from=a b\n', 'Dockerfile:2: unknown flag: --from (RUN takes --mount');
    fails('FROM x\nENV --x=1 A=b\n', 'Dockerfile:2: unknown flag: --x (ENV takes no flags)');
    fails('FROM x\nCOPY --from a b\n', 'Dockerfile:2: missing a value on flag: --from');
    fails(
      'FROM x\nCOPY --link=maybe a b\n',
      'Dockerfile:2: expecting boolean value for flag --link, not: maybe',
    );
    fails('FROM x\nCOPY --from=a --from=b c d\n', 'Dockerfile:2: duplicate flag specified: --from');
    fails(
      'FROM x\nHEALTHCHECK --interval=5 CMD true\n',
      'Dockerfile:2: HEALTHCHECK --interval: invalid duration "5"',
    );
    fails('FROM x\nHEALTHCHECK --retries=-1 CMD true\n', 'Dockerfile:2: --retries cannot be negative (-1)');
    fails(
      'FROM x\nHEALTHCHECK --interval=5s NONE\n',
      'Dockerfile:2: unknown flag: --interval (HEALTHCHECK NONE takes no flags)',
    );
  });

  it('refuses wrong argument counts and forms', () => {
    fails('FROM\n', 'Dockerfile:1: FROM requires either one or three arguments');
    fails('FROM a AS 1b\n', 'Dockerfile:1: invalid name for build stage: "1b"');
    fails('FROM x\nCOPY a\n', 'Dockerfile:2: COPY requires at least two arguments');
    fails('FROM x\nCOPY a <<EOF\nEOF\n', 'Dockerfile:2: COPY cannot accept a heredoc as a destination');
    fails('FROM x\nENV A\n', 'Dockerfile:2: ENV must have two arguments');
    fails('FROM x\nENV A=1 B\n', `Dockerfile:2: Syntax error - can't find = in "B"`);
    fails('FROM x\nLABEL =x\n', 'Dockerfile:2: LABEL names can not be blank');
    fails('FROM x\nARG\n', 'Dockerfile:2: ARG requires at least one argument');
    fails('FROM x\nSHELL /bin/sh -c\n', 'Dockerfile:2: SHELL requires the arguments to be in JSON form');
    fails(
      'FROM x\nCMD ["a", 1]\n',
      'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only',
    );
    fails('FROM x\nHEALTHCHECK NONE x\n', 'Dockerfile:2: HEALTHCHECK NONE takes no arguments');
    fails('FROM x\nHEALTHCHECK CMD\n', 'Dockerfile:2: Missing command after HEALTHCHECK CMD');
    fails(
      'FROM x\nHEALTHCHECK CONNECT TCP 7000\n',
      'Dockerfile:2: Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
    );
    fails('FROM x\nWORKDIR\n', 'Dockerfile:2: WORKDIR requires exactly one argument');
    fails('FROM x\nVOLUME [""]\n', 'Dockerfile:2: VOLUME specified can not be an empty string');
  });

  it('takes a BOM inside the file as text, not space, as BuildKit (Go unicode.IsSpace) does', () => {
    fails('FROM x\n\uFEFFRUN a\n', /^Dockerfile:2: unknown instruction: \uFEFFRUN/);
    expect(parseDockerfile('FROM x\nRUN a\u0085\n').stages[0]?.instructions[0]?.source).toBe('RUN a');
  });

  it('refuses a repeated or bad directive', () => {
    fails('# escape=`\n# escape=\\\nFROM x\n', 'Dockerfile:2: only one escape parser directive can be used');
    fails('# escape=x\nFROM x\n', "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
  });
});

describe('parseDuration', () => {
  it('reads Go durations in nanoseconds', () => {
    expect(parseDuration('30s')).toBe(30e9);
    expect(parseDuration('1m30s')).toBe(90e9);
    expect(parseDuration('1.5h')).toBe(5400e9);
    expect(parseDuration('250ms')).toBe(250e6);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('5')).toThrow('invalid duration "5"');
    expect(() => parseDuration('s')).toThrow();
  });
});

describe('instructions (BuildKit instructions/parse_test.go and parser/*_test.go tables)', () => {
  const error = (text: string): string => {
    try {
      parseInstructions(text);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it.each(['MAINTAINER', 'WORKDIR', 'USER', 'STOPSIGNAL'])('%s requires exactly one argument', (kind) => {
    expect(error(kind)).toBe(`instructions:1: ${kind} requires exactly one argument`);
  });
  it.each(['ENV', 'LABEL', 'ONBUILD', 'HEALTHCHECK', 'EXPOSE', 'VOLUME'])(
    '%s requires at least one argument',
    (kind) => {
      expect(error(kind)).toContain(`instructions:1: ${kind} requires at least one argument`);
    },
  );
  it.each(['ADD', 'COPY'])('%s requires a destination', (kind) => {
    expect(error(`${kind} arg1`)).toBe(
      `instructions:1: ${kind} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  });
  it.each([
    ['COPY\t\n\t\tquux \\\n      bar', 'COPY requires at least two arguments'],
    ['ONBUILD FROM scratch', "FROM isn't allowed as an ONBUILD trigger"],
    ['MAINTAINER --boo joe@example.com', 'unknown flag: --boo'],
    ['ONBUILD ONBUILD RUN touch foobar', "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
    ['FOO bar', 'unknown instruction: FOO'],
    ['foo bar', 'unknown instruction: foo'],
  ])('TestErrorCases: %j → %s', (text, message) => {
    expect(error(text)).toContain(message);
  });
  it('TestParseOptInterval: under 1ms is refused, 0ms and 1ms are not', () => {
    expect(error('HEALTHCHECK --interval=50ns CMD true')).toContain('cannot be less than 1ms');
    expect(error('HEALTHCHECK --interval=0ms CMD true')).toBe('no error');
    expect(error('HEALTHCHECK --interval=1ms CMD true')).toBe('no error');
  });
  it('TestHealthCheckCmd: CMD in shell form', () => {
    expect(parseInstructions('HEALTHCHECK CMD hello world')[0]).toMatchObject({
      command: { form: 'shell', text: 'hello world' },
    });
  });

  // parser/json_test.go
  it.each([
    ['[]', []],
    ['[""]', ['']],
    ['["a"]', ['a']],
    ['["a","b"]', ['a', 'b']],
    ['[ "a", "b" ]', ['a', 'b']],
    ['[\t"a",\t"b"\t]', ['a', 'b']],
    ['\t[\t"a",\t"b"\t]\t', ['a', 'b']],
    [
      '["abc 123", "♥", "☃", "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000"]',
      ['abc 123', '♥', '☃', '" \\ / \b \f \n \r \t \u0000'],
    ],
  ])('valid JSON array of strings %j', (json, args) => {
    expect(parseInstructions(`CMD ${json}`)[0]).toMatchObject({ command: { form: 'exec', args } });
  });
  it.each([
    '["a",42,"b"]',
    '["a",123.456,"b"]',
    '["a",{},"b"]',
    '["a",{"c": "d"},"b"]',
    '["a",["c"],"b"]',
    '["a",true,"b"]',
    '["a",false,"b"]',
    '["a",null,"b"]',
  ])('JSON array not of strings %s is refused', (json) => {
    expect(error(`CMD ${json}`)).toContain('arrays must be comprised of strings only');
  });

  // parser/parser_test.go TestParseWords
  it.each([
    ['foo', ['foo']],
    ['foo bar', ['foo', 'bar']],
    ['foo\\ bar', ['foo\\ bar']],
    ['foo=bar', ['foo=bar']],
    ["foo bar 'abc xyz'", ['foo', 'bar', "'abc xyz'"]],
    ['foo bar "abc xyz"', ['foo', 'bar', '"abc xyz"']],
    ['àöû', ['àöû']],
    ['föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
  ])('splitWords(%j)', (input, words) => {
    expect(splitWords(input, '\\')).toEqual(words);
  });

  // parser/line_parsers_test.go
  it('reads the legacy and the K=V forms of LABEL, and refuses ENV without a value', () => {
    expect(parseInstructions('LABEL foo bar')[0]).toMatchObject({ pairs: [{ key: 'foo', value: 'bar' }] });
    expect(parseInstructions('LABEL foo=bar thing=star')[0]).toMatchObject({
      pairs: [
        { key: 'foo', value: 'bar' },
        { key: 'thing', value: 'star' },
      ],
    });
    expect(error('ENV foo')).toContain('ENV must have two arguments');
  });
});
