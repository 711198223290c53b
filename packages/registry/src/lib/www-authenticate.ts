import { InvalidArgumentError, truncate } from '@ocikit/errors';

/** One authentication challenge from a `WWW-Authenticate` header (RFC 9110 §11.6.1). */
export interface AuthChallenge {
  /** The auth scheme, lower-cased (`basic`, `bearer`, ...). */
  readonly scheme: string;
  /** The auth-params, keys lower-cased, values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parse a `WWW-Authenticate` header value into its challenges.
 *
 * @example
 * parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry"')
 * // → [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry' } }]
 * @throws InvalidArgumentError when the header is not a valid challenge list.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`invalid WWW-Authenticate header: ${why}: ${truncate(header)}`);
  };
  const challenges: AuthChallenge[] = [];
  let rest = header.trim();
  let current: { scheme: string; params: Record<string, string> } | undefined;
  while (rest.length > 0) {
    if (rest.startsWith(',')) {
      rest = rest.slice(1).trimStart();
      continue;
    }
    const name = TOKEN.exec(rest)?.[0];
    if (name === undefined) return fail('expected a scheme or parameter name');
    const after = rest.slice(name.length).trimStart();
    if (current !== undefined && after.startsWith('=') && !/^=+\s*(,|$)/.test(after)) {
      // auth-param: name = token / quoted-string
      let value: string;
      let tail = after.slice(1).trimStart();
      if (tail.startsWith('"')) {
        let i = 1;
        value = '';
        for (;;) {
          const ch = tail[i];
          if (ch === undefined) return fail('unterminated quoted string');
          if (ch === '"') break;
          if (ch === '\\') {
            const next = tail[i + 1];
            if (next === undefined) return fail('unterminated quoted string');
            value += next;
            i += 2;
          } else {
            value += ch;
            i += 1;
          }
        }
        tail = tail.slice(i + 1);
      } else {
        const tok = TOKEN.exec(tail)?.[0];
        if (tok === undefined) return fail(`expected a value for "${name}"`);
        value = tok;
        tail = tail.slice(tok.length);
      }
      current.params[name.toLowerCase()] = value;
      rest = tail.trimStart();
      if (rest.length > 0 && !rest.startsWith(',')) return fail('expected "," between parameters');
      continue;
    }
    // a new challenge: scheme [ token68 ]
    current = { scheme: name.toLowerCase(), params: {} };
    challenges.push(current);
    rest = after;
    const t68 = /^[A-Za-z0-9\-._~+/]+=*/.exec(rest)?.[0];
    if (
      t68 !== undefined &&
      !/^\s*=/.test(rest.slice(t68.length)) &&
      rest
        .slice(t68.length)
        .trimStart()
        .match(/^(,|$)/)
    ) {
      current.params.token68 = t68;
      rest = rest.slice(t68.length).trimStart();
    }
  }
  if (challenges.length === 0) return fail('no challenge');
  return challenges;
}
