// The CLI's environment as podman users have it: HTTPS_PROXY through a real forward proxy (tinyproxy)
// and a client certificate in ~/.config/containers/certs.d, against a real registry that requires
// one. The registry is named registry.test, a name only the proxy resolves (see startTinyproxy).
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import {
  makeClientCertificate,
  type RunningRegistry,
  type RunningTinyproxy,
  startRegistry,
  startTinyproxy,
} from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-proxy-'));

let registry: RunningRegistry;
let proxy: RunningTinyproxy;
let image: BuiltImage;
let home: string;
let name: string;
let certs: string;

beforeAll(async () => {
  registry = await startRegistry({ tls: { names: ['registry.test'], clientCertificates: true } });
  const [address, port] = registry.host.split(':') as [string, string];
  proxy = await startTinyproxy({ hosts: { 'registry.test': address } });
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  home = tmp();
  name = `registry.test:${port}/proxied/busybox:v1`;
  certs = join(home, '.config/containers/certs.d', `registry.test:${port}`);
  mkdirSync(certs, { recursive: true });
  copyFileSync(registry.caFile as string, join(certs, 'ca.crt'));
  await makeClientCertificate(certs, registry.pki as NonNullable<RunningRegistry['pki']>, 'client');
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(['--root', tmp(), ...args], {
    env: { HOME: home, DOCKER_CONFIG: tmp(), REGISTRY_AUTH_FILE: join(home, 'none.json'), ...env },
  });

describe('HTTPS_PROXY and certs.d from the environment', () => {
  it('pushes and pulls through the proxy with the client certificate from ~/.config/containers/certs.d', async () => {
    const before = proxy.received().length;
    const pushed = await cli(['push', `oci:${image.layout}:busybox`, name], { https_proxy: proxy.url });
    expect(pushed.code, pushed.stderr).toBe(0);
    const pulled = await cli(['pull', name], { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com' });
    expect(pulled.code, pulled.stderr).toBe(0);
    const seen = proxy.received().slice(before);
    expect(seen.length).toBeGreaterThan(0);
    for (const c of seen) expect(c).toMatch(/^CONNECT registry\.test:\d+ HTTP\/1\.1\r\n/);
  });

  it("takes podman's --cert-dir: one directory for every registry, instead of certs.d", async () => {
    const elsewhere = tmp();
    const without = await runCli(['--root', tmp(), 'pull', name], {
      env: { HOME: elsewhere, HTTPS_PROXY: proxy.url },
    });
    expect(without.code).not.toBe(0);
    const r = await runCli(['--root', tmp(), 'pull', '--cert-dir', certs, name], {
      env: { HOME: elsewhere, HTTPS_PROXY: proxy.url },
    });
    expect(r.code, r.stderr).toBe(0);
  });

  it('goes around the proxy for NO_PROXY hosts (where the name does not resolve)', async () => {
    const before = proxy.received().length;
    const r = await cli(['pull', name], { HTTPS_PROXY: proxy.url, NO_PROXY: '.test' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(proxy.received().length).toBe(before);
  });
});
