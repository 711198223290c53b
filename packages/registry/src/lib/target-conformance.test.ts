// The Target conformance suite of @ocikit/content, run against a Repository on the real registry
// (each case on a fresh repository), as the memory and layout stores run it.
import type { Target } from '@ocikit/content';
import { blob, describeTargetConformance } from '@ocikit/content/testsuite';
import { isDataLoss } from '@ocikit/errors';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository, type Repository } from './repository.ts';

let registry: RunningRegistry;
let count = 0;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none' });
});
afterAll(async () => {
  await registry?.stop();
});

describeTargetConformance(
  'registry Repository',
  async () => openRepository(`${registry.host}/conformance/case-${++count}`, { retryDelay: 10 }),
  { describe, it },
  { release: (target: Target) => (target as Repository).transport.close() },
);

// The same through Bearer tokens per scope set, anonymous pull off: every operation of the contract
// asks for the right scopes.
describe('with token auth', () => {
  let tokenRegistry: RunningRegistry;
  beforeAll(async () => {
    tokenRegistry = await startRegistry({ auth: 'token', anonymousPull: false });
  });
  afterAll(async () => {
    await tokenRegistry?.stop();
  });
  describeTargetConformance(
    'registry Repository, token auth',
    async () =>
      openRepository(`${tokenRegistry.host}/conformance/token-${++count}`, {
        retryDelay: 10,
        credentials: tokenRegistry.credentials,
      }),
    { describe, it },
    { release: (target: Target) => (target as Repository).transport.close() },
  );
});

describe('registry Repository: a stream that is not the length its descriptor says', () => {
  it('fails with DataLoss before the extra bytes reach the wire, and the next requests still work', async () => {
    const repo = openRepository(`${registry.host}/conformance/lengths`, { retryDelay: 10 });
    try {
      const { desc } = blob('abcdef');
      async function* parts(...texts: string[]) {
        for (const t of texts) yield new TextEncoder().encode(t);
      }
      for (const wrong of [parts('abc', 'defg'), parts('abc', 'de')]) {
        const err = await repo.push(desc, wrong).catch((e: unknown) => e);
        expect(isDataLoss(err), String(err)).toBe(true);
        expect(await repo.exists(desc)).toBe(false);
      }
      // the pooled connections carry no stray bytes into the next request
      const other = blob('another blob');
      await repo.push(other.desc, parts('another ', 'blob'));
      expect(await repo.exists(other.desc)).toBe(true);
    } finally {
      await repo.transport.close();
    }
  });
});
