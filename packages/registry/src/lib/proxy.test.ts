import { InvalidArgumentError } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { ProxyResolver, proxySettingsFromEnv } from './proxy.ts';

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
