import { InvalidArgumentError, truncate } from '@ocikit/errors';
import type { CniResult } from './cni.ts';
import { ipv4ToNumber } from './ip.ts';

/** A host name and the address it resolves to: an `--add-host` entry or a peer container. */
export interface HostEntry {
  /** The names, first the canonical one. */
  readonly names: readonly string[];
  /** The address (IPv4 or IPv6). */
  readonly ip: string;
}

/** Input for {@link hostsFile}. */
export interface HostsFileOptions {
  /** The container's hostname. */
  hostname: string;
  /** The container's domain name; adds `hostname.domainname` before `hostname`. */
  domainname?: string;
  /** More names on the container's own lines after its hostname (its container name, network aliases). */
  aliases?: readonly string[];
  /** The container's own addresses (plain or CIDR, e.g. from {@link containerAddresses}). */
  addresses?: readonly string[];
  /** `--add-host` entries, written before the container's own line, as Docker does. */
  extraHosts?: readonly HostEntry[];
  /** Other containers on the same networks, reachable by name (and alias). */
  peers?: readonly HostEntry[];
}

/** Input for {@link resolvConf}. */
export interface ResolvConfOptions {
  /** `--dns` servers; default: the CNI result's, else the host's non-loopback ones, else Docker's fallback. */
  nameservers?: readonly string[];
  /** `--dns-search` domains; default: the CNI result's, else the host's. */
  search?: readonly string[];
  /** `--dns-option` options; default: the CNI result's, else the host's. */
  options?: readonly string[];
  /** The host's `/etc/resolv.conf` text, read by the caller. */
  hostResolvConf?: string;
  /** The CNI result, whose `dns` the plugins may have filled. */
  result?: CniResult;
}

const hostnameRe =
  /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
// names in a hosts file: any Docker container name (letters, digits, '_', '.', '-'; glibc and
// musl split entries at white space only), so '_', a trailing '-' and long names are fine
const hostsNameRe = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/;
const ipv6Re = /^[0-9a-fA-F:.]+$/;

function checkIp(ip: string, what: string): string {
  const plain = ip.split('/')[0] ?? '';
  if (ipv4ToNumber(plain) === undefined && !(plain.includes(':') && ipv6Re.test(plain))) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(truncate(ip))} is not an IP address`, {
      details: { [what]: truncate(ip) },
    });
  }
  return plain;
}

function checkHostname(name: string, what = 'hostname', re = hostnameRe): string {
  if (name.length > 253 || !re.test(name)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(truncate(name))} is not a valid host name`, {
      details: { [what]: truncate(name) },
    });
  }
  return name;
}

/**
 * Parses Docker's `--add-host NAME:IP` (the IP may be IPv6, so the split is at the first colon;
 * `NAME=IP` is accepted too).
 *
 * @throws InvalidArgumentError naming the bad part.
 * @example
 * ```ts
 * parseAddHost('db:10.88.0.5'); // { names: ['db'], ip: '10.88.0.5' }
 * ```
 */
export function parseAddHost(text: string): HostEntry {
  const i = text.search(/[:=]/);
  if (i <= 0) {
    throw new InvalidArgumentError(`--add-host ${JSON.stringify(truncate(text))} is not NAME:IP`, {
      details: { addHost: truncate(text) },
    });
  }
  const ip = text.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
  return { names: [checkHostname(text.slice(0, i), 'add-host name')], ip: checkIp(ip, 'add-host address') };
}

/** The container-side addresses of a CNI result (those on an interface inside the namespace), without prefix. */
export function containerAddresses(result: CniResult): string[] {
  return result.ips
    .filter((ip) => ip.interface === undefined || result.interfaces[ip.interface]?.sandbox !== undefined)
    .map((ip) => ip.address.split('/')[0] ?? '');
}

function line(ip: string, names: readonly string[]): string {
  return `${ip}\t${names.join(' ')}\n`;
}

/**
 * Renders a container's `/etc/hosts`: localhost entries, `--add-host` entries, the container's own
 * addresses with its hostname and aliases, then its peers by name (names in entries may hold `_`) (the engine re-renders it as peers come and go).
 *
 * @throws InvalidArgumentError for a bad host name or address.
 * @example
 * ```ts
 * hostsFile({ hostname: 'web', addresses: ['10.88.0.2'], peers: [{ names: ['db'], ip: '10.88.0.3' }] });
 * ```
 */
export function hostsFile(options: HostsFileOptions): string {
  const hostname = checkHostname(options.hostname);
  const own = options.domainname
    ? [`${hostname}.${checkHostname(options.domainname, 'domainname')}`, hostname]
    : [hostname];
  for (const a of options.aliases ?? []) {
    if (!own.includes(a)) own.push(checkHostname(a, 'alias', hostsNameRe));
  }
  let out =
    '127.0.0.1\tlocalhost\n' +
    '::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\n' +
    'ff00::0\tip6-mcastprefix\n' +
    'ff02::1\tip6-allnodes\n' +
    'ff02::2\tip6-allrouters\n';
  const entry = (e: HostEntry, what: string) => {
    if (e.names.length === 0) throw new InvalidArgumentError(`${what} for ${e.ip} has no name`);
    return line(
      checkIp(e.ip, `${what} address`),
      e.names.map((n) => checkHostname(n, `${what} name`, hostsNameRe)),
    );
  };
  for (const e of options.extraHosts ?? []) out += entry(e, 'add-host');
  const addresses = options.addresses ?? [];
  if (addresses.length === 0) out += line('127.0.1.1', own);
  for (const a of addresses) out += line(checkIp(a, 'address'), own);
  for (const p of options.peers ?? []) out += entry(p, 'peer');
  return out;
}

const loopbackNs = /^(127\.|::1$)/;

/**
 * Renders a container's `/etc/resolv.conf` as Docker does: the given servers, else the CNI
 * result's, else the host's minus loopback ones (they do not answer inside the container's
 * namespace), else 8.8.8.8 and 8.8.4.4; search domains and options likewise.
 *
 * @throws InvalidArgumentError for a server that is not an IP address, or a bad search domain.
 */
export function resolvConf(options: ResolvConfOptions = {}): string {
  const host = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const raw of (options.hostResolvConf ?? '').split('\n')) {
    const [key, ...rest] = raw.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) host.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') host.search = rest;
    else if (key === 'options') host.options.push(...rest);
  }
  const dns = options.result?.dns;
  const pick = (
    given: readonly string[] | undefined,
    cni: readonly string[] | undefined,
    fallback: string[],
  ) => (given && given.length > 0 ? [...given] : cni && cni.length > 0 ? [...cni] : fallback);
  let servers = pick(
    options.nameservers,
    dns?.nameservers,
    host.nameservers.filter((s) => !loopbackNs.test(s)),
  );
  if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
  const search = pick(options.search, dns?.search ?? (dns?.domain ? [dns.domain] : undefined), host.search);
  const opts = pick(options.options, dns?.options, host.options);
  let out = '';
  for (const s of search) checkHostname(s, 'dns-search domain');
  if (search.length > 0) out += `search ${search.join(' ')}\n`;
  for (const s of servers) out += `nameserver ${checkIp(s, 'dns server')}\n`;
  for (const o of opts) {
    if (/\s/.test(o) || o === '')
      throw new InvalidArgumentError(`dns option ${JSON.stringify(truncate(o))} is invalid`);
  }
  if (opts.length > 0) out += `options ${opts.join(' ')}\n`;
  return out;
}

/**
 * Renders a container's `/etc/hostname`.
 *
 * @throws InvalidArgumentError for a name that is not a valid host name.
 */
export function hostnameFile(hostname: string): string {
  return `${checkHostname(hostname)}\n`;
}
