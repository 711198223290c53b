import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  DataLossError,
  ErrorCode,
  InvalidArgumentError,
  isDataLoss,
  isInvalidArgument,
  isNotFound,
  isOcikitError,
  isUnimplemented,
  NotFoundError,
  OcikitError,
  throwIfAborted,
  truncate,
  UnimplementedError,
} from './errors.ts';

describe('errors', () => {
  it('gives each kind a stable code, a name and a predicate', () => {
    const e = new NotFoundError('blob sha256:abc not found', { details: { digest: 'sha256:abc' } });
    expect(e.code).toBe(ErrorCode.NotFound);
    expect(e.name).toBe('NotFoundError');
    expect(e.message).toBe('blob sha256:abc not found');
    expect(e.details).toEqual({ digest: 'sha256:abc' });
    expect(isNotFound(e)).toBe(true);
    expect(isDataLoss(e)).toBe(false);
    expect(isOcikitError(e)).toBe(true);
    expect(isOcikitError(new Error('x'))).toBe(false);
  });

  it('has an unimplemented kind for operations an implementation leaves out', () => {
    const e = new UnimplementedError('docker: images.push is not implemented', {
      details: { engine: 'docker', operation: 'images.push' },
    });
    expect(e.code).toBe('ERR_OCIKIT_UNIMPLEMENTED');
    expect(e.name).toBe('UnimplementedError');
    expect(isUnimplemented(e)).toBe(true);
    expect(isUnimplemented(new NotFoundError('x'))).toBe(false);
    expect(isOcikitError(e)).toBe(true);
  });

  it('supports instanceof for the base class and each kind', () => {
    const e = new DataLossError('digest mismatch');
    expect(e).toBeInstanceOf(OcikitError);
    expect(e).toBeInstanceOf(DataLossError);
    expect(e).toBeInstanceOf(Error);
    expect(e instanceof NotFoundError).toBe(false);
  });

  it('recognises errors made by a duplicate copy of the package through the brand', () => {
    const foreign = new Error('from another copy') as Error & { code: string };
    foreign.code = ErrorCode.InvalidArgument;
    Object.defineProperty(foreign, Symbol.for('@ocikit/errors.OcikitError'), { value: true });
    expect(isInvalidArgument(foreign)).toBe(true);
    expect(foreign instanceof OcikitError).toBe(true);
    expect(foreign instanceof InvalidArgumentError).toBe(true);
    expect(foreign instanceof NotFoundError).toBe(false);
  });

  it('keeps the cause and the hint', () => {
    const cause = new Error('ENOENT');
    const e = new InvalidArgumentError('bad', { cause, hint: 'check the path' });
    expect(e.cause).toBe(cause);
    expect(e.hint).toBe('check the path');
  });

  it('throws AbortedError from an aborted signal', () => {
    const c = new AbortController();
    expect(() => throwIfAborted(c.signal)).not.toThrow();
    c.abort(new Error('stop'));
    expect(() => throwIfAborted(c.signal)).toThrow(AbortedError);
  });

  it('truncates long input for messages', () => {
    expect(truncate('abc', 5)).toBe('abc');
    expect(truncate('abcdefgh', 5)).toBe('abcd…');
  });
});
