// networks.* over the Docker API (`/networks`, `/networks/create`, `/networks/{id}`, `DELETE`,
// `/networks/{id}/connect|disconnect`, `/networks/prune`), which Podman's compatible API answers
// alike; and the network parts of a container's create body, inspect and list answers.
import type {
  ContainerDetails,
  ContainerNetwork,
  ContainerSpec,
  Handlers,
  NetworkDetails,
  PublishedPort,
} from '../contract.ts';
import type { EngineHttp, HttpRequest } from './http.ts';
import { bool, isObj, type Json, labels, nonEmpty, num, obj, str, strings } from './json.ts';

type NetworkHandlers = Pick<
  Handlers,
  | 'networks.create'
  | 'networks.list'
  | 'networks.inspect'
  | 'networks.remove'
  | 'networks.prune'
  | 'networks.connect'
  | 'networks.disconnect'
>;

/** An IPv4 address field, or undefined (podman's compatible API writes `<nil>` for none). */
const ipv4 = (o: Json, key: string): string | undefined => {
  const v = str(o, key);
  return v !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(v) ? v : undefined;
};

/** An IPv6 address field, or undefined (empty, or podman's `<nil>`). */
const ipv6 = (o: Json, key: string): string | undefined => {
  const v = str(o, key);
  return v !== undefined && /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/.test(v) ? v : undefined;
};

/** `10.88.0.5/16` → `10.88.0.5`. */
const address = (cidr: string | undefined): string => (cidr ?? '').split('/')[0] ?? '';

/** A network as the API gives it (`Name`, `Id`, `Driver`, `IPAM.Config`, `Internal`, `Containers`, …). */
export function networkOf(v: Json): NetworkDetails {
  const ipam = obj(v['IPAM']);
  const configs = Array.isArray(ipam['Config']) ? ipam['Config'] : [];
  const all = configs.map((c) => obj(c)).filter((c) => str(c, 'Subnet') !== undefined);
  const v6 = (c: Json) => (str(c, 'Subnet') ?? '').includes(':');
  // IPv4 first, then IPv6 (dockerd lists them as given, podman IPv6 first when it picked the IPv4 one)
  const subnets = [
    ...all
      .filter((c) => !v6(c))
      .map((c) => ({ subnet: str(c, 'Subnet') ?? '', gateway: ipv4(c, 'Gateway') })),
    ...all.filter(v6).map((c) => ({ subnet: str(c, 'Subnet') ?? '', gateway: ipv6(c, 'Gateway') })),
  ];
  const attached = v['Containers'];
  const options = labels(v, 'Options');
  return {
    name: str(v, 'Name') ?? '',
    id: str(v, 'Id') ?? '',
    driver: str(v, 'Driver') ?? '',
    subnets,
    ipv6: bool(v, 'EnableIPv6'),
    internal: bool(v, 'Internal'),
    labels: labels(v, 'Labels'),
    created: nonEmpty(v, 'Created'),
    interface: options['com.docker.network.bridge.name'],
    containers: isObj(attached)
      ? Object.entries(attached).map(([id, c]) => ({
          id,
          name: str(obj(c), 'Name') ?? '',
          ipAddress: address(str(obj(c), 'IPv4Address')),
          ipv6Address: address(str(obj(c), 'IPv6Address')) || undefined,
        }))
      : undefined,
    raw: v,
  };
}

const protocols = new Set(['tcp', 'udp', 'sctp']);
/** A port's protocol as the API names it: `tcp`, `udp` or `sctp`, else (or none) `tcp`. */
export const protocolOf = (p: string | undefined): PublishedPort['protocol'] =>
  protocols.has(p ?? '') ? (p as PublishedPort['protocol']) : 'tcp';

/** Inspect's `NetworkSettings.Ports` (`{"80/tcp": [{HostIp, HostPort}]}`) as published ports. */
export function portsOfSettings(settings: Json): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(obj(settings['Ports']))) {
    const [port = '', proto] = key.split('/');
    if (!Array.isArray(bindings)) continue;
    for (const b of bindings) {
      const hostPort = Number(str(obj(b), 'HostPort'));
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      out.push({
        containerPort: Number(port),
        protocol: protocolOf(proto),
        hostPort,
        hostIp: str(obj(b), 'HostIp') || '0.0.0.0',
      });
    }
  }
  return sortPorts(out);
}

/**
 * List's `Ports` (`[{IP, PrivatePort, PublicPort, Type}]`): the published ones, and the exposed ones
 * without a host port as `hostPort` 0 and `hostIp` `''` (docker's `ps` shows them as `80/tcp`).
 */
export function portsOfList(v: Json): PublishedPort[] {
  const list = Array.isArray(v['Ports']) ? v['Ports'] : [];
  const out: PublishedPort[] = [];
  for (const x of list) {
    const p = obj(x);
    const hostPort = num(p, 'PublicPort') ?? 0;
    const containerPort = num(p, 'PrivatePort');
    if (containerPort === undefined) continue;
    out.push({
      containerPort,
      protocol: protocolOf(str(p, 'Type')),
      hostPort,
      hostIp: hostPort > 0 ? str(p, 'IP') || '0.0.0.0' : '',
    });
  }
  return sortPorts(out);
}

/** Ports in `docker port`'s order: container port, protocol, host address, host port. */
export function sortPorts(ports: PublishedPort[]): PublishedPort[] {
  return ports.sort(
    (a, b) =>
      a.containerPort - b.containerPort ||
      a.protocol.localeCompare(b.protocol) ||
      a.hostIp.localeCompare(b.hostIp) ||
      a.hostPort - b.hostPort,
  );
}

/** The network names of a list entry's `NetworkSettings.Networks`. */
export function networkNamesOfList(v: Json): string[] {
  return Object.keys(obj(obj(v['NetworkSettings'])['Networks'])).sort();
}

/** Inspect's `NetworkSettings` and `HostConfig.NetworkMode` as the contract's `network`. */
export function containerNetworkOf(v: Json): NonNullable<ContainerDetails['network']> {
  const settings = obj(v['NetworkSettings']);
  const networks: ContainerNetwork[] = Object.entries(obj(settings['Networks']))
    .map(([name, x]) => {
      const n = obj(x);
      return {
        name,
        networkId: nonEmpty(n, 'NetworkID'),
        ipAddress: str(n, 'IPAddress') ?? '',
        ipPrefixLen: num(n, 'IPPrefixLen') || undefined,
        gateway: ipv4(n, 'Gateway'),
        globalIpv6Address: ipv6(n, 'GlobalIPv6Address'),
        globalIpv6PrefixLen: num(n, 'GlobalIPv6PrefixLen') || undefined,
        ipv6Gateway: ipv6(n, 'IPv6Gateway'),
        macAddress: nonEmpty(n, 'MacAddress'),
        aliases: strings(n, 'Aliases'),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  let mode = str(obj(v['HostConfig']), 'NetworkMode') ?? '';
  // podman's compatible API says `bridge` for a container created on a named network: its network
  if (mode === 'bridge' && networks.length > 0 && !networks.some((n) => n.name === 'bridge'))
    mode = networks[0]?.name ?? mode;
  return {
    mode,
    networks,
    ports: portsOfSettings(settings),
    hostname: nonEmpty(obj(v['Config']), 'Hostname'),
  };
}

/** `80` + `tcp` → `80/tcp`. */
const portKey = (port: number, protocol: string | undefined) => `${port}/${protocol ?? 'tcp'}`;

/** An endpoint's `IPAMConfig` (fixed addresses) and `Aliases`, as create and connect send them. */
function endpointConfig(
  ipAddress: string | undefined,
  ip6Address: string | undefined,
  aliases: string[] | undefined,
): Json {
  const endpoint: Json = {};
  if (ipAddress !== undefined || ip6Address !== undefined)
    endpoint['IPAMConfig'] = {
      ...(ipAddress !== undefined ? { IPv4Address: ipAddress } : {}),
      ...(ip6Address !== undefined ? { IPv6Address: ip6Address } : {}),
    };
  if (aliases && aliases.length > 0) endpoint['Aliases'] = aliases;
  return endpoint;
}

/**
 * The network parts of `POST /containers/create`: `ExposedPorts` (top level), the `HostConfig`
 * fields, and `NetworkingConfig` for a fixed address or aliases on the container's network.
 */
export function networkCreateFields(spec: ContainerSpec): {
  exposedPorts: Json | undefined;
  hostConfig: Json;
  networkingConfig: Json | undefined;
} {
  const exposed: Json = {};
  for (const p of spec.exposedPorts ?? []) exposed[p.includes('/') ? p : `${p}/tcp`] = {};
  const bindings: Record<string, Json[]> = {};
  for (const b of spec.publish ?? []) {
    const key = portKey(b.containerPort, b.protocol);
    exposed[key] = {};
    const binding = { HostIp: b.hostIp ?? '', HostPort: b.hostPort ? String(b.hostPort) : '' };
    bindings[key] = [...(bindings[key] ?? []), binding];
  }
  const endpoint = endpointConfig(spec.ipAddress, spec.ip6Address, spec.networkAliases);
  const network = spec.network ?? 'bridge';
  return {
    exposedPorts: Object.keys(exposed).length > 0 ? exposed : undefined,
    hostConfig: {
      NetworkMode: spec.network,
      PortBindings: Object.keys(bindings).length > 0 ? bindings : undefined,
      PublishAllPorts: spec.publishAll,
      Dns: spec.dns,
      DnsSearch: spec.dnsSearch,
      DnsOptions: spec.dnsOptions,
      ExtraHosts: spec.extraHosts,
    },
    networkingConfig:
      Object.keys(endpoint).length > 0 ? { EndpointsConfig: { [network]: endpoint } } : undefined,
  };
}

/** The network handlers of a Docker-API engine under the API prefix `prefix`. */
export function networkHandlers(http: EngineHttp, prefix: string): NetworkHandlers {
  const at = (name: string, rest = '') => `${prefix}/networks/${encodeURIComponent(name)}${rest}`;
  const inspect = async (
    name: string,
    signal: AbortSignal | undefined,
    operation: HttpRequest['operation'],
  ): Promise<NetworkDetails> => {
    const req: HttpRequest = {
      method: 'GET',
      path: at(name),
      signal,
      operation,
      subject: 'network',
      target: name,
    };
    const v = await http.json(req);
    if (!isObj(v)) throw http.fail('bad-response', req, { message: 'the network is not an object' });
    return networkOf(v);
  };
  return {
    async 'networks.create'(spec, { signal }) {
      const config = [
        ...(spec.subnet !== undefined || spec.gateway !== undefined
          ? [{ Subnet: spec.subnet, Gateway: spec.gateway }]
          : []),
        ...(spec.subnet6 !== undefined ? [{ Subnet: spec.subnet6, Gateway: spec.gateway6 }] : []),
        ...(spec.moreSubnets6 ?? []).map((x) => ({ Subnet: x.subnet, Gateway: x.gateway })),
      ];
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/networks/create`,
        json: {
          Name: spec.name,
          CheckDuplicate: true,
          Driver: 'bridge',
          Internal: spec.internal === true,
          EnableIPv6: spec.ipv6 === true || spec.subnet6 !== undefined,
          IPAM: { Driver: 'default', Config: config },
          Labels: spec.labels,
        },
        signal,
        operation: 'networks.create',
        subject: 'network',
        target: spec.name,
      };
      const v = obj(await http.json(req));
      return inspect(str(v, 'Id') || spec.name, signal, 'networks.create');
    },

    async 'networks.list'({ signal }) {
      const req: HttpRequest = {
        method: 'GET',
        path: `${prefix}/networks`,
        signal,
        operation: 'networks.list',
      };
      const v = await http.json(req);
      if (!Array.isArray(v))
        throw http.fail('bad-response', req, { message: 'the network list is not an array' });
      return v.map((x) => networkOf(obj(x))).sort((a, b) => a.name.localeCompare(b.name));
    },

    'networks.inspect': (name, { signal }) => inspect(name, signal, 'networks.inspect'),

    async 'networks.remove'(name, { signal }) {
      await http.ok({
        method: 'DELETE',
        path: at(name),
        signal,
        operation: 'networks.remove',
        subject: 'network',
        target: name,
      });
    },

    async 'networks.prune'({ signal }) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/networks/prune`,
        signal,
        operation: 'networks.prune',
      };
      return { removed: strings(obj(await http.json(req)), 'NetworksDeleted').sort() };
    },

    async 'networks.connect'(name, container, spec, { signal }) {
      // dockerd takes a stopped container's connect to any name (and fails at its start), podman
      // answers a `none` container's with "invalid network mode": a missing network is
      // network-not-found from both, as from the local engine
      await inspect(name, signal, 'networks.connect');
      await http.ok({
        method: 'POST',
        path: at(name, '/connect'),
        json: {
          Container: container,
          EndpointConfig: endpointConfig(spec.ipAddress, spec.ip6Address, spec.aliases),
        },
        signal,
        operation: 'networks.connect',
        subject: 'network',
        target: name,
      });
    },

    async 'networks.disconnect'(name, container, options) {
      // as connect: dockerd says "is not connected", podman "invalid network mode" for a missing one
      await inspect(name, options.signal, 'networks.disconnect');
      await http.ok({
        method: 'POST',
        path: at(name, '/disconnect'),
        json: { Container: container, Force: options.force === true },
        signal: options.signal,
        operation: 'networks.disconnect',
        subject: 'network',
        target: name,
      });
    },
  };
}
