// Which proxy a registry request goes through, by the rules every Go container tool (podman, skopeo,
// docker, containerd) follows: golang.org/x/net/http/httpproxy, read from HTTPS_PROXY, HTTP_PROXY and
// NO_PROXY (upper case first, then lower case). Decision 060.
import { InvalidArgumentError } from '@ocikit/errors';

const net = process.getBuiltinModule('node:net');

/** Proxy settings as in the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`). */
export interface ProxySettings {
  /** The proxy for `https:` requests. */
  readonly httpsProxy?: string | undefined;
  /** The proxy for `http:` requests. */
  readonly httpProxy?: string | undefined;
  /** Comma-separated hosts, domains, IP addresses and CIDR ranges never proxied; `*` for none at all. */
  readonly noProxy?: string | undefined;
  /** Running as a CGI script (`REQUEST_METHOD` set): `HTTP_PROXY` is ignored, as Go does (httpoxy). */
  readonly cgi?: boolean | undefined;
}

/** Reads {@link ProxySettings} from an environment, upper-case names first, as Go does. */
export function proxySettingsFromEnv(env: Record<string, string | undefined>): ProxySettings {
  const any = (...names: string[]) => {
    for (const n of names) {
      const v = env[n];
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  };
  return {
    httpsProxy: any('HTTPS_PROXY', 'https_proxy'),
    httpProxy: any('HTTP_PROXY', 'http_proxy'),
    noProxy: any('NO_PROXY', 'no_proxy'),
    cgi: (env['REQUEST_METHOD'] ?? '') !== '',
  };
}

type Matcher = (host: string, port: string, ip: string | undefined) => boolean;

/** Parses a proxy address as Go does: `host:port` alone means `http://host:port`. */
function parseProxy(value: string | undefined, variable: string): URL | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
    if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(url.protocol)) url = undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined) {
    try {
      url = new URL(`http://${value}`);
    } catch {
      throw new InvalidArgumentError(
        `${variable} is not a proxy address: ${JSON.stringify(value.slice(0, 80))}`,
        {
          hint: 'write it as http://HOST:PORT',
        },
      );
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`${variable}: ${url.protocol.slice(0, -1)} proxies are not supported`, {
      hint: 'use an HTTP proxy (http://HOST:PORT or https://HOST:PORT)',
    });
  }
  return url;
}

/** The default port of a scheme, as Go's canonicalAddr. */
function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

function bareHost(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function isLoopbackIp(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip) || /^::ffff:127\./i.test(ip);
}

/**
 * Picks the proxy for each request URL: `https:` URLs through `httpsProxy`, `http:` URLs through
 * `httpProxy`; never for `localhost` or a loopback address; never for a host that `noProxy` names
 * (`host` matches it and its subdomains, `.host` only subdomains, `*.host` as `.host`, an IP or a
 * CIDR range, each optionally with `:port`; `*` matches everything).
 */
export class ProxyResolver {
  readonly #https: URL | undefined;
  readonly #http: URL | undefined;
  readonly #ip: Matcher[] = [];
  readonly #domain: Matcher[] = [];
  readonly #all: boolean = false;

  constructor(settings: ProxySettings) {
    this.#https = parseProxy(settings.httpsProxy, 'HTTPS_PROXY');
    this.#http = settings.cgi ? undefined : parseProxy(settings.httpProxy, 'HTTP_PROXY');
    for (const raw of (settings.noProxy ?? '').split(',')) {
      const p = raw.trim().toLowerCase();
      if (p === '') continue;
      if (p === '*') {
        this.#all = true;
        break;
      }
      const cidr = /^(.+)\/(\d{1,3})$/.exec(p);
      if (cidr?.[1] !== undefined && net.isIP(cidr[1]) !== 0) {
        const family = net.isIP(cidr[1]) === 4 ? 'ipv4' : 'ipv6';
        const bits = Number(cidr[2]);
        if (bits > (family === 'ipv4' ? 32 : 128)) continue;
        const list = new net.BlockList();
        list.addSubnet(cidr[1], bits, family);
        this.#ip.push(
          (_h, _p, ip) => ip !== undefined && list.check(ip, net.isIP(ip) === 4 ? 'ipv4' : 'ipv6'),
        );
        continue;
      }
      // host:port, [v6]:port, or a bare host / IP
      let host = p;
      let port = '';
      const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(p);
      const hp = /^([^:]+):(\d*)$/.exec(p);
      if (v6?.[1] !== undefined) {
        host = v6[1];
        port = v6[2] ?? '';
      } else if (hp?.[1] !== undefined) {
        host = hp[1];
        port = hp[2] ?? '';
      }
      if (host === '') continue;
      if (net.isIP(host) !== 0) {
        const want = host;
        this.#ip.push(
          (_h, rport, ip) => ip !== undefined && sameIp(ip, want) && (port === '' || port === rport),
        );
        continue;
      }
      if (host.startsWith('*.')) host = host.slice(1);
      const matchHost = !host.startsWith('.');
      const suffix = matchHost ? `.${host}` : host;
      this.#domain.push(
        (h, rport) =>
          (h.endsWith(suffix) || (matchHost && h === suffix.slice(1))) && (port === '' || port === rport),
      );
    }
  }

  /** The proxy for a request to `url`, or undefined to connect directly. */
  proxyFor(url: URL): URL | undefined {
    const proxy = url.protocol === 'https:' ? this.#https : url.protocol === 'http:' ? this.#http : undefined;
    if (proxy === undefined) return undefined;
    const host = bareHost(url.hostname).toLowerCase();
    const port = url.port || defaultPort(url.protocol);
    if (host === 'localhost') return undefined;
    const ip = net.isIP(host) !== 0 ? host : undefined;
    if (ip !== undefined && isLoopbackIp(ip)) return undefined;
    if (this.#all) return undefined;
    if (ip !== undefined && this.#ip.some((m) => m(host, port, ip))) return undefined;
    if (this.#domain.some((m) => m(host, port, ip))) return undefined;
    return proxy;
  }
}

function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  const norm = (ip: string) => {
    const list = new net.BlockList();
    list.addAddress(ip, net.isIP(ip) === 4 ? 'ipv4' : 'ipv6');
    return list;
  };
  return norm(b).check(a, net.isIP(a) === 4 ? 'ipv4' : 'ipv6');
}
