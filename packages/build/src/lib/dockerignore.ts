/**
 * `.dockerignore` with Docker's rules, ported from moby/patternmatcher (patternmatcher.go,
 * ignorefile/ignorefile.go) and the directory pruning of BuildKit's file walker
 * (tonistiigi/fsutil filter.go).
 */
import { InvalidArgumentError } from '@ocikit/errors';

/**
 * A compiled `.dockerignore`: call it with a context path (relative, `/`-separated) to learn
 * whether Docker leaves that path out of the build context.
 */
export interface DockerignoreMatcher {
  /** True when the path is excluded: the last pattern matching it, or one of its parent directories, decides. */
  (path: string): boolean;
  /** The patterns in effect, cleaned; exceptions keep their `!`. */
  readonly patterns: readonly string[];
  /**
   * For an excluded directory: whether a walk must still look inside it because an exception
   * (`!dir/keep`, or any exception with a wildcard) may re-include something there. False means the
   * whole directory can be skipped, as BuildKit skips it.
   */
  mayIncludeBelow(dir: string): boolean;
}

/** Go's path.Clean. */
function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out.at(-1) !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/**
 * Reads a `.dockerignore` into patterns as Docker's ignorefile.ReadAll does: a UTF-8 BOM is
 * dropped, lines starting with `#` are comments, blank lines are skipped, each pattern is trimmed and
 * cleaned (`./a/../b/` → `b`) and a leading `/` is removed (the context is the root); `!` marks an
 * exception.
 *
 * @example
 * ```ts
 * parseDockerignore('# deps\nnode_modules\n/dist/\n!dist/keep\n'); // ['node_modules', 'dist', '!dist/keep']
 * ```
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/** How a pattern matches. @internal */
export type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** A compiled pattern. @internal */
export interface Pattern {
  /** As cleaned, without its `!`. */
  text: string;
  exclusion: boolean;
  type: MatchType;
  regexp?: RegExp | undefined;
}

const badPattern = (pattern: string, why: string): InvalidArgumentError =>
  new InvalidArgumentError(`.dockerignore: bad pattern ${JSON.stringify(pattern)}: ${why}`, {
    details: { pattern },
  });

/** Checks a pattern's syntax as Go's filepath.Match does (escapes and character classes). */
function checkSyntax(pattern: string): void {
  const chars = Array.from(pattern);
  let i = 0;
  const escaped = (): void => {
    // One class character: `-` and `]` must be escaped, and the class must go on after it.
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') throw badPattern(pattern, 'malformed character class');
    if (c === '\\') {
      i++;
      if (chars[i] === undefined) throw badPattern(pattern, 'trailing escape in a character class');
    }
    i++;
    if (chars[i] === undefined) throw badPattern(pattern, 'unterminated character class');
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === '\\') {
      i += 2;
      if (i > chars.length) throw badPattern(pattern, 'trailing escape (\\)');
      continue;
    }
    if (c !== '[') {
      i++;
      continue;
    }
    i++;
    if (chars[i] === '^') i++;
    for (let ranges = 0; ; ranges++) {
      if (chars[i] === ']' && ranges > 0) {
        i++;
        break;
      }
      escaped();
      if (chars[i] === '-') {
        i++;
        escaped();
      }
    }
  }
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** patternmatcher's Pattern.compile, with `/` as the separator. @internal */
export function compilePattern(text: string, exclusion: boolean): Pattern {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const start = i;
    const ch = chars[i] as string;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++; // `**/` is `**`
        if (i + 1 === chars.length) {
          // A trailing `**` takes everything, as in .gitignore.
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        // patternmatcher makes a pattern that starts with `**` a suffix match (a later wildcard
        // makes it a regexp again).
        if (start === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next !== undefined) {
        re += `\\${next}`;
        i++;
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  if (type !== 'regexp') return { text, exclusion, type };
  try {
    return { text, exclusion, type, regexp: new RegExp(`${re}$`) };
  } catch (error) {
    throw badPattern(text, (error as Error).message);
  }
}

function matchPattern(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.text;
    case 'prefix':
      return path.startsWith(p.text.slice(0, -2));
    case 'suffix': {
      const suffix = p.text.slice(2);
      if (path.endsWith(suffix)) return true;
      // `**/foo` matches `foo`
      return suffix.startsWith('/') && path === suffix.slice(1);
    }
    case 'regexp':
      return (p.regexp as RegExp).test(path);
  }
}

/** patternmatcher's MatchesOrParentMatches. */
function matches(patterns: readonly Pattern[], file: string): boolean {
  let matched = false;
  const slash = file.lastIndexOf('/');
  const parents = slash < 0 ? [] : cleanPath(file.slice(0, slash)).split('/');
  for (const pattern of patterns) {
    // An inclusion need not be checked once matched, nor an exception before anything matched.
    if (pattern.exclusion !== matched) continue;
    let match = matchPattern(pattern, file);
    for (let i = 0; !match && i < parents.length; i++) {
      match = matchPattern(pattern, parents.slice(0, i + 1).join('/'));
    }
    if (match) matched = !pattern.exclusion;
  }
  return matched;
}

/**
 * Compiles `.dockerignore` patterns (as {@link parseDockerignore} gives them) into a matcher.
 * Throws InvalidArgumentError for a lone `!` or a malformed pattern (`[`, `[a-`, a trailing `\`).
 *
 * @example
 * ```ts
 * const ignored = compileDockerignore(['docs', '!docs/README.md']);
 * ignored('docs/guide.md'); // true
 * ignored('docs/README.md'); // false
 * ```
 */
export function compileDockerignore(patterns: readonly string[]): DockerignoreMatcher {
  const compiled: Pattern[] = [];
  for (const raw of patterns) {
    let p = raw.trim();
    if (p === '') continue;
    p = cleanPath(p);
    const exclusion = p.startsWith('!');
    if (exclusion) {
      if (p.length === 1) throw new InvalidArgumentError('.dockerignore: illegal exclusion pattern: "!"');
      p = p.slice(1);
    }
    checkSyntax(p);
    compiled.push(compilePattern(p, exclusion));
  }
  // fsutil walks into an excluded directory only when an exception could match inside it: one
  // naming a path below it, or any exception with a wildcard (then every directory is walked).
  const wildcardExceptions = compiled.some(
    (p) => p.exclusion && /[*[\]?^\\]/.test(p.text.replace(/\/\*\*$/, '').replace(/\/\*$/, '')),
  );
  const matcher = (path: string): boolean => {
    const file = cleanPath(path);
    if (file === '.') return false;
    return matches(compiled, file);
  };
  return Object.assign(matcher, {
    patterns: compiled.map((p) => (p.exclusion ? `!${p.text}` : p.text)),
    mayIncludeBelow(dir: string): boolean {
      if (wildcardExceptions) return true;
      const prefix = `${cleanPath(dir)}/`;
      return compiled.some(
        (p) => p.exclusion && `${p.text.replace(/\/\*\*$/, '').replace(/\/\*$/, '')}/`.startsWith(prefix),
      );
    },
  });
}

/**
 * Reads and compiles a `.dockerignore` in one step: {@link parseDockerignore} then
 * {@link compileDockerignore}.
 *
 * @example
 * ```ts
 * const ignored = dockerignoreMatcher('node_modules\n*.log\n');
 * ignored('node_modules/x/index.js'); // true
 * ```
 */
export function dockerignoreMatcher(text: string): DockerignoreMatcher {
  return compileDockerignore(parseDockerignore(text));
}

/**
 * Whether Docker leaves `path` (relative to the context, `/`-separated) out of the build context
 * under these patterns: the last pattern that matches the path or one of its parent directories
 * decides, `!` patterns re-include. The context root itself is never ignored.
 *
 * @example
 * ```ts
 * isIgnored('dist/app.js', ['dist', '!dist/*.d.ts']); // true
 * ```
 */
export function isIgnored(path: string, patterns: readonly string[] | DockerignoreMatcher): boolean {
  const matcher = typeof patterns === 'function' ? patterns : compileDockerignore(patterns);
  return matcher(path);
}
