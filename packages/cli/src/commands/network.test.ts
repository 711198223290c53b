// `ocikit network …`, `run -p/--network/--ip/--dns/--add-host/-h`, `port` and ps's PORTS against
// the local engine, dockerd and podman's service (`--host`), each inside namespaces this test makes
// (test-network-inside.ts under `unshare --net --mount --pid`): every bridge, veth, rule and CNI
// file they make lives there and goes with them.
import { fileURLToPath } from 'node:url';
import { runInNewNamespaces } from '@ocikit/test-engines';
import { describe, expect, it } from 'vitest';
import type { CliResult } from '../lib/test-cli.ts';

const script = fileURLToPath(new URL('./test-network-inside.ts', import.meta.url));

type Target = 'local' | 'docker' | 'podman';

const inside = (target: Target) =>
  runInNewNamespaces<Record<string, CliResult> & { image: string; bridges: string }>(script, [
    target === 'docker' ? 'dockerd' : target,
  ]);

const ok = (r: CliResult | undefined) => {
  expect(r?.stderr).toBe('');
  expect(r?.code).toBe(0);
  return r?.stdout ?? '';
};
const failed = (r: CliResult | undefined, code: number, stderr: RegExp) => {
  expect({ code: r?.code, stdout: r?.stdout }).toEqual({ code, stdout: '' });
  expect(r?.stderr).toMatch(stderr);
};

describe.each(['local', 'docker', 'podman'] as const)('ocikit network commands on %s', (target) => {
  it('create, ls, inspect, run with ports, addresses and DNS, port, ps PORTS, connect, disconnect, rm, prune; typed failures', async () => {
    const r = await inside(target);
    expect(ok(r['create'])).toMatch(/^[0-9a-f]{12,64}\n$/);
    failed(r['createAgain'], 1, /network "?n1"? (exists already|already exists)/);
    failed(r['createBad'], 1, /--subnet "10\.210\.0\.0\/33": not an IPv4 subnet/);
    ok(r['create2']);
    const ls = ok(r['ls']).split('\n');
    expect(ls[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER$/);
    expect(ls.find((l) => / n1 /.test(l))).toMatch(/^[0-9a-f]{12}\s+n1\s+bridge$/);
    const ids = ok(r['lsQuiet']).trim().split('\n');
    expect(ids).toContain(ok(r['create']).trim().length === 64 ? ok(r['create']).trim() : expect.any(String));
    expect(JSON.parse(ok(r['lsJson'])).map((n: { Name: string }) => n.Name)).toEqual(
      expect.arrayContaining(['n1', 'n2']),
    );
    expect(JSON.parse(ok(r['inspect']))).toMatchObject([
      {
        Name: 'n1',
        Driver: 'bridge',
        Internal: false,
        IPAM: { Config: [{ Subnet: '10.210.0.0/24', Gateway: '10.210.0.1' }] },
        Labels: { team: 'net' },
      },
    ]);
    failed(r['inspectMissing'], 1, /no network "nope"/);

    // bad flag values: typed, exit 125, nothing made
    failed(r['runBadPublish'], 125, /--publish "80:80\/icmp": the protocol must be tcp, udp or sctp/);
    failed(r['runBadHost'], 125, /--add-host "peer": give NAME:IP/);
    failed(r['runBadIp'], 125, /--ip "10\.210\.0\.300": not an IPv4 address/);
    expect(r['psAfterBad']?.stdout).toBe(r['psBefore']?.stdout);

    expect(ok(r['run'])).toMatch(/^[0-9a-f]{64}\n$/);
    const files = ok(r['files']);
    expect(files).toMatch(/^10\.210\.0\.99\tpeer$/m);
    expect(files).toMatch(/^10\.210\.0\.50\th1\b/m);
    expect(files).toMatch(/^search example\.test$/m);
    expect(files).toMatch(/^options ndots:2$/m);
    expect(files).toMatch(/^h1$/m);
    expect(ok(r['port'])).toBe(
      '80/tcp -> 0.0.0.0:18080\n81/udp -> 127.0.0.1:18081\n82/udp -> 127.0.0.1:18082\n',
    );
    expect(ok(r['port80'])).toBe('0.0.0.0:18080\n');
    expect(ok(r['port82'])).toBe('127.0.0.1:18082\n');
    failed(r['portMissing'], 1, /no public port '99\/tcp' published for "web"/);
    const ps = ok(r['ps']).split('\n');
    expect(ps[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    // podman keeps a -p range as one and its compatible list gives the first port only: the podman
    // driver takes the ports from libpod's list
    // and dockerd lists the port exposed with --expose, as docker's ps shows it
    const ports = `${target === 'docker' ? '83/tcp, ' : ''}0.0.0.0:18080->80/tcp, 127.0.0.1:18081->81/udp, 127.0.0.1:18082->82/udp`;
    expect(ps.find((l) => l.endsWith(' web'))).toMatch(
      new RegExp(`\\s${ports.replaceAll('.', '\\.')}\\s+web$`),
    );
    expect(ok(r['psPorts'])).toBe(`web|${ports}\n`);
    if (target === 'docker') {
      // as the docker CLI prints them from the same dockerd
      expect(ok(r['psPorts'])).toBe(ok(r['dockerPsPorts']));
      expect(ok(r['port'])).toBe(ok(r['dockerPort']));
    }
    failed(r['runSamePort'], 125, /port .*18080.* already (in use|published)/);

    failed(r['rmInUse'], 1, /network "?n1"? is in use/);
    ok(r['connect']);
    const connected = JSON.parse(ok(r['connected']));
    expect(connected).toMatchObject({
      n1: { IPAddress: '10.210.0.50', IPPrefixLen: 24, Gateway: '10.210.0.1' },
      n2: { IPAddress: '10.211.0.7' },
    });
    expect(connected.n1.Aliases).toContain('www');
    expect(connected.n2.Aliases).toContain('inner');
    ok(r['disconnect']);
    expect(Object.keys(JSON.parse(ok(r['disconnected'])))).toEqual(['n1']);
    ok(r['rmContainer']);
    expect(ok(r['rm'])).toBe('n1\n');
    expect(ok(r['prune'])).toBe('Deleted Networks:\nn2\n\n');
    expect(ok(r['lsAfter'])).not.toMatch(/^n[12]$/m);
    // every bridge dockerd and podman made went with its network; the local engine keeps its
    // bridge devices (ocikit1, …) after the network is removed
    if (target !== 'local') expect(r.bridges).toBe('');
  }, 300_000);
});
