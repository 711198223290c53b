import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, MemoryStore } from '@ocikit/content';
import { InvalidArgumentError, isUnavailable } from '@ocikit/errors';
import {
  type RunningRegistry,
  type RunningTinyproxy,
  startRegistry,
  startTinyproxy,
} from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyResolver, proxySettingsFromEnv } from './proxy.ts';
import { openRepository } from './repository.ts';
import { makeImage } from './test-support.ts';
import { Transport } from './transport.ts';

// Cases from golang.org/x/net/http/httpproxy's own tests (UseProxyTests), which podman, skopeo and
// docker all follow.
const noProxy =
  'foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:3]:80, 2002:db8:a::45/64';

describe('ProxyResolver', () => {
  const r = new ProxyResolver({ httpProxy: 'http://proxy.example:3128', noProxy });
  it.each([
    ['localhost', false],
    ['127.0.0.1', false],
    ['127.0.0.2', false],
    ['[::1]', false],
    ['[::2]', true],
    ['192.168.1.1', false],
    ['192.168.1.2', true], // port 81 only
    ['192.168.1.3', false],
    ['192.168.1.4', true],
    ['10.0.0.2', false],
    ['10.0.0.4', true],
    ['[2001:db8::52:0:1]', false],
    ['[2001:db8::52:0:2]', true],
    ['[2001:db8::52:0:3]', false],
    ['[2002:db8:a::123]', false],
    ['[fe80::424b:c8be:1643:a1b6]', true],
    ['barbaz.net', true],
    ['www.barbaz.net', false],
    ['foobar.com', false],
    ['www.foobar.com', false],
    ['foofoobar.com', true],
    ['baz.com', true],
    ['localhost.net', true],
    ['local.localhost', true],
    ['barbarbaz.net', true],
    ['wildcard.io', true],
    ['nested.wildcard.io', false],
    ['awildcard.io', true],
  ])('http://%s proxied: %s', (host, proxied) => {
    expect(r.proxyFor(new URL(`http://${host}/v2/`)) !== undefined).toBe(proxied);
  });

  it('uses the proxy of the request scheme; host:port alone means http://', () => {
    const both = new ProxyResolver({ httpsProxy: 'secure.proxy:8443', httpProxy: 'http://plain.proxy:3128' });
    expect(both.proxyFor(new URL('https://registry.example/v2/'))?.href).toBe('http://secure.proxy:8443/');
    expect(both.proxyFor(new URL('http://registry.example/v2/'))?.href).toBe('http://plain.proxy:3128/');
    const httpsOnly = new ProxyResolver({ httpsProxy: 'http://p:1' });
    expect(httpsOnly.proxyFor(new URL('http://registry.example/'))).toBeUndefined();
  });

  it('matches ports of domain entries, and * turns proxies off', () => {
    const ported = new ProxyResolver({ httpsProxy: 'http://p:1', noProxy: 'registry.test:5000' });
    expect(ported.proxyFor(new URL('https://registry.test:5000/'))).toBeUndefined();
    expect(ported.proxyFor(new URL('https://registry.test:5001/'))).toBeDefined();
    expect(ported.proxyFor(new URL('https://registry.test/'))).toBeDefined();
    const none = new ProxyResolver({ httpsProxy: 'http://p:1', noProxy: ' * ' });
    expect(none.proxyFor(new URL('https://registry.test/'))).toBeUndefined();
  });

  it('reads upper case before lower case, and ignores HTTP_PROXY under CGI', () => {
    const s = proxySettingsFromEnv({
      HTTPS_PROXY: 'http://upper:1',
      https_proxy: 'http://lower:1',
      no_proxy: 'x',
    });
    expect(s).toMatchObject({ httpsProxy: 'http://upper:1', noProxy: 'x', cgi: false });
    expect(proxySettingsFromEnv({ http_proxy: 'http://lower:1' }).httpProxy).toBe('http://lower:1');
    const cgi = new ProxyResolver(proxySettingsFromEnv({ HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' }));
    expect(cgi.proxyFor(new URL('http://registry.example/'))).toBeUndefined();
  });

  it('refuses proxies it cannot speak, naming the variable', () => {
    expect(() => new ProxyResolver({ httpsProxy: 'socks5://p:1080' })).toThrow(InvalidArgumentError);
    expect(() => new ProxyResolver({ httpsProxy: 'socks5://p:1080' })).toThrow(/HTTPS_PROXY: socks5/);
  });
});

// Through a real forward proxy (tinyproxy). The registries are named `registry.test`, a name only the
// proxy resolves (see startTinyproxy): a request that bypassed the proxy could not connect at all.
describe('registry traffic through tinyproxy', () => {
  let tls: RunningRegistry;
  let plain: RunningRegistry;
  let proxy: RunningTinyproxy;
  let certs: string;
  beforeAll(async () => {
    [tls, plain] = await Promise.all([
      startRegistry({ auth: 'basic', tls: { names: ['registry.test'] } }),
      startRegistry({ auth: 'basic' }),
    ]);
    const tlsAddress = tls.host.split(':')[0] as string;
    proxy = await startTinyproxy({
      hosts: { 'registry.test': tlsAddress, 'plain.registry.test': '127.0.0.1' },
    });
    certs = await mkdtemp(join(tmpdir(), 'ocikit-proxy-certs-'));
    await mkdir(join(certs, `registry.test:${port(tls)}`));
    await copyFile(tls.caFile as string, join(certs, `registry.test:${port(tls)}`, 'ca.crt'));
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([tls?.stop(), plain?.stop()]);
    if (certs) await rm(certs, { recursive: true, force: true });
  });
  const port = (r: RunningRegistry) => r.host.split(':')[1] as string;
  /** The plaintext a client sent before TLS began: the CONNECT request's head. */
  const heads = (seen: string[]) => seen.map((c) => c.slice(0, c.indexOf('\r\n\r\n') + 4));

  it('pushes and pulls over HTTPS through a CONNECT tunnel; the proxy never sees the credentials', async () => {
    const name = `registry.test:${port(tls)}/proxied/app`;
    const img = await makeImage({ layers: [300_000, 5000], tag: 'v1' });
    const before = proxy.received().length;
    const transport = new Transport({
      proxy: { httpsProxy: proxy.url },
      certsDirs: [certs],
      credentials: tls.credentials,
    });
    const pushed = await copy(img.store, 'v1', openRepository(name, { transport }), 'v1');
    expect(pushed.digest).toBe(img.manifest.digest);
    const back = new MemoryStore();
    expect((await copy(openRepository(name, { transport }), 'v1', back, 'v1')).digest).toBe(
      img.manifest.digest,
    );
    await transport.close();

    const seen = proxy.received().slice(before);
    expect(seen.length).toBeGreaterThan(0);
    for (const head of heads(seen)) {
      expect(head).toMatch(new RegExp(`^CONNECT registry\\.test:${port(tls)} HTTP/1\\.1\\r\\n`));
      expect(head).not.toMatch(/authorization/i);
    }
    const basic = Buffer.from(`${tls.credentials.username}:${tls.credentials.password}`).toString('base64');
    for (const bytes of seen) {
      expect(bytes.includes(basic)).toBe(false);
      expect(bytes.includes(tls.credentials.password)).toBe(false);
    }
    expect(await proxy.log()).toMatch(new RegExp(`CONNECT registry\\.test:${port(tls)}`));
  });

  it('forwards plain HTTP through HTTP_PROXY, and NO_PROXY sends a host around the proxy', async () => {
    const name = `plain.registry.test:${port(plain)}/proxied/plain`;
    const img = await makeImage({ layers: [2000], tag: 'v1' });
    const before = proxy.received().length;
    const transport = new Transport({
      proxy: { httpProxy: proxy.url, noProxy: 'other.example' },
      plainHttp: true,
      credentials: plain.credentials,
    });
    await copy(img.store, 'v1', openRepository(name, { transport }), 'v1');
    await transport.close();
    const seen = proxy.received().slice(before).join('');
    expect(seen).toMatch(new RegExp(`(GET|HEAD|PUT|POST) http://plain\\.registry\\.test:${port(plain)}/v2/`));

    // excluded by NO_PROXY (a domain and its subdomains): connects directly, where the name does not resolve
    const count = proxy.received().length;
    const direct = new Transport({
      proxy: { httpProxy: proxy.url, noProxy: 'registry.test' },
      plainHttp: true,
      retries: 0,
    });
    const error = await openRepository(name, { transport: direct })
      .resolve('v1')
      .catch((e: unknown) => e);
    await direct.close();
    expect(isUnavailable(error)).toBe(true);
    expect((error as Error).message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(proxy.received().length).toBe(count);
  });

  it('never proxies loopback registries', async () => {
    const img = await makeImage({ layers: [1000], tag: 'v1' });
    const count = proxy.received().length;
    const transport = new Transport({
      proxy: { httpProxy: 'http://127.0.0.1:9', httpsProxy: 'http://127.0.0.1:9' },
      credentials: plain.credentials,
    });
    await copy(img.store, 'v1', openRepository(`${plain.host}/loopback/app`, { transport }), 'v1');
    await transport.close();
    expect(proxy.received().length).toBe(count);
  });
});
