// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words are written ${VAR}, not template literals
/**
 * Dockerfile word expansion, ported from BuildKit's shell lexer (moby/buildkit
 * frontend/dockerfile/shell/lex.go): `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:+a}`,
 * `${VAR+a}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#p}`, `${VAR##p}`, `${VAR%p}`, `${VAR%%p}`,
 * `${VAR/p/r}`, `${VAR//p/r}`, the escape character, and single and double quotes, which are
 * removed as the lexer removes them.
 */
import { InvalidArgumentError } from '@ocikit/errors';
import { isSpace } from './words.ts';

/** The variables a word expands with: a map, or a plain record of names to values. */
export type Variables = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** Options of {@link expand} and {@link expandWords}. */
export interface ExpandOptions {
  /** The Dockerfile's escape character (`# escape=`); `\` by default. */
  escape?: '\\' | '`' | undefined;
  /**
   * Keep quotes as text instead of treating them as quoting (BuildKit's `SkipProcessQuotes`, used
   * for `COPY <<EOF` heredoc bodies: only `$` references and escapes are processed).
   */
  keepQuotes?: boolean | undefined;
}

/** The lexer's switches (BuildKit's Lex fields); internal: the parser uses the raw ones for heredocs. */
export interface LexOptions {
  escape: string;
  /** Keep the quote characters in the result. */
  rawQuotes?: boolean;
  /** Keep the escape characters in the result. */
  rawEscapes?: boolean;
  /** Quotes are ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written. */
  skipUnsetEnv?: boolean;
}

/** What lexing one word gave. */
export interface LexResult {
  /** The word expanded (spaces between words kept). */
  result: string;
  /** The word split into words after expansion, quotes keeping spaces. */
  words: string[];
}

const EOF = undefined;

const isLetter = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isDigit = (ch: string): boolean => /^\p{Nd}$/u.test(ch);

/** Accumulates words the way BuildKit's wordsStruct does. */
class WordsBuilder {
  private buf = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  getWords(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** A lexing failure; {@link lexWord} wraps it into an InvalidArgumentError naming the word. */
class LexError extends Error {}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  private readonly vars: Variables;
  private readonly options: LexOptions;

  constructor(word: string, vars: Variables, options: LexOptions) {
    this.vars = vars;
    this.options = options;
    this.chars = Array.from(word);
    this.rawEscapes = options.rawEscapes === true;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  private getEnv(name: string): string | undefined {
    if (this.vars instanceof Map) return this.vars.get(name);
    const record = this.vars as Readonly<Record<string, string>>;
    return Object.hasOwn(record, name) ? record[name] : undefined;
  }

  process(): LexResult {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  // BuildKit shares one words buffer between this function and its nested calls (through
  // processDollar), so a `${X:-y}` drops what its word had before it from ProcessWords' result;
  // each call here has its own buffer, which is what the lexer means to do.
  private processStopOn(stop: string | undefined, rawEscapes: boolean): LexResult {
    let result = '';
    const words = new WordsBuilder();
    const previousRawEscapes = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const escapeChar = this.options.escape;
      for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.getWords() };
        }
        const special =
          ch === '$'
            ? () => this.processDollar()
            : ch === '<'
              ? () => this.processPossibleHeredoc()
              : this.options.skipProcessQuotes !== true && ch === "'"
                ? () => this.processSingleQuote()
                : this.options.skipProcessQuotes !== true && ch === '"'
                  ? () => this.processDoubleQuote()
                  : undefined;
        if (special) {
          const tmp = special();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = this.next() as string;
        if (c === escapeChar) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const escaped = this.next();
          if (escaped === EOF) break;
          c = escaped;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stop !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.getWords() };
    } finally {
      this.rawEscapes = previousRawEscapes;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.options.rawQuotes === true) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF)
        throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.options.rawQuotes === true) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.options.rawQuotes === true) result += open;
    const escapeChar = this.options.escape;
    for (;;) {
      const peeked = this.peek();
      if (peeked === EOF)
        throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') {
        this.next();
        if (this.options.rawQuotes === true) result += peeked;
        return result;
      }
      if (peeked === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === escapeChar) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        // Only ", $ and the escape character itself can be escaped; other escapes stay literal.
        if (after === '"' || after === '$' || after === escapeChar) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.options.skipUnsetEnv === true) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === EOF) throw new LexError("syntax error: missing '}'");
    let chs = ch;
    if (ch === '}') {
      const value = this.getEnv(name);
      if (value === undefined && this.options.skipUnsetEnv === true) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === '/') return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      if (ch === EOF) throw new LexError("syntax error: missing '}'");
      chs += ch;
    } else if (!'+-?#%'.includes(ch)) {
      throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
    const patternModifier = ch === '#' || ch === '%';
    if (nullIsUnset && patternModifier) throw new LexError(`unsupported modifier (${chs}) in substitution`);
    const word = this.readUntil('}', patternModifier, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (value === undefined && this.options.skipUnsetEnv === true) return `\${${name}${chs}${word}}`;
    const set = value !== undefined;
    const empty = value === undefined || value === '';
    switch (ch) {
      case '-':
        return !set || (nullIsUnset && empty) ? word : value;
      case '+':
        return !set || (nullIsUnset && empty) ? '' : word;
      case '?':
        if (!set) throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && empty)
          throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        // One # or % removes the shortest match, two the longest.
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === '%'
          ? trimSuffix(pattern, value ?? '', greedy)
          : trimPrefix(pattern, value ?? '', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const replaceAll = this.peek() === '/';
    if (replaceAll) this.next();
    const pattern = this.readUntil('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.readUntil('}', true, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (value === undefined && this.options.skipUnsetEnv === true)
      return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegExp(pattern, true, false, replaceAll);
    const current = value ?? '';
    if (replaceAll) return current.replace(re, () => replacement);
    const match = re.exec(current);
    if (!match) return current;
    return current.slice(0, match.index) + replacement + current.slice(match.index + match[0].length);
  }

  /** The expanded text up to `stop`; `missing` is the error when the word ends before it. */
  private readUntil(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (error) {
      if (this.peek() === EOF) throw new LexError(missing);
      throw error;
    }
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        for (let d = this.peek(); d !== EOF && isDigit(d); d = this.peek()) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next() as string;
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    for (let ch = this.peek(); ch === '\t' || ch === '\r' || ch === ' '; ch = this.peek())
      space += this.next();
    return `<<${space}`;
  }
}

/**
 * Converts a shell wildcard pattern (`?` one character, `*` any run; no bracket expressions) to a
 * regular expression, as BuildKit's convertShellPatternToRegex does.
 */
function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i] as string;
    if (tok === '*') {
      out += greedy ? '.*' : '.*?';
      continue;
    }
    if (tok === '?') {
      out += '.';
      continue;
    }
    if (tok === '\\') {
      // `\}` and `\/` escape the ${} syntax, not the pattern.
      const after = chars[i + 1];
      if (after === '}' || after === '/') continue;
      out += '\\';
      i++;
      if (after !== '*' && after !== '?' && after !== '\\') {
        throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${after ?? ''}'`);
      }
      tok = after;
    } else if ('[]{}.+()|^$'.includes(tok)) {
      out += '\\';
    }
    out += tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

/** Reverses a pattern keeping each `\x` escape in front of its character. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = chars[i] as string;
    const at = last - i;
    if (tok === '\\' && i !== last) {
      out[at - 1] = tok;
      out[at] = chars[i + 1] as string;
      i += 2;
    } else {
      out[at] = tok;
      i++;
    }
  }
  return out.join('');
}

const reverseString = (s: string): string => Array.from(s).reverse().join('');

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const match = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return match ? value.slice(match.index + match[0].length) : value;
}

// A regular expression cannot find the shortest rightmost match, so both are reversed.
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/**
 * Lexes one word with BuildKit's switches; throws InvalidArgumentError naming the word.
 * Internal: the parser uses it with raw quotes and escapes to find heredocs.
 */
export function lexWord(word: string, vars: Variables, options: LexOptions): LexResult {
  try {
    return new ShellWord(word, vars, options).process();
  } catch (error) {
    if (error instanceof LexError) {
      throw new InvalidArgumentError(`failed to process ${JSON.stringify(word)}: ${error.message}`, {
        details: { word },
      });
    }
    throw error;
  }
}

const lexOptions = (options: ExpandOptions | undefined): LexOptions => ({
  escape: options?.escape ?? '\\',
  skipProcessQuotes: options?.keepQuotes === true,
});

/**
 * Expands a Dockerfile word as BuildKit does for ENV, LABEL, ARG, COPY/ADD, WORKDIR, USER, VOLUME,
 * STOPSIGNAL, FROM and flag values: variables replaced, quotes and escapes removed, spaces kept.
 * Unset variables expand to nothing. Throws InvalidArgumentError for a bad substitution, an
 * unterminated quote, or a `${VAR?message}` / `${VAR:?message}` whose variable is unset (or empty).
 *
 * @example
 * ```ts
 * expand('"${APP:-demo} v$VERSION"', { VERSION: '1.2' }); // 'demo v1.2'
 * ```
 */
export function expand(word: string, vars: Variables, options?: ExpandOptions): string {
  return lexWord(word, vars, lexOptions(options)).result;
}

/**
 * Expands a word and splits the result into words on unquoted whitespace, after expansion (as
 * BuildKit does for EXPOSE): `$PORTS` with `PORTS="80 443"` gives two words, `"$PORTS"` one.
 *
 * @example
 * ```ts
 * expandWords('$PORTS 53/udp', new Map([['PORTS', '80 443']])); // ['80', '443', '53/udp']
 * ```
 */
export function expandWords(word: string, vars: Variables, options?: ExpandOptions): string[] {
  return lexWord(word, vars, lexOptions(options)).words;
}
