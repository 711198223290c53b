// registries.conf `insecure = true`, through the transport's `insecure` function: a plain-HTTP
// registry on a non-loopback address (so not plain HTTP by default) is reached after HTTPS fails, as
// containers/image does; a registry not marked insecure is not.
import { copy } from '@ocikit/content';
import { isUnavailable } from '@ocikit/errors';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from './repository.ts';
import { makeImage } from './test-support.ts';
import { Transport } from './transport.ts';

describe('an insecure registry speaking plain HTTP', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ external: true });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('is refused over HTTPS unless marked insecure, then pushed to and pulled from over HTTP', async () => {
    expect(registry.url).toMatch(/^http:\/\/(?!127\.)/);
    const name = `${registry.host}/insecure/app`;
    const strict = new Transport({ insecure: () => false, retries: 0 });
    const error = await openRepository(name, { transport: strict })
      .tags()
      .catch((e: unknown) => e);
    await strict.close();
    expect(isUnavailable(error)).toBe(true);

    const img = await makeImage({ layers: [50_000], tag: 'v1' });
    const asked: string[] = [];
    const lax = new Transport({
      insecure: async (host) => {
        asked.push(host);
        return host === registry.host;
      },
      retries: 0,
    });
    const pushed = await copy(img.store, 'v1', openRepository(name, { transport: lax }), 'v1');
    expect(pushed.digest).toBe(img.manifest.digest);
    expect((await openRepository(name, { transport: lax }).resolve('v1')).digest).toBe(img.manifest.digest);
    expect(lax.endpoint(registry.host).protocol).toBe('http:');
    expect(asked).toContain(registry.host);
    await lax.close();
  });
});
