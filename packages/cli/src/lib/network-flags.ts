// The network flags of `run`/`create` (issue 15) read as Docker reads them — `-p/--publish`,
// `--expose`, `--add-host`, `--ip`, `--dns` — into the contract's ContainerSpec fields; and the
// published ports as `docker ps` and `docker port` print them. A bad value is an InvalidArgument
// error naming the flag and the value, before anything is made.
import { isIP } from 'node:net';
import type { ContainerSpec, NetworkSpec, PortBinding, PublishedPort } from '@ocikit/engine';
import { InvalidArgumentError, truncate } from '@ocikit/errors';

type Protocol = NonNullable<PortBinding['protocol']>;
const protocols: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

const publishHint =
  'write [IP:][HOST-PORT:]CONTAINER-PORT[/tcp|udp|sctp], ranges as 8000-8001:80-81: -p 8080:80, -p 127.0.0.1:53:53/udp';

/** A port `lo[-hi]` as its first and last; `flag`/`value` name it in errors. */
function portRange(text: string, bad: (why: string) => InvalidArgumentError, what: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw bad(`${what} ${JSON.stringify(truncate(text, 20))} is not a port or a range like 8000-8010`);
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (first < 1 || last > 65535) throw bad(`${what} ${text} is out of 1-65535`);
  if (last < first) throw bad(`${what} range ${text} ends before it starts`);
  return [first, last];
}

/** `PORT[-END][/PROTO]` split into the range and protocol. */
function withProtocol(value: string, bad: (why: string) => InvalidArgumentError): [string, Protocol] {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return [value, 'tcp'];
  const proto = value.slice(slash + 1).toLowerCase();
  if (!protocols.includes(proto as Protocol))
    throw bad(`the protocol must be tcp, udp or sctp, not ${JSON.stringify(truncate(proto, 10))}`);
  return [value.slice(0, slash), proto as Protocol];
}

/**
 * `-p/--publish` as Docker reads it: `[IP:][HOST-PORT:]CONTAINER-PORT[/PROTO]`, an IPv6 address in
 * brackets (`[::1]:8080:80`), `IP::PORT` for a host port the engine picks, and ranges of equal length
 * on both sides (`8000-8001:80-81`) or a container range alone (`80-81`: each on a picked port).
 */
export function parsePublish(value: string): PortBinding[] {
  const bad = (why: string) =>
    new InvalidArgumentError(`--publish ${JSON.stringify(truncate(value, 80))}: ${why}`, {
      hint: publishHint,
    });
  const [rest, protocol] = withProtocol(value, bad);
  let hostIp: string | undefined;
  let ports = rest;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']:');
    if (end < 0) throw bad('an IPv6 address in brackets must be followed by :PORT');
    hostIp = rest.slice(1, end);
    ports = rest.slice(end + 2);
    if (isIP(hostIp) !== 6) throw bad(`${JSON.stringify(truncate(hostIp, 40))} is not an IPv6 address`);
  }
  const parts = ports.split(':');
  if (hostIp === undefined && parts.length === 3) {
    hostIp = parts.shift() ?? '';
    if (isIP(hostIp) !== 4) throw bad(`${JSON.stringify(truncate(hostIp, 40))} is not an IP address`);
  }
  if (parts.length > 2 || parts.length === 0) throw bad('too many fields');
  const containerText = parts.at(-1) ?? '';
  const hostText = parts.length === 2 ? (parts[0] ?? '') : '';
  if (containerText === '') throw bad('give the port in the container');
  const [cFirst, cLast] = portRange(containerText, bad, 'container port');
  const out: PortBinding[] = [];
  if (hostText === '') {
    for (let p = cFirst; p <= cLast; p++)
      out.push({ containerPort: p, protocol, ...(hostIp !== undefined ? { hostIp } : {}) });
    return out;
  }
  const [hFirst, hLast] = portRange(hostText, bad, 'host port');
  if (hLast - hFirst !== cLast - cFirst)
    throw bad(
      hFirst === hLast || cFirst === cLast
        ? 'a host port range needs a container port range of the same length (8000-8001:80-81)'
        : `the host range has ${hLast - hFirst + 1} ports and the container range ${cLast - cFirst + 1}`,
    );
  for (let i = 0; i <= cLast - cFirst; i++)
    out.push({
      containerPort: cFirst + i,
      protocol,
      hostPort: hFirst + i,
      ...(hostIp !== undefined ? { hostIp } : {}),
    });
  return out;
}

/** `--expose PORT[-END][/PROTO]` as `80/tcp` entries. */
export function parseExpose(value: string): string[] {
  const bad = (why: string) =>
    new InvalidArgumentError(`--expose ${JSON.stringify(truncate(value, 80))}: ${why}`, {
      hint: 'write PORT[/tcp|udp|sctp] or a range 8000-8010[/PROTO]',
    });
  const [range, protocol] = withProtocol(value, bad);
  const [first, last] = portRange(range, bad, 'port');
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${protocol}`);
}

/** `--add-host NAME:IP` (or Docker's newer `NAME=IP`; `host-gateway` as the address), checked. */
export function parseAddHost(value: string): string {
  const bad = (why: string) =>
    new InvalidArgumentError(`--add-host ${JSON.stringify(truncate(value, 80))}: ${why}`, {
      hint: 'write NAME:IP, as --add-host db:10.0.0.5',
    });
  const i = value.search(/[:=]/);
  if (i < 0) throw bad('give NAME:IP');
  const name = value.slice(0, i);
  const ip = value.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(name))
    throw bad(`${JSON.stringify(truncate(name, 40))} is not a host name`);
  if (ip !== 'host-gateway' && isIP(ip) === 0)
    throw bad(`${JSON.stringify(truncate(ip, 40))} is not an IP address`);
  return `${name}:${ip}`;
}

/** An address flag's value (`--ip`: IPv4; `--ip6`: IPv6; `--gateway`, `--dns`: either), checked. */
export function parseAddress(flag: 'ip' | 'ip6' | 'gateway' | 'dns', value: string): string {
  const family = isIP(value);
  const wanted = flag === 'ip' ? 4 : flag === 'ip6' ? 6 : family;
  if (family === 0 || family !== wanted)
    throw new InvalidArgumentError(
      `--${flag} ${JSON.stringify(truncate(value, 60))}: not an ${flag === 'ip' ? 'IPv4' : flag === 'ip6' ? 'IPv6' : 'IP'} address`,
    );
  return value;
}

/** `--subnet CIDR`, IPv4 (`A.B.C.D/N`) or IPv6 (`ADDR/N`), checked; its family. */
function subnetOf(value: string): { subnet: string; family: 4 | 6 } {
  const [address = '', prefix = '', extra] = value.split('/');
  const family = isIP(address);
  if (
    family === 0 ||
    extra !== undefined ||
    !/^\d{1,3}$/.test(prefix) ||
    Number(prefix) > (family === 4 ? 32 : 128)
  )
    throw new InvalidArgumentError(
      value.includes(':')
        ? `--subnet ${JSON.stringify(truncate(value, 60))}: not an IPv6 subnet ADDR/N (e.g. fd00:1::/64)`
        : `--subnet ${JSON.stringify(truncate(value, 40))}: not an IPv4 subnet A.B.C.D/N (e.g. 10.89.0.0/24)`,
    );
  return { subnet: value, family: family as 4 | 6 };
}

/**
 * The subnet fields of `network create`'s `--subnet`, `--gateway` and `--ipv6`: one IPv4 subnet at
 * most, any number of IPv6 ones (a range set each, decision 218); IPv6 subnets alone make an
 * IPv6-only network, with `--ipv6` or an IPv4 one a dual-stack network (decisions 202, 217). Each
 * family's gateways go to its subnets in order. InvalidArgument for anything else.
 */
export function subnetFlags(
  subnets: readonly string[],
  gateways: readonly string[],
  ipv6: boolean,
): Pick<NetworkSpec, 'subnet' | 'gateway' | 'ipv6' | 'subnet6' | 'gateway6' | 'moreSubnets6'> {
  const parsed = subnets.map(subnetOf);
  const v4 = parsed.filter((s) => s.family === 4);
  const v6 = parsed.filter((s) => s.family === 6);
  // podman 4.3 takes several, but the bridge plugin then refuses every container: a bridge holds
  // one IPv4 gateway ("already has an IP address different from ...")
  if (v4.length > 1)
    throw new InvalidArgumentError(
      `--subnet: give at most one IPv4 subnet (got ${v4.length}): the CNI bridge plugin keeps one IPv4 gateway on a bridge`,
    );
  const gw = gateways.map((g) => ({ g: parseAddress('gateway', g), family: isIP(g) }));
  for (const { g, family } of gw)
    if (!parsed.some((s) => s.family === family))
      throw new InvalidArgumentError(`--gateway ${g}: no --subnet of its family (IPv${family}) to put it in`);
  const gw4 = gw.filter((x) => x.family === 4).map((x) => x.g);
  const gw6 = gw.filter((x) => x.family === 6).map((x) => x.g);
  if (gw4.length > v4.length || gw6.length > v6.length)
    throw new InvalidArgumentError('--gateway: give at most one per subnet');
  const more = v6.slice(1).map((s, i) => ({
    subnet: s.subnet,
    ...(gw6[i + 1] !== undefined ? { gateway: gw6[i + 1] } : {}),
  }));
  return {
    ...(v4[0] ? { subnet: v4[0].subnet } : {}),
    ...(gw4[0] !== undefined ? { gateway: gw4[0] } : {}),
    // an IPv6 subnet alone makes an IPv6-only network, with --ipv6 or an IPv4 subnet a dual-stack
    // one, as podman 4.3 does (decision 217)
    ...(ipv6 ? { ipv6: true } : {}),
    ...(v6[0] ? { subnet6: v6[0].subnet } : {}),
    ...(gw6[0] !== undefined ? { gateway6: gw6[0] } : {}),
    ...(more.length > 0 ? { moreSubnets6: more } : {}),
  };
}

/** The flags `run` and `create` take for networks. */
export const networkRunFlags = {
  net: { type: 'string' },
  ip: { type: 'string' },
  ip6: { type: 'string' },
  publish: { type: 'string', short: 'p', multiple: true },
  'publish-all': { type: 'boolean', short: 'P' },
  expose: { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  'dns-search': { type: 'string', multiple: true },
  'dns-option': { type: 'string', multiple: true },
  'add-host': { type: 'string', multiple: true },
  'network-alias': { type: 'string', multiple: true },
} as const;

/** Help of {@link networkRunFlags}. */
export const networkRunFlagsHelp = {
  net: 'the same as --network',
  ip: 'a fixed IPv4 address on the container network',
  ip6: 'a fixed IPv6 address on the container network (a dual-stack one)',
  publish: 'publish a port: [IP:][HOST-PORT:]CONTAINER-PORT[/tcp|udp|sctp], ranges as 8000-8001:80-81',
  'publish-all': "publish every exposed port (the image's and --expose) on a port the engine picks",
  expose: 'expose a port or range (PORT[-END][/PROTO]) without publishing it',
  dns: 'a name server for /etc/resolv.conf',
  'dns-search': 'a search domain for /etc/resolv.conf',
  'dns-option': 'a resolver option for /etc/resolv.conf (ndots:2)',
  'add-host': 'an /etc/hosts line NAME:IP',
  'network-alias': 'another name the container is reached by on its network',
} as const;

/** Parsed values of {@link networkRunFlags} (and `--network`). */
export interface NetworkRunValues {
  network?: string | undefined;
  net?: string | undefined;
  ip?: string | undefined;
  ip6?: string | undefined;
  publish?: string[] | undefined;
  'publish-all'?: boolean | undefined;
  expose?: string[] | undefined;
  dns?: string[] | undefined;
  'dns-search'?: string[] | undefined;
  'dns-option'?: string[] | undefined;
  'add-host'?: string[] | undefined;
  'network-alias'?: string[] | undefined;
}

/** The ContainerSpec fields of the network flags, checked (InvalidArgument for a bad value). */
export function networkSpec(values: NetworkRunValues): Partial<ContainerSpec> {
  if (values.network !== undefined && values.net !== undefined && values.network !== values.net)
    throw new InvalidArgumentError(
      `--network ${JSON.stringify(values.network)} and --net ${JSON.stringify(values.net)} disagree: give one`,
    );
  const network = values.network ?? values.net;
  if (network === '') throw new InvalidArgumentError('--network: give none, host, bridge or a network name');
  const publish = (values.publish ?? []).flatMap(parsePublish);
  const exposedPorts = (values.expose ?? []).flatMap(parseExpose);
  const dns = (values.dns ?? []).map((d) => parseAddress('dns', d));
  const extraHosts = (values['add-host'] ?? []).map(parseAddHost);
  const ipAddress = values.ip === undefined ? undefined : parseAddress('ip', values.ip);
  const ip6Address = values.ip6 === undefined ? undefined : parseAddress('ip6', values.ip6);
  if ((network === 'none' || network === 'host') && (publish.length > 0 || values['publish-all']))
    throw new InvalidArgumentError(
      `--publish: a container with --network ${network} has no ports to publish`,
    );
  const list = (key: keyof NetworkRunValues, field: keyof ContainerSpec) => {
    const v = values[key];
    return Array.isArray(v) && v.length > 0 ? { [field]: v } : {};
  };
  return {
    ...(network !== undefined ? { network } : {}),
    ...(ipAddress !== undefined ? { ipAddress } : {}),
    ...(ip6Address !== undefined ? { ip6Address } : {}),
    ...(publish.length > 0 ? { publish } : {}),
    ...(values['publish-all'] ? { publishAll: true } : {}),
    ...(exposedPorts.length > 0 ? { exposedPorts } : {}),
    ...(dns.length > 0 ? { dns } : {}),
    ...list('dns-search', 'dnsSearch'),
    ...list('dns-option', 'dnsOptions'),
    ...(extraHosts.length > 0 ? { extraHosts } : {}),
    ...list('network-alias', 'networkAliases'),
  };
}

/** Strings in code-unit order, as Go compares them. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `0.0.0.0` + `8080` → `0.0.0.0:8080`, an IPv6 address in brackets (Go's JoinHostPort). */
function hostPort(ip: string, port: number | string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Ports as `docker ps` shows them (the docker CLI's DisplayablePorts): runs of consecutive ports
 * grouped — exposed ones (`hostIp` `''`) as `80-81/tcp`, ones published on the same number as
 * `0.0.0.0:8000-8001->8000-8001/tcp` — and the others one by one after (`0.0.0.0:8080->80/tcp`),
 * joined by `, `.
 */
export function displayPorts(ports: readonly PublishedPort[]): string {
  const sorted = [...ports].sort(
    (a, b) =>
      a.containerPort - b.containerPort ||
      compare(a.hostIp, b.hostIp) ||
      a.hostPort - b.hostPort ||
      compare(a.protocol, b.protocol),
  );
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  const form = (key: string, g: { first: number; last: number }) => {
    const [ip = '', proto = ''] = key.split('\u0000');
    const range = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return ip === '' ? `${range}/${proto}` : `${ip}:${range}->${range}/${proto}`;
  };
  for (const p of sorted) {
    if (p.hostIp !== '' && p.hostPort !== p.containerPort) {
      mappings.push(`${hostPort(p.hostIp, p.hostPort)}->${p.containerPort}/${p.protocol}`);
      continue;
    }
    const key = `${p.hostIp}\u0000${p.protocol}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { first: p.containerPort, last: p.containerPort });
    else if (p.containerPort === g.last + 1) g.last = p.containerPort;
    else {
      result.push(form(key, g));
      // the key keeps its place in the final order (the docker CLI's groupMapKeys)
      groups.set(key, { first: p.containerPort, last: p.containerPort });
    }
  }
  for (const [key, g] of groups) result.push(form(key, g));
  return [...result, ...mappings].join(', ');
}

/**
 * The ports `docker port CONTAINER [PRIVATE_PORT[/PROTO]]` shows, in order: all, or those of the
 * port asked for; InvalidArgument for a bad port or one that is not published.
 */
export function selectPorts(
  ports: readonly PublishedPort[],
  container: string,
  asked?: string,
): PublishedPort[] {
  // published ones only (a list's exposed ports have no host port)
  const sorted = ports
    .filter((p) => p.hostPort > 0)
    .sort(
      (a, b) =>
        a.containerPort - b.containerPort ||
        compare(a.protocol, b.protocol) ||
        compare(a.hostIp, b.hostIp) ||
        a.hostPort - b.hostPort,
    );
  if (asked === undefined) return sorted;
  const bad = (why: string) => new InvalidArgumentError(`ocikit port: ${why}`);
  const [portText, protocol] = withProtocol(asked, (why) =>
    bad(`${JSON.stringify(truncate(asked, 30))}: ${why}`),
  );
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    throw bad(`${JSON.stringify(truncate(asked, 30))} is not a port (PORT[/tcp|udp|sctp])`);
  const found = sorted.filter((p) => p.containerPort === Number(portText) && p.protocol === protocol);
  if (found.length === 0)
    throw bad(`no public port '${portText}/${protocol}' published for ${JSON.stringify(container)}`);
  return found;
}

/**
 * The lines of `docker port`: `80/tcp -> 0.0.0.0:8080` for every port, or `0.0.0.0:8080` when one
 * port was asked for (see {@link selectPorts}).
 */
export function portLines(ports: readonly PublishedPort[], container: string, asked?: string): string[] {
  return selectPorts(ports, container, asked).map((p) =>
    asked === undefined
      ? `${p.containerPort}/${p.protocol} -> ${hostPort(p.hostIp, p.hostPort)}`
      : hostPort(p.hostIp, p.hostPort),
  );
}
