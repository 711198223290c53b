// Per-registry TLS from certs.d against the real registry requiring client certificates (distribution's
// http.tls.clientcas, on this machine's non-loopback address, since loopback registries are spoken
// to in plain HTTP): refused without a client certificate with a typed error, served with one.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, MemoryStore } from '@ocikit/content';
import { isInvalidArgument, isUnauthenticated } from '@ocikit/errors';
import { makeClientCertificate, type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certsFor, readCertsDir } from './certs-d.ts';
import { openRepository } from './repository.ts';
import { makeImage } from './test-support.ts';
import { Transport } from './transport.ts';

describe('certs.d', () => {
  let registry: RunningRegistry;
  let dir: string;
  beforeAll(async () => {
    registry = await startRegistry({ tls: { clientCertificates: true } });
    dir = await mkdtemp(join(tmpdir(), 'ocikit-certs-d-'));
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads *.crt as CAs and *.cert + *.key pairs, refusing a half pair by name', async () => {
    const d = join(dir, 'pairs');
    await mkdir(d);
    await writeFile(join(d, 'ca.crt'), 'CA');
    await writeFile(join(d, 'client.cert'), 'CERT');
    await writeFile(join(d, 'client.key'), 'KEY');
    await expect(readCertsDir(d)).resolves.toMatchObject({ ca: ['CA'], cert: ['CERT'], key: ['KEY'] });
    await writeFile(join(d, 'lonely.cert'), 'CERT');
    const e = await readCertsDir(d).catch((err: unknown) => err);
    expect(isInvalidArgument(e)).toBe(true);
    expect((e as Error).message).toMatch(/missing key lonely\.key for client certificate lonely\.cert/);
    // the first root that has HOST[:PORT] wins
    await mkdir(join(dir, 'root-b', 'r.example:5000'), { recursive: true });
    await writeFile(join(dir, 'root-b', 'r.example:5000', 'x.crt'), 'B');
    const found = await certsFor('r.example:5000', { certsDirs: [join(dir, 'root-a'), join(dir, 'root-b')] });
    expect(found?.ca).toEqual(['B']);
    expect(await certsFor('other:1', { certsDirs: [join(dir, 'root-b')] })).toBeUndefined();
  });

  it('without a client certificate: UnauthenticatedError naming certs.d; with one from certs.d: push and pull', async () => {
    const roots = join(dir, 'roots');
    const hostDir = join(roots, registry.host);
    await mkdir(hostDir, { recursive: true });
    await copyFile(registry.caFile as string, join(hostDir, 'ca.crt'));

    const img = await makeImage({ layers: [200_000], tag: 'v1' });
    const without = new Transport({ certsDirs: [roots], retries: 2, retryDelay: 10 });
    const error = await copy(
      img.store,
      'v1',
      openRepository(`${registry.host}/mtls/app`, { transport: without }),
      'v1',
    ).catch((e: unknown) => e);
    await without.close();
    expect(isUnauthenticated(error)).toBe(true);
    expect((error as Error).message).toMatch(/requires a TLS client certificate/);
    expect((error as { hint?: string }).hint).toMatch(/certs\.d/);

    await makeClientCertificate(hostDir, registry.pki as NonNullable<RunningRegistry['pki']>, 'client');
    const withCert = new Transport({ certsDirs: [roots] });
    const pushed = await copy(
      img.store,
      'v1',
      openRepository(`${registry.host}/mtls/app`, { transport: withCert }),
      'v1',
    );
    expect(pushed.digest).toBe(img.manifest.digest);
    const back = new MemoryStore();
    const pulled = await copy(
      openRepository(`${registry.host}/mtls/app`, { transport: withCert }),
      'v1',
      back,
      'v1',
    );
    expect(pulled.digest).toBe(img.manifest.digest);
    await withCert.close();

    // podman's --cert-dir: one directory for every registry
    const one = new Transport({ certDir: hostDir });
    expect((await openRepository(`${registry.host}/mtls/app`, { transport: one }).resolve('v1')).digest).toBe(
      img.manifest.digest,
    );
    await one.close();
  });
});
