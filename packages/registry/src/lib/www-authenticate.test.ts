import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './www-authenticate.ts';

describe('parseWwwAuthenticate', () => {
  it('parses the Bearer challenge docker-registry sends', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="http://127.0.0.1:5001/token",service="registry",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'http://127.0.0.1:5001/token',
          service: 'registry',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
  });
  it('parses Basic with a realm', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
  });
  it('parses several challenges, token values and escapes', () => {
    expect(parseWwwAuthenticate('Basic realm=simple, Bearer realm="a\\"b", error=invalid_token')).toEqual([
      { scheme: 'basic', params: { realm: 'simple' } },
      { scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } },
    ]);
  });
  it('rejects an unterminated quoted string with a typed error naming the header', () => {
    let caught: unknown;
    try {
      parseWwwAuthenticate('Bearer realm="oops');
    } catch (error) {
      caught = error;
    }
    expect(isInvalidArgument(caught)).toBe(true);
    expect(String((caught as Error).message)).toContain('Bearer realm="oops');
  });
  it('keeps a token68 challenge and the scheme that follows it', () => {
    expect(parseWwwAuthenticate('Negotiate abc+/def==, Basic realm="r"')).toEqual([
      { scheme: 'negotiate', params: { token68: 'abc+/def==' } },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });
  it('rejects parameters without a comma between them', () => {
    expect(() => parseWwwAuthenticate('Bearer realm="a" service="b"')).toThrow(
      /expected "," between parameters/,
    );
  });
  it('rejects an empty header', () => {
    expect(() => parseWwwAuthenticate('  ')).toThrow(/no challenge/);
  });
});
