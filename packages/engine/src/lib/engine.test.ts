import { AbortedError, ErrorCode, isUnimplemented, NotFoundError } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import type { Driver, Handlers } from './contract.ts';
import { Engine } from './engine.ts';
import { engineError } from './errors.ts';

/** A driver over handlers given in the test: the contract's client, not any engine, is under test. */
function driverOf(handlers: Partial<Handlers>): Driver {
  return { name: 'test', connect: async () => ({ handlers, close: async () => {} }) };
}

describe('Engine', () => {
  it('fails an operation the driver leaves out with UnimplementedError naming engine and operation', async () => {
    const engine = await Engine.connect(driverOf({}), 'test:');
    expect(engine.has('images.push')).toBe(false);
    const e = await engine.images.push('x').catch((e: unknown) => e);
    expect(isUnimplemented(e)).toBe(true);
    expect(e).toMatchObject({
      message: 'test: images.push: the test driver does not offer images.push',
      details: { engine: 'test', operation: 'images.push', reason: 'unimplemented' },
    });
    // streams fail the same way, at the call
    expect(() => engine.containers.logs('x')).toThrow(/does not offer containers.logs/);
  });

  it('passes standard errors through and makes others standard', async () => {
    const engine = await Engine.connect(
      driverOf({
        'containers.inspect': async () => {
          throw engineError('container-not-found', {
            engine: 'test',
            operation: 'containers.inspect',
            message: 'no container x',
            status: 404,
            engineMessage: 'No such container: x',
          });
        },
        'containers.list': async () => {
          throw new TypeError('boom');
        },
      }),
      'test:',
    );
    const notFound = await engine.containers.inspect('x').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound).toMatchObject({
      message: 'test: containers.inspect: no container x (test said: No such container: x)',
      details: { reason: 'container-not-found', status: 404, engineMessage: 'No such container: x' },
    });
    const crashed = await engine.containers.list().catch((e: unknown) => e);
    expect(crashed).toMatchObject({
      code: ErrorCode.Unavailable,
      details: { reason: 'engine-error', operation: 'containers.list' },
    });
  });

  it('bounds quick operations with its timeout and every operation with the signal', async () => {
    const hang = (signal: AbortSignal | undefined) =>
      new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
    const engine = await Engine.connect(
      driverOf({
        'system.ping': async (o) => hang(o.signal),
        'containers.wait': async (_id, o) => hang(o.signal),
      }),
      'test:',
      { timeout: 50 },
    );
    await expect(engine.system.ping()).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      details: { reason: 'timeout' },
    });
    const c = new AbortController();
    const waiting = engine.containers.wait('x', { signal: c.signal });
    c.abort();
    await expect(waiting).rejects.toMatchObject({ code: ErrorCode.Aborted, details: { reason: 'aborted' } });
    // a driver whose library throws its own bare AbortedError still gives the standard one
    const bare = await Engine.connect(
      driverOf({
        'containers.wait': async (_id, o) => {
          await hang(o.signal).catch(() => {});
          throw new AbortedError('operation aborted');
        },
      }),
      'test:',
    );
    const c2 = new AbortController();
    const waiting2 = bare.containers.wait('x', { signal: c2.signal });
    c2.abort();
    await expect(waiting2).rejects.toMatchObject({
      code: ErrorCode.Aborted,
      details: { engine: 'test', operation: 'containers.wait', reason: 'aborted' },
    });
  });

  it('composes a foreground run from the steps and removes a container it could not start', async () => {
    const calls: string[] = [];
    const handlers: Partial<Handlers> = {
      'containers.create': async (spec) => {
        calls.push(`create ${spec.image}`);
        return { id: 'c1', warnings: [] };
      },
      'containers.attach': async () => ({
        output: (async function* () {
          yield { stream: 'stdout' as const, data: new TextEncoder().encode('hi\n') };
        })(),
        write: async () => {},
        closeStdin: async () => {},
        resize: async () => {},
        close: () => {},
      }),
      'containers.start': async (id) => {
        calls.push(`start ${id}`);
      },
      'containers.wait': async () => 3,
      'containers.remove': async (id) => {
        calls.push(`remove ${id}`);
      },
    };
    const engine = await Engine.connect(driverOf(handlers), 'test:');
    const out: string[] = [];
    const result = await engine.containers.run(
      { image: 'busybox', autoRemove: true },
      { onOutput: (c) => out.push(new TextDecoder().decode(c.data)) },
    );
    expect(result).toEqual({ id: 'c1', exitCode: 3 });
    expect(out).toEqual(['hi\n']);
    expect(calls).toEqual(['create busybox', 'start c1', 'remove c1']);

    calls.length = 0;
    handlers['containers.start'] = async () => {
      throw engineError('bad-argument', {
        engine: 'test',
        operation: 'containers.start',
        message: 'no such command',
      });
    };
    await expect(engine.containers.run({ image: 'busybox' })).rejects.toMatchObject({
      details: { reason: 'bad-argument' },
    });
    expect(calls).toEqual(['create busybox', 'remove c1']);
  });
});
