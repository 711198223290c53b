/**
 * The Dockerfile parser: text → {@link Dockerfile}, following BuildKit's frontend/dockerfile/parser
 * (lines, directives, continuations, heredocs) and instructions/parse.go (arguments, flags, stages).
 * See docs/decisions/180-own-dockerfile-parser.md.
 */
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import type {
  CommandForm,
  Dockerfile,
  FromInstruction,
  Heredoc,
  Instruction,
  InstructionFlag,
  KeyValueInstruction,
  SourceRange,
  Stage,
} from './ast.ts';
import { lexWord } from './expand.ts';
import { splitCommand, splitWhitespace, splitWords, trimSpace, trimSpaceStart } from './words.ts';

/** Options of {@link parseDockerfile}. */
export interface ParseOptions {
  /** The file's name in error messages; `Dockerfile` by default. */
  file?: string | undefined;
}

/** Options of {@link parseInstructions}. */
export interface ParseInstructionsOptions extends ParseOptions {
  /** The escape character; `\` by default. */
  escape?: '\\' | '`' | undefined;
}

type Escape = '\\' | '`';

/** A heredoc as found on a line, before its body is read. @internal */
export interface HeredocHead {
  name: string;
  expand: boolean;
  chomp: boolean;
}

/** A heredoc with its body as read (tabs not yet stripped). @internal */
export interface RawHeredoc extends HeredocHead {
  content: string;
}

/** One instruction as the line scanner gives it. @internal */
export interface Node {
  keyword: string;
  flags: string[];
  rest: string;
  source: string;
  range: SourceRange;
  heredocs: RawHeredoc[];
}

type FlagKind = 'string' | 'strings' | 'bool';

const FLAGS: Readonly<Record<string, Readonly<Record<string, FlagKind>>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  COPY: {
    from: 'string',
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    exclude: 'strings',
    parents: 'bool',
  },
  ADD: {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    checksum: 'string',
    unpack: 'bool',
    exclude: 'strings',
  },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

const INSTRUCTIONS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;

/** A parse failure at a place; turned into an InvalidArgumentError naming file:line. */
class DockerfileSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

const fail = (message: string, line: number): never => {
  throw new DockerfileSyntaxError(message, line);
};

// ---------------------------------------------------------------------------------------------
// Lines, directives, continuations, heredocs (BuildKit parser.go)

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC = /^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const isComment = (s: string): boolean => trimSpaceStart(s).startsWith('#');

/** Splits text into lines that keep their `\n`, as BuildKit's scanLines. */
function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Parser directives: only comment lines at the very top, each once (BuildKit's DirectiveParser). */
class Directives {
  readonly values: Record<string, string> = {};
  escape: Escape = '\\';
  private done = false;
  private continuation = continuationRegExp('\\');

  /** Looks at one line (leading space already trimmed for a first line); true if it was a directive. */
  take(line: string, lineNumber: number): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const match = DIRECTIVE.exec(trimSpaceStart(line.slice(1)));
    const key = match?.[1]?.toLowerCase();
    if (match === null || key === undefined || !KNOWN_DIRECTIVES.has(key)) {
      this.done = true;
      return false;
    }
    if (Object.hasOwn(this.values, key)) fail(`only one ${key} parser directive can be used`, lineNumber);
    const value = match[2] as string;
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') {
        fail(`invalid escape token '${value}' does not match \` or \\`, lineNumber);
      }
      this.escape = value as Escape;
      this.continuation = continuationRegExp(this.escape);
    }
    this.values[key] = value;
    return true;
  }

  /** Removes a trailing continuation character; false when the line ends the instruction. */
  trimContinuation(line: string): { line: string; continues: boolean } {
    if (!this.continuation.test(line)) return { line, continues: false };
    return { line: line.replace(this.continuation, '$1'), continues: true };
  }
}

// The escape character is a continuation when it is the last non-blank character and not itself
// escaped (BuildKit: `([^\\])\\[ \t]*$|^\\[ \t]*$`).
function continuationRegExp(escapeChar: Escape): RegExp {
  const e = escapeChar === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Finds the heredocs a line opens (BuildKit's heredocsFromLine). */
function heredocsFromLine(line: string, lineNumber: number): HeredocHead[] {
  let words: string[];
  try {
    words = lexWord(line, {}, { escape: '\\', rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    words = [];
  }
  const heads: HeredocHead[] = [];
  for (const word of words) {
    const head = parseHeredocWord(word, lineNumber);
    if (head) heads.push(head);
  }
  return heads;
}

/** Reads `<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF` (BuildKit's ParseHeredoc); undefined if not one. @internal */
export function parseHeredocWord(word: string, lineNumber: number): HeredocHead | undefined {
  const match = HEREDOC.exec(word);
  if (match === null) return undefined;
  const rest = match[3] as string;
  if (rest === '') return undefined;
  const lex = (rawQuotes: boolean): string[] => {
    try {
      return lexWord(rest, {}, { escape: '\\', rawQuotes, skipUnsetEnv: true }).words;
    } catch (error) {
      return fail(`bad heredoc ${JSON.stringify(word)}: ${(error as Error).message}`, lineNumber);
    }
  };
  const words = lex(false);
  if (words.length !== 1) return undefined;
  const raw = lex(true);
  const name = words[0] as string;
  const quotes = (s: string): number => s.split(/['"]/).length - 1;
  // Quotes anywhere in the delimiter (`<<"EOF"`, `<<E'O'F`) mean the body is taken literally.
  return { name, chomp: match[2] === '-', expand: quotes(name) === quotes(raw[0] ?? '') };
}

/** Cuts the text into instruction nodes and reads the directives, as BuildKit's parser.Parse. @internal */
export function scan(
  text: string,
  escapeChar: Escape | undefined,
): { directives: Record<string, string>; escape: Escape; nodes: Node[]; lines: number } {
  const directives = new Directives();
  if (escapeChar !== undefined) directives.take(`# escape=${escapeChar}`, 0);
  const lines = splitLines(text);
  const nodes: Node[] = [];
  let i = 0;
  let current = 0;
  const processLine = (raw: string, trimLeft: boolean): string => {
    let line = trimNewline(raw);
    if (trimLeft) line = trimSpaceStart(line);
    directives.take(line, current + 1);
    return isComment(line) ? '' : line;
  };
  while (i < lines.length) {
    let raw = lines[i++] as string;
    if (current === 0) raw = raw.replace(/^\uFEFF/, '');
    const first = processLine(raw, true);
    current++;
    const startLine = current;
    let { line, continues } = directives.trimContinuation(first);
    if (!continues && line.length === 0) continue;
    let joined = line;
    while (continues && i < lines.length) {
      raw = lines[i++] as string;
      const next = processLine(raw, false);
      current++;
      // Comment lines (processLine made them empty) and empty lines inside a continuation are
      // skipped (BuildKit warns about the empty ones; they will become errors there one day).
      if (trimSpaceStart(next).length === 0) continue;
      ({ line, continues } = directives.trimContinuation(next));
      joined += line;
    }
    const { keyword, flags, rest } = splitCommand(joined, directives.escape);
    const node: Node = {
      keyword,
      flags,
      rest,
      source: trimSpace(joined),
      range: { startLine, endLine: current },
      heredocs: [],
    };
    if (joined.includes('<<') && takesHeredocs(keyword, rest, directives.escape)) {
      for (const head of heredocsFromLine(joined, startLine)) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const bodyLine = lines[i++] as string;
          current++;
          let candidate = trimNewline(bodyLine);
          if (head.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === head.name) {
            terminated = true;
            break;
          }
          content += bodyLine;
        }
        if (!terminated)
          fail(
            `unterminated heredoc ${JSON.stringify(head.name)} (no line "${head.name}" ends it)`,
            startLine,
          );
        node.heredocs.push({ ...head, content });
      }
      node.range = { startLine, endLine: current };
    }
    nodes.push(node);
  }
  return { directives: directives.values, escape: directives.escape, nodes, lines: current };
}

/** Whether an instruction (or ONBUILD's trigger) can open heredocs: RUN, COPY, ADD, not in JSON form. */
function takesHeredocs(keyword: string, rest: string, escapeChar: Escape): boolean {
  if (keyword.toUpperCase() === 'ONBUILD') {
    const sub = splitCommand(rest, escapeChar);
    return takesHeredocs(sub.keyword, sub.rest, escapeChar);
  }
  if (!['RUN', 'COPY', 'ADD'].includes(keyword.toUpperCase())) return false;
  try {
    return parseJson(rest) === undefined;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments (BuildKit line_parsers.go and instructions/parse.go)

/** The strings of a JSON array, undefined when `rest` is not JSON; throws when it is JSON but not strings. */
function parseJson(rest: string, line = 0): string[] | undefined {
  const trimmed = trimSpaceStart(rest);
  if (!trimmed.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) {
    fail('when using JSON array syntax, arrays must be comprised of strings only', line);
  }
  return value as string[];
}

/** What BuildKit's line parsers make of an instruction's arguments (its parser.Node's `Next` list). @internal */
export interface LineArgs {
  /** The arguments: ENV and LABEL give triples key, value, separator (`=`, or `` for the legacy form). */
  args: string[];
  /** Whether they were a JSON array. */
  json: boolean;
  /** ONBUILD's trigger. */
  sub?: { node: Node; line: LineArgs } | undefined;
}

/** BuildKit's parseMaybeJSON: a JSON array of strings, or the text as one argument. */
function maybeJson(rest: string, line: number): LineArgs {
  if (rest === '') return { args: [], json: false };
  const args = parseJson(rest, line);
  return args === undefined ? { args: [rest], json: false } : { args, json: true };
}

/** BuildKit's parseMaybeJSONToList: a JSON array of strings, or whitespace-separated words. */
function maybeJsonList(rest: string, line: number): LineArgs {
  const args = parseJson(rest, line);
  if (args !== undefined) return { args, json: true };
  return { args: rest === '' ? [] : splitWhitespace(rest), json: false };
}

/** BuildKit's parseNameVal: `K=V K2="v 2"`, or the legacy `K some value`. */
function nameValues(kind: string, rest: string, escapeChar: string, line: number): string[] {
  const words = splitWords(rest, escapeChar);
  if (words.length === 0) return [];
  if (!(words[0] as string).includes('=')) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2)
      fail(`${kind} must have two arguments (${kind} name=value, or the legacy ${kind} name value)`, line);
    return [parts[0] as string, parts[1] as string, ''];
  }
  return words.flatMap((word) => {
    const eq = word.indexOf('=');
    if (eq < 0)
      fail(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`, line);
    return [word.slice(0, eq), word.slice(eq + 1), '='];
  });
}

/** BuildKit's dispatch table of line parsers (parser.go, line_parsers.go). @internal */
export function lineArgs(node: Node, escapeChar: Escape): LineArgs {
  const { rest } = node;
  const line = node.range.startLine;
  switch (node.keyword.toUpperCase()) {
    case 'ADD':
    case 'COPY':
    case 'VOLUME':
      return maybeJsonList(rest, line);
    case 'CMD':
    case 'ENTRYPOINT':
    case 'RUN':
    case 'SHELL':
      return maybeJson(rest, line);
    case 'ARG':
      return { args: splitWords(rest, escapeChar), json: false };
    case 'ENV':
    case 'LABEL':
      return { args: nameValues(node.keyword.toUpperCase(), rest, escapeChar, line), json: false };
    case 'EXPOSE':
    case 'FROM':
      return { args: rest === '' ? [] : splitWhitespace(rest), json: false };
    case 'MAINTAINER':
    case 'STOPSIGNAL':
    case 'USER':
    case 'WORKDIR':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'HEALTHCHECK': {
      const type = /^[^\t\n\v\f\r \u0085\u00a0]*/.exec(rest)?.[0] ?? '';
      if (type === '') return { args: [], json: false };
      const command = maybeJson(trimSpaceStart(rest.slice(type.length)), line);
      return { args: [type, ...command.args], json: command.json };
    }
    case 'ONBUILD': {
      if (rest === '') return { args: [], json: false };
      const sub: Node = { ...node, ...splitCommand(rest, escapeChar), source: rest };
      return { args: [], json: false, sub: { node: sub, line: lineArgs(sub, escapeChar) } };
    }
    default:
      // BuildKit's parseIgnore: an unknown instruction keeps one empty argument (refused later).
      return { args: [''], json: false };
  }
}

/** Checks the flags against what the instruction takes (BuildKit's BFlags.Parse). */
function parseFlags(kind: string, words: string[], line: number): InstructionFlag[] {
  const known = FLAGS[kind] ?? {};
  const seen = new Set<string>();
  const flags: InstructionFlag[] = [];
  for (const word of words) {
    if (!word.startsWith('--')) fail(`${kind}: a flag should start with --: ${word}`, line);
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    const type = Object.hasOwn(known, name) ? known[name] : undefined;
    if (type === undefined) {
      const allowed = Object.keys(known);
      fail(
        `unknown flag: --${name} (${kind} ${allowed.length ? `takes ${allowed.map((f) => `--${f}`).join(', ')}` : 'takes no flags'})`,
        line,
      );
    }
    if (seen.has(name) && type !== 'strings') fail(`duplicate flag specified: --${name}`, line);
    seen.add(name);
    if (type === 'bool') {
      if (value === '') fail(`missing a value on flag: --${name}`, line);
      const lower = value?.toLowerCase();
      if (lower !== undefined && lower !== 'true' && lower !== 'false') {
        fail(`expecting boolean value for flag --${name}, not: ${value}`, line);
      }
      flags.push({ name, value: lower === 'false' ? 'false' : true });
    } else {
      if (value === undefined) fail(`missing a value on flag: --${name}`, line);
      flags.push({ name, value: value as string });
    }
  }
  return flags;
}

const GO_DURATION = /^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Reads a Go duration (`30s`, `1m30s`, `1.5h`, `0`), as HEALTHCHECK's `--interval`, `--timeout`,
 * `--start-period` and `--start-interval` take, in nanoseconds (the image config's unit).
 * Throws InvalidArgumentError for anything else.
 *
 * @example
 * ```ts
 * parseDuration('1m30s'); // 90_000_000_000
 * ```
 */
export function parseDuration(text: string): number {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (!GO_DURATION.test(text)) throw new InvalidArgumentError(`invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const m of text.matchAll(/([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (UNIT_NS[m[2] as string] as number);
  }
  return Math.round(text.startsWith('-') ? -total : total);
}

function checkHealthcheckFlags(flags: InstructionFlag[], line: number): void {
  for (const { name, value } of flags) {
    const text = String(value);
    if (name === 'retries') {
      if (!/^[-+]?[0-9]+$/.test(text))
        fail(`HEALTHCHECK --retries must be a whole number, not ${JSON.stringify(text)}`, line);
      if (Number(text) < 0) fail(`--retries cannot be negative (${Number(text)})`, line);
      continue;
    }
    if (text === '') continue;
    let ns = 0;
    try {
      ns = parseDuration(text);
    } catch {
      fail(
        `HEALTHCHECK --${name}: invalid duration ${JSON.stringify(text)} (use Go's form: 30s, 1m30s)`,
        line,
      );
    }
    if (ns !== 0 && ns < 1e6) fail(`Interval "${name}" cannot be less than 1ms`, line);
  }
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Suggests a known instruction for a misspelt one. */
function suggest(keyword: string): string {
  const upper = keyword.toUpperCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of INSTRUCTIONS) {
    const d = editDistance(upper, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/** Turns one node into a typed instruction (BuildKit's instructions.ParseInstruction). */
function toInstruction(node: Node, escapeChar: Escape): Instruction | FromInstruction {
  const kind = node.keyword.toUpperCase();
  const line = node.range.startLine;
  const base = { source: node.source, range: node.range };
  if (!(INSTRUCTIONS as readonly string[]).includes(kind)) {
    return fail(`unknown instruction: ${node.keyword}${suggest(node.keyword)}`, line);
  }
  const { args, json, sub } = lineArgs(node, escapeChar);
  const flags = (k = kind): InstructionFlag[] => parseFlags(k, node.flags, line);
  const command = (words: string[]): CommandForm =>
    json ? { form: 'exec', args: words } : { form: 'shell', text: words[0] ?? '' };
  const chomped = (h: RawHeredoc): Heredoc => ({
    name: h.name,
    content: h.chomp ? h.content.replace(/^\t+/gm, '') : h.content,
    expand: h.expand,
  });
  const atLeastOne = (): void => {
    if (args.length === 0) fail(`${kind} requires at least one argument`, line);
  };
  const exactlyOne = (): string => {
    if (args.length !== 1) fail(`${kind} requires exactly one argument`, line);
    return args[0] as string;
  };
  switch (kind) {
    case 'FROM': {
      if (args.length === 3 && (args[1] as string).toLowerCase() === 'as') {
        const alias = (args[2] as string).toLowerCase();
        if (!STAGE_NAME.test(alias)) {
          fail(
            `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
            line,
          );
        }
        return { kind, ...base, flags: flags(), image: args[0] as string, alias };
      }
      if (args.length !== 1) fail('FROM requires either one or three arguments (FROM image [AS name])', line);
      return { kind, ...base, flags: flags(), image: args[0] as string };
    }
    case 'RUN':
      atLeastOne();
      return { kind, ...base, flags: flags(), command: command(args), heredocs: node.heredocs.map(chomped) };
    case 'CMD':
    case 'ENTRYPOINT':
      return { kind, ...base, flags: flags(), command: command(args) };
    case 'SHELL':
      atLeastOne();
      if (!json) fail('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]', line);
      return { kind, ...base, flags: flags(), command: command(args) };
    case 'COPY':
    case 'ADD': {
      if (args.length < 2) {
        fail(
          `${kind} requires at least two arguments, but only one was provided. Destination could not be determined`,
          line,
        );
      }
      const parsedFlags = flags();
      const destination = args.at(-1) as string;
      if (parseHeredocWord(destination, line)) fail(`${kind} cannot accept a heredoc as a destination`, line);
      const byName = new Map(node.heredocs.map((h) => [h.name, h]));
      const sources: string[] = [];
      const heredocs: Heredoc[] = [];
      for (const source of args.slice(0, -1)) {
        const head = parseHeredocWord(source, line);
        if (head === undefined) sources.push(source);
        else heredocs.push(chomped({ ...head, content: byName.get(head.name)?.content ?? '' }));
      }
      return { kind, ...base, flags: parsedFlags, sources, destination, heredocs };
    }
    case 'ENV':
    case 'LABEL': {
      atLeastOne();
      const parsedFlags = flags();
      const pairs: { key: string; value: string }[] = [];
      for (let i = 0; i < args.length; i += 3) {
        const key = args[i] as string;
        if (key === '') fail(`${kind} names can not be blank`, line);
        pairs.push({ key, value: args[i + 1] as string });
      }
      return { kind, ...base, flags: parsedFlags, pairs };
    }
    case 'ARG': {
      atLeastOne();
      const pairs = args.map((word) => {
        const eq = word.indexOf('=');
        if (eq === 0) fail('ARG names can not be blank', line);
        return eq < 0 ? { key: word } : { key: word.slice(0, eq), value: word.slice(eq + 1) };
      });
      return { kind, ...base, flags: flags(), pairs };
    }
    case 'EXPOSE':
      atLeastOne();
      return { kind, ...base, flags: flags(), words: args };
    case 'VOLUME': {
      atLeastOne();
      const words = args.map(trimSpace);
      if (words.includes('')) fail('VOLUME specified can not be an empty string', line);
      return { kind, ...base, flags: flags(), words };
    }
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return { kind, ...base, flags: flags(), value: exactlyOne() };
    case 'HEALTHCHECK': {
      if (args.length === 0)
        fail('HEALTHCHECK requires at least one argument (NONE, or CMD and a command)', line);
      const type = (args[0] as string).toUpperCase();
      if (type === 'NONE') {
        if (args.length > 1) fail('HEALTHCHECK NONE takes no arguments', line);
        return { kind, ...base, flags: flags('HEALTHCHECK NONE') };
      }
      const parsedFlags = flags();
      if (type !== 'CMD') fail(`Unknown type ${JSON.stringify(args[0])} in HEALTHCHECK (try CMD)`, line);
      if (args.length === 1 || (!json && args[1] === '')) fail('Missing command after HEALTHCHECK CMD', line);
      checkHealthcheckFlags(parsedFlags, line);
      return { kind, ...base, flags: parsedFlags, command: command(args.slice(1)) };
    }
    case 'ONBUILD': {
      if (sub === undefined) return fail('ONBUILD requires at least one argument', line);
      const parsedFlags = flags();
      const trigger = sub.node.keyword.toUpperCase();
      if (trigger === 'ONBUILD') fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", line);
      if (trigger === 'FROM' || trigger === 'MAINTAINER')
        fail(`${trigger} isn't allowed as an ONBUILD trigger`, line);
      // The trigger must itself be a valid instruction (BuildKit finds out only when it fires).
      toInstruction(sub.node, escapeChar);
      let text = node.source.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
      for (const h of node.heredocs) text += `\n${h.content}${h.name}`;
      return { kind, ...base, flags: parsedFlags, trigger: text };
    }
  }
  return fail(`unknown instruction: ${node.keyword}`, line);
}

function located<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof DockerfileSyntaxError) {
      throw new InvalidArgumentError(`${file}:${error.line}: ${error.message}`, {
        details: { file, line: error.line },
      });
    }
    throw error;
  }
}

/**
 * Parses a Dockerfile (Containerfile) as BuildKit does: parser directives (`# syntax=`,
 * `# escape=`, `# check=`) at the very top, line continuations with the escape character (comment
 * and empty lines inside them skipped), comments, JSON (exec) and shell forms (invalid JSON is
 * shell form), heredocs (`RUN <<EOF`, `<<-EOF`, `<<"EOF"`, several on one line, `COPY <<EOF /dst`),
 * each instruction's flags, `ARG`s before the first `FROM` (global), `FROM image AS name`, the
 * legacy `ENV K V`, `HEALTHCHECK NONE`, `ONBUILD` and `MAINTAINER`. Words stay unexpanded: see
 * {@link expand}.
 *
 * Throws InvalidArgumentError naming `file:line` and what is wrong: an unknown instruction, an
 * instruction other than ARG before the first FROM, a bad ONBUILD trigger, an empty Dockerfile,
 * an unterminated heredoc, a flag the instruction does not take, missing or extra arguments.
 *
 * @example
 * ```ts
 * const dockerfile = parseDockerfile('FROM busybox AS base\nRUN echo hi\n');
 * dockerfile.stages[0]?.from.alias; // 'base'
 * ```
 */
export function parseDockerfile(text: string, options?: ParseOptions): Dockerfile {
  const file = options?.file ?? 'Dockerfile';
  return located(file, () => {
    const { directives, escape: escapeChar, nodes, lines } = scan(text, undefined);
    if (nodes.length === 0) fail('the Dockerfile has no instructions (it is empty or only comments)', lines);
    const globalArgs: KeyValueInstruction[] = [];
    const stages: Stage[] = [];
    for (const node of nodes) {
      const instruction = toInstruction(node, escapeChar);
      if (instruction.kind === 'FROM') {
        stages.push({ index: stages.length, from: instruction, instructions: [] });
        continue;
      }
      const stage = stages.at(-1);
      if (stage !== undefined) {
        stage.instructions.push(instruction);
      } else if (instruction.kind === 'ARG') {
        globalArgs.push(instruction);
      } else {
        fail(
          `${instruction.kind} before the first FROM (only ARG may come before FROM)`,
          node.range.startLine,
        );
      }
    }
    if (stages.length === 0) fail('the Dockerfile has no FROM instruction', lines);
    return { directives, escape: escapeChar, globalArgs, stages };
  });
}

/**
 * Parses instructions without stages: the triggers an image's `OnBuild` lists (joined with `\n`)
 * when it is used as a base, or `ocikit commit --change` values. FROM, and instructions that a
 * stage could not hold, are refused like in {@link parseDockerfile}.
 *
 * @example
 * ```ts
 * parseInstructions('ENV A=1\nCMD ["sh"]').map((i) => i.kind); // ['ENV', 'CMD']
 * ```
 */
export function parseInstructions(text: string, options?: ParseInstructionsOptions): Instruction[] {
  const file = options?.file ?? 'instructions';
  return located(file, () =>
    scan(text, options?.escape).nodes.map((node) => {
      const instruction = toInstruction(node, options?.escape ?? '\\');
      if (instruction.kind === 'FROM')
        return fail(`FROM is not allowed here: ${truncate(node.source, 60)}`, node.range.startLine);
      return instruction;
    }),
  );
}
