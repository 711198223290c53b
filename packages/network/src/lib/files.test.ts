import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import type { CniResult } from './cni.ts';
import { containerAddresses, hostnameFile, hostsFile, parseAddHost, resolvConf } from './files.ts';

const result: CniResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'ocikit0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/c1' }],
  ips: [{ address: '10.88.0.2/16', gateway: '10.88.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('hosts, resolv.conf and hostname files', () => {
  it('renders /etc/hosts with add-host entries, own address and peers by name', () => {
    const text = hostsFile({
      hostname: 'web',
      addresses: containerAddresses(result),
      extraHosts: [parseAddHost('db.local:192.0.2.9'), parseAddHost('v6=[fd00::1]')],
      peers: [{ names: ['cache', 'redis'], ip: '10.88.0.3' }],
    });
    expect(text).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n' +
        'ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' +
        '192.0.2.9\tdb.local\nfd00::1\tv6\n10.88.0.2\tweb\n10.88.0.3\tcache redis\n',
    );
    expect(hostsFile({ hostname: 'h', domainname: 'example.org' })).toMatch(
      /127\.0\.1\.1\th\.example\.org h\n$/,
    );
  });

  it('renders resolv.conf from options, the CNI result or the host file', () => {
    const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch corp.example\noptions edns0\n';
    expect(resolvConf({ hostResolvConf: host })).toBe(
      'search corp.example\nnameserver 192.0.2.53\noptions edns0\n',
    );
    expect(resolvConf({ hostResolvConf: 'nameserver 127.0.0.53\n' })).toBe(
      'nameserver 8.8.8.8\nnameserver 8.8.4.4\n',
    );
    expect(
      resolvConf({
        hostResolvConf: host,
        nameservers: ['10.0.0.2'],
        search: ['a.example'],
        options: ['ndots:2'],
      }),
    ).toBe('search a.example\nnameserver 10.0.0.2\noptions ndots:2\n');
    expect(
      resolvConf({
        hostResolvConf: host,
        result: { ...result, dns: { nameservers: ['10.88.0.1'], domain: 'dns.podman' } },
      }),
    ).toBe('search dns.podman\nnameserver 10.88.0.1\noptions edns0\n');
  });

  it("puts the container's name and aliases on its own lines; container names may hold '_'", () => {
    const text = hostsFile({
      hostname: '0123456789ab',
      aliases: ['my_web', 'www', '0123456789ab'],
      addresses: ['10.88.0.2'],
      peers: [{ names: ['ocikit_0123', 'db'], ip: '10.88.0.3' }],
    });
    expect(text).toMatch(/\n10\.88\.0\.2\t0123456789ab my_web www\n10\.88\.0\.3\tocikit_0123 db\n$/);
    expect(hostsFile({ hostname: 'h', aliases: ['a_b'] })).toMatch(/\n127\.0\.1\.1\th a_b\n$/);
    // any container name works as an entry: a trailing '-', a 100-character name
    const long = `c${'x'.repeat(99)}`;
    expect(hostsFile({ hostname: 'h', peers: [{ names: ['web-', long], ip: '10.88.0.4' }] })).toMatch(
      new RegExp(`\\n10\\.88\\.0\\.4\\tweb- ${long}\\n$`),
    );
    expect(() => hostnameFile('a_b')).toThrow(/hostname "a_b" is not a valid host name/);
  });

  it('renders /etc/hostname', () => {
    expect(hostnameFile('web-1')).toBe('web-1\n');
  });

  it('refuses bad names and addresses with errors naming them', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => hostnameFile('bad name'), /hostname "bad name" is not a valid host name/],
      [() => parseAddHost('nohost'), /--add-host "nohost" is not NAME:IP/],
      [() => parseAddHost('db:999.1.1.1'), /add-host address "999\.1\.1\.1" is not an IP address/],
      [() => resolvConf({ nameservers: ['dns.example'] }), /dns server "dns\.example" is not an IP address/],
      [() => resolvConf({ search: ['bad domain'] }), /dns-search domain "bad domain"/],
      [() => hostsFile({ hostname: 'h', peers: [{ names: ['a b'], ip: '10.0.0.1' }] }), /peer name "a b"/],
    ];
    for (const [fn, re] of cases) {
      const e = thrown(fn);
      expect(isInvalidArgument(e)).toBe(true);
      expect(e.message).toMatch(re);
    }
  });
});
