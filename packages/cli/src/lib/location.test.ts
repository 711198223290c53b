import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { parseTransport } from './location.ts';

describe('parseTransport', () => {
  it('splits docker-archive: and oci-archive: at the first colon after the prefix, as skopeo does', () => {
    expect(parseTransport('docker-archive:a.tar')).toEqual({
      kind: 'archive',
      format: 'docker-archive',
      file: 'a.tar',
      ref: undefined,
    });
    expect(parseTransport('docker-archive:/x/a.tar:localhost:5000/app:1')).toEqual({
      kind: 'archive',
      format: 'docker-archive',
      file: '/x/a.tar',
      ref: 'localhost:5000/app:1',
    });
    expect(parseTransport('oci-archive:a.tar:v1')).toEqual({
      kind: 'archive',
      format: 'oci-archive',
      file: 'a.tar',
      ref: 'v1',
    });
    expect(parseTransport('docker-daemon:busybox:1')).toEqual({ kind: 'daemon', ref: 'busybox:1' });
  });

  it('leaves other arguments to parseLocation', () => {
    expect(parseTransport('oci:dir:v1')).toBeUndefined();
    expect(parseTransport('busybox')).toBeUndefined();
  });

  it('refuses an empty file, an empty REF and an empty daemon name', () => {
    for (const arg of ['docker-archive:', 'oci-archive::v1', 'docker-archive:a.tar:', 'docker-daemon:']) {
      expect(() => parseTransport(arg), arg).toThrow(expect.toSatisfy(isInvalidArgument));
    }
  });
});
