/**
 * How a Dockerfile line is cut into words before any expansion, ported from BuildKit's parser
 * (moby/buildkit frontend/dockerfile/parser: split_command.go and line_parsers.go parseWords).
 * Internal to the parser.
 */

/** Whitespace as BuildKit's reWhitespace (newlines are gone by the time a line is split). */
export const WHITESPACE = /[\t\v\f\r ]+/;

// Go's unicode.IsSpace, which BuildKit's parser uses: JavaScript's \s also takes U+FEFF (a BOM
// inside the file is text to BuildKit) and leaves out U+0085.
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPACE = new RegExp(`^[${GO_SPACE}]$`, 'u');
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`, 'u');
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`, 'u');

/** Whether a character is white space to Go's unicode.IsSpace. */
export const isSpace = (ch: string): boolean => SPACE.test(ch);
/** The text without leading white space (Go's unicode.IsSpace). */
export const trimSpaceStart = (s: string): string => s.replace(LEADING_SPACE, '');
/** The text without leading or trailing white space (Go's strings.TrimSpace). */
export const trimSpace = (s: string): string => s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');

/**
 * Splits `s` at whitespace into at most `limit` parts, as Go's `regexp.Split(s, n)` with
 * BuildKit's whitespace expression does (the last part keeps the rest as written).
 */
export function splitWhitespace(s: string, limit = -1): string[] {
  if (s === '') return [''];
  const parts: string[] = [];
  const re = new RegExp(WHITESPACE.source, 'g');
  let start = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (limit > 0 && parts.length === limit - 1) break;
    parts.push(s.slice(start, m.index));
    start = m.index + m[0].length;
  }
  parts.push(s.slice(start));
  return parts;
}

/**
 * Splits the arguments of ENV, LABEL and ARG into words on unquoted whitespace, keeping quotes and
 * escapes in the words (they are removed when the word is expanded). BuildKit's parseWords.
 *
 * @example
 * ```ts
 * splitWords('K=V K2="v 2"', '\\'); // ['K=V', 'K2="v 2"']
 * ```
 */
export function splitWords(rest: string, escapeChar: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? '';
    const atEnd = pos === chars.length;
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (atEnd) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escapeChar) {
        if (pos + 1 === chars.length) continue; // an escape at the end of the line is dropped
        // Unquoted, the escape and the character after it (even a quote) go into the word.
        word += ch;
        pos++;
        ch = chars[pos] as string;
      }
      word += ch;
      continue;
    }
    // In quotes.
    if (ch === quote) phase = 'word';
    if (ch === escapeChar && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos] as string;
    }
    word += ch;
  }
  return words;
}

/** An instruction line cut into its keyword, its `--flags` (as written, quotes removed) and the rest. */
export interface SplitLine {
  /** The instruction keyword as written. */
  keyword: string;
  /** The flag words (`--from=build`), in order. */
  flags: string[];
  /** What follows the flags, trimmed. */
  rest: string;
}

/** Cuts a (continuations joined) instruction line as BuildKit's splitCommand does. */
export function splitCommand(line: string, escapeChar: string): SplitLine {
  const [keyword = '', args] = splitWhitespace(trimSpace(line), 2);
  if (args === undefined) return { keyword, flags: [], rest: '' };
  const { rest, flags } = extractFlags(args, escapeChar);
  return { keyword, flags, rest: trimSpace(rest) };
}

/**
 * Takes the leading `--name[=value]` words off an instruction's arguments (BuildKit's
 * extractBuilderFlags): quotes in a flag word are removed, the escape character escapes the next
 * character, and a bare `--` ends the flags.
 */
function extractFlags(line: string, escapeChar: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= line.length; pos++) {
    const atEnd = pos === line.length;
    let ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-')
        return { rest: line.slice(pos), flags };
      phase = 'word';
    }
    if (atEnd) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === escapeChar) {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escapeChar) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos] as string;
    }
    word += ch;
  }
  return { rest: '', flags };
}
