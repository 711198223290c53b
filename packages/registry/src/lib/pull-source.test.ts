// findPullSource against two real registries: a mirror that has one image, a primary that has both.
import { copy } from '@ocikit/content';
import { isNotFound } from '@ocikit/errors';
import { freePort, type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPullSource } from './pull-source.ts';
import { parseRegistriesConf, RegistriesConf } from './registries-conf.ts';
import { openRepository } from './repository.ts';
import { makeImage } from './test-support.ts';
import { Transport } from './transport.ts';

let primary: RunningRegistry;
let mirror: RunningRegistry;
const transport = new Transport();
const conf = (text: string) => new RegistriesConf([parseRegistriesConf(text, 'test.conf')]);

beforeAll(async () => {
  [primary, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  const img = await makeImage({ layers: [1000], tag: 'v1' });
  for (const [registry, repo] of [
    [primary, 'both/app:v1'],
    [primary, 'only/primary:v1'],
    [mirror, 'both/app:v1'],
  ] as const) {
    await copy(img.store, 'v1', openRepository(`${registry.host}/${repo}`, { transport }), 'v1');
  }
}, 60_000);

afterAll(async () => {
  await transport.close();
  await Promise.all([primary?.stop(), mirror?.stop()]);
});

describe('findPullSource', () => {
  it('takes the mirror that has the image, the registry otherwise, under the name asked for', async () => {
    const withMirror = conf(
      `[[registry]]\nlocation = "${primary.host}"\n[[registry.mirror]]\nlocation = "${mirror.host}"\n`,
    );
    const both = await findPullSource(withMirror, `${primary.host}/both/app:v1`, { transport });
    expect([both.mirror, both.name, both.ref]).toEqual([true, `${primary.host}/both/app:v1`, 'v1']);
    const missed: string[] = [];
    const only = await findPullSource(withMirror, `${primary.host}/only/primary:v1`, {
      transport,
      onMiss: (ref) => missed.push(ref),
    });
    expect(only.mirror).toBe(false);
    expect(missed).toEqual([`${mirror.host}/only/primary:v1`]);
  });

  it('resolves a short name by the search registries in order; NotFound naming every place', async () => {
    const search = conf(
      `unqualified-search-registries = ["${mirror.host}", "${primary.host}"]\nshort-name-mode = "permissive"\n`,
    );
    expect((await findPullSource(search, 'only/primary:v1', { transport })).name).toBe(
      `${primary.host}/only/primary:v1`,
    );
    const none = await findPullSource(search, 'nothing/here:v1', { transport }).catch((e: unknown) => e);
    expect(isNotFound(none)).toBe(true);
    expect((none as Error).message).toContain(
      `${mirror.host}/nothing/here:v1, ${primary.host}/nothing/here:v1`,
    );
    // one place to look: no probe, even when nothing answers there
    const dead = `127.0.0.1:${await freePort()}/x/y:1`;
    expect((await findPullSource(conf(''), dead, { transport })).name).toBe(dead);
  });
});
