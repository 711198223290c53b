// HTTPS against the real registry (CNCF distribution with a self-signed certificate, on this
// machine's non-loopback address, since loopback registries are spoken to in plain HTTP): the
// certificate is refused by default, trusted with a CA file, and skipped with `insecure`.
import { copy } from '@ocikit/content';
import { isUnavailable } from '@ocikit/errors';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from './repository.ts';
import { makeImage } from './test-support.ts';
import { Transport } from './transport.ts';

describe('a registry over HTTPS', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ tls: true });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('refuses its self-signed certificate by default, at once and by name', async () => {
    expect(registry.url).toMatch(/^https:\/\//);
    // a retry would wait at least 5 s (half of 10 s, jittered): 4 s tells it apart with room for a
    // loaded machine (1 s, with a first retry after 0.5-1 s, left neither)
    const transport = new Transport({ retries: 4, retryDelay: 10_000 });
    const started = Date.now();
    const error = await openRepository(`${registry.host}/tls/refused`, { transport })
      .tags()
      .catch((e: unknown) => e);
    await transport.close();
    expect(isUnavailable(error)).toBe(true);
    expect((error as Error).message).toMatch(/SELF_SIGNED|self[- ]signed/i);
    expect(Date.now() - started).toBeLessThan(4000); // a certificate problem is not retried
  });

  it('pushes and pulls with the certificate given as a CA file, and with insecure', async () => {
    const img = await makeImage({ layers: [100_000], tag: 'v1' });
    const trusted = new Transport({ caFile: registry.caFile as string });
    const pushed = await copy(
      img.store,
      'v1',
      openRepository(`${registry.host}/tls/app`, { transport: trusted }),
      'v1',
    );
    expect(pushed.digest).toBe(img.manifest.digest);
    await trusted.close();
    const insecure = new Transport({ insecure: true });
    const resolved = await openRepository(`${registry.host}/tls/app`, { transport: insecure }).resolve('v1');
    expect(resolved.digest).toBe(img.manifest.digest);
    await insecure.close();
  });
});
