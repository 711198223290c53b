import { ErrorCode } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import {
  displayPorts,
  networkSpec,
  parseAddHost,
  parseExpose,
  parsePublish,
  portLines,
  subnetFlags,
} from './network-flags.ts';
import { runRequest } from './run-spec.ts';

const invalid = (fn: () => unknown, message: RegExp) => {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toMatchObject({ code: ErrorCode.InvalidArgument, message: expect.stringMatching(message) });
};

describe('-p/--publish as docker reads it', () => {
  it('takes CONTAINER, HOST:CONTAINER, IP:HOST:CONTAINER, IP::CONTAINER, [IPv6]:HOST:CONTAINER and /proto', () => {
    expect(parsePublish('80')).toEqual([{ containerPort: 80, protocol: 'tcp' }]);
    expect(parsePublish('8080:80')).toEqual([{ containerPort: 80, protocol: 'tcp', hostPort: 8080 }]);
    expect(parsePublish('127.0.0.1:53:53/udp')).toEqual([
      { containerPort: 53, protocol: 'udp', hostPort: 53, hostIp: '127.0.0.1' },
    ]);
    expect(parsePublish('127.0.0.1::80')).toEqual([
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' },
    ]);
    expect(parsePublish('[::1]:8080:80/sctp')).toEqual([
      { containerPort: 80, protocol: 'sctp', hostPort: 8080, hostIp: '::1' },
    ]);
  });

  it('expands ranges of equal length, and a container range alone', () => {
    expect(parsePublish('8000-8001:80-81')).toEqual([
      { containerPort: 80, protocol: 'tcp', hostPort: 8000 },
      { containerPort: 81, protocol: 'tcp', hostPort: 8001 },
    ]);
    expect(parsePublish('90-91/udp')).toEqual([
      { containerPort: 90, protocol: 'udp' },
      { containerPort: 91, protocol: 'udp' },
    ]);
  });

  it('refuses bad values with an InvalidArgument error naming the flag and the value', () => {
    invalid(() => parsePublish('80/icmp'), /^--publish "80\/icmp": the protocol must be tcp, udp or sctp/);
    invalid(() => parsePublish('x:80'), /^--publish "x:80": host port "x" is not a port/);
    invalid(() => parsePublish('8080:70000'), /container port 70000 is out of 1-65535/);
    invalid(() => parsePublish('8000-8002:80-81'), /host range has 3 ports and the container range 2/);
    invalid(() => parsePublish('8000-8001:80'), /a host port range needs a container port range/);
    invalid(() => parsePublish('999.1.1.1:80:80'), /"999\.1\.1\.1" is not an IP address/);
    invalid(() => parsePublish('1:2:3:4'), /too many fields/);
    invalid(() => parsePublish('8080:'), /give the port in the container/);
    invalid(() => parsePublish('81-80'), /ends before it starts/);
  });
});

describe('--expose, --add-host, --ip, --dns', () => {
  it('reads them', () => {
    expect(parseExpose('80')).toEqual(['80/tcp']);
    expect(parseExpose('53-54/udp')).toEqual(['53/udp', '54/udp']);
    expect(parseAddHost('db:10.0.0.5')).toBe('db:10.0.0.5');
    expect(parseAddHost('v6=::1')).toBe('v6:::1');
    expect(parseAddHost('gw:host-gateway')).toBe('gw:host-gateway');
    expect(
      networkSpec({
        net: 'n1',
        ip: '10.1.0.9',
        dns: ['1.1.1.1'],
        'dns-search': ['x.test'],
        'network-alias': ['a'],
      }),
    ).toEqual({
      network: 'n1',
      ipAddress: '10.1.0.9',
      dns: ['1.1.1.1'],
      dnsSearch: ['x.test'],
      networkAliases: ['a'],
    });
  });

  it('refuses bad values naming the flag', () => {
    invalid(() => parseAddHost('db'), /^--add-host "db": give NAME:IP/);
    invalid(() => parseAddHost('db:10.0.0'), /^--add-host "db:10\.0\.0": "10\.0\.0" is not an IP address/);
    invalid(() => parseAddHost('bad name:10.0.0.1'), /"bad name" is not a host name/);
    invalid(() => networkSpec({ ip: '10.0.0.300' }), /^--ip "10\.0\.0\.300": not an IPv4 address/);
    invalid(() => networkSpec({ ip: '::1' }), /^--ip "::1": not an IPv4 address/);
    invalid(() => networkSpec({ ip6: '10.0.0.1' }), /^--ip6 "10\.0\.0\.1": not an IPv6 address/);
    invalid(() => networkSpec({ dns: ['nameserver'] }), /^--dns "nameserver": not an IP address/);
    invalid(() => networkSpec({ network: 'a', net: 'b' }), /--network "a" and --net "b" disagree/);
    invalid(() => networkSpec({ network: 'none', publish: ['80'] }), /--network none has no ports/);
    invalid(() => parseExpose('http'), /^--expose "http": port "http" is not a port/);
  });

  it('run/create fail on a bad -p before asking the engine for anything', async () => {
    await expect(runRequest({ publish: ['8080:80/tcpx'] }, ['busybox'], {})).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: expect.stringMatching(/^--publish "8080:80\/tcpx"/),
    });
    const { spec } = await runRequest(
      {
        network: 'n1',
        publish: ['8080:80'],
        'publish-all': true,
        expose: ['81'],
        'add-host': ['a:10.0.0.1'],
      },
      ['busybox'],
      {},
    );
    expect(spec).toMatchObject({
      network: 'n1',
      publish: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
      publishAll: true,
      exposedPorts: ['81/tcp'],
      extraHosts: ['a:10.0.0.1'],
    });
  });
});

describe('ports as docker shows them', () => {
  const p = (
    containerPort: number,
    hostPort: number,
    hostIp = '0.0.0.0',
    protocol: 'tcp' | 'udp' = 'tcp',
  ) => ({
    containerPort,
    hostPort,
    hostIp,
    protocol,
  });

  it('ps: runs of same-number ports grouped, other mappings after, IPv6 as docker prints it', () => {
    expect(displayPorts([])).toBe('');
    expect(displayPorts([p(80, 8080)])).toBe('0.0.0.0:8080->80/tcp');
    expect(displayPorts([p(8001, 8001), p(8000, 8000), p(80, 8080), p(80, 8080, '::')])).toBe(
      '0.0.0.0:8000-8001->8000-8001/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
    );
    expect(displayPorts([p(53, 53, '0.0.0.0', 'udp'), p(53, 53), p(55, 55)])).toBe(
      '0.0.0.0:53->53/tcp, 0.0.0.0:55->55/tcp, 0.0.0.0:53->53/udp',
    );
    expect(displayPorts([p(53, 53, '::')])).toBe(':::53->53/tcp');
    // exposed, not published: by protocol, runs grouped, before the mappings
    expect(displayPorts([p(80, 8080), p(84, 0, ''), p(83, 0, ''), p(53, 0, '', 'udp')])).toBe(
      '53/udp, 83-84/tcp, 0.0.0.0:8080->80/tcp',
    );
  });

  it('port: every binding, or the host addresses of the port asked for; typed errors', () => {
    const ports = [p(81, 8081, '0.0.0.0', 'udp'), p(80, 8080), p(80, 8080, '::'), p(83, 0, '')];
    expect(portLines(ports, 'c1')).toEqual([
      '80/tcp -> 0.0.0.0:8080',
      '80/tcp -> [::]:8080',
      '81/udp -> 0.0.0.0:8081',
    ]);
    expect(portLines(ports, 'c1', '80')).toEqual(['0.0.0.0:8080', '[::]:8080']);
    expect(portLines(ports, 'c1', '81/udp')).toEqual(['0.0.0.0:8081']);
    invalid(() => portLines(ports, 'c1', '81'), /no public port '81\/tcp' published for "c1"/);
    invalid(() => portLines(ports, 'c1', 'http'), /"http" is not a port/);
  });
});

describe('--ip6 and network create --subnet/--gateway/--ipv6', () => {
  it('reads them: one subnet of each family, gateways by family, an IPv6 subnet alone is IPv6-only', () => {
    expect(networkSpec({ network: 'n', ip6: 'fd00:1::5' })).toEqual({
      network: 'n',
      ip6Address: 'fd00:1::5',
    });
    expect(subnetFlags([], [], false)).toEqual({});
    expect(subnetFlags([], [], true)).toEqual({ ipv6: true });
    expect(subnetFlags(['10.1.0.0/24'], ['10.1.0.9'], false)).toEqual({
      subnet: '10.1.0.0/24',
      gateway: '10.1.0.9',
    });
    expect(subnetFlags(['fd00:1::/64', '10.1.0.0/24'], ['fd00:1::9'], false)).toEqual({
      subnet: '10.1.0.0/24',
      subnet6: 'fd00:1::/64',
      gateway6: 'fd00:1::9',
    });
    // an IPv6 subnet alone: IPv6-only; with --ipv6: dual-stack (podman 4.3, decision 217)
    expect(subnetFlags(['fd00:1::/64'], [], false)).toEqual({ subnet6: 'fd00:1::/64' });
    expect(subnetFlags(['fd00:1::/64'], [], true)).toEqual({ ipv6: true, subnet6: 'fd00:1::/64' });
    // several IPv6 subnets: the first, then the others, gateways in order (decision 218)
    expect(
      subnetFlags(['fd00:1::/64', '10.1.0.0/24', 'fd00:2::/64'], ['fd00:1::9', 'fd00:2::9'], false),
    ).toEqual({
      subnet: '10.1.0.0/24',
      subnet6: 'fd00:1::/64',
      gateway6: 'fd00:1::9',
      moreSubnets6: [{ subnet: 'fd00:2::/64', gateway: 'fd00:2::9' }],
    });
    expect(subnetFlags(['fd00:1::/64', 'fd00:2::/64', 'fd00:3::/64'], [], false)).toEqual({
      subnet6: 'fd00:1::/64',
      moreSubnets6: [{ subnet: 'fd00:2::/64' }, { subnet: 'fd00:3::/64' }],
    });
  });

  it('refuses two IPv4 subnets, a gateway without a subnet of its family, bad CIDRs', () => {
    invalid(
      () => subnetFlags(['10.1.0.0/24', '10.2.0.0/24'], [], false),
      /^--subnet: give at most one IPv4 subnet \(got 2\): the CNI bridge plugin keeps one IPv4 gateway on a bridge/,
    );
    invalid(
      () => subnetFlags(['fd00:1::/64', 'fd00:2::/64'], ['fd00:1::1', 'fd00:2::1', 'fd00:1::2'], false),
      /at most one per subnet/,
    );
    invalid(
      () => subnetFlags(['10.1.0.0/24'], ['fd00:1::1'], false),
      /^--gateway fd00:1::1: no --subnet of its family \(IPv6\)/,
    );
    invalid(() => subnetFlags(['10.1.0.0/24'], ['10.1.0.1', '10.1.0.2'], false), /at most one per subnet/);
    invalid(() => subnetFlags(['fd00:1::/129'], [], false), /^--subnet "fd00:1::\/129": not an IPv6 subnet/);
    invalid(() => subnetFlags(['10.1.0.0/33'], [], false), /^--subnet "10\.1\.0\.0\/33": not an IPv4 subnet/);
    invalid(() => subnetFlags(['fd00:1::'], [], false), /not an IPv6 subnet/);
  });
});
