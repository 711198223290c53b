import { fileURLToPath } from 'node:url';
import { startNetSandbox } from '@ocikit/test-engines';
import { describe, expect, it } from 'vitest';

// Each case runs test-network-inside.ts in a network sandbox of its own (@ocikit/test-engines:
// net, mount and pid namespaces, tmpfs on /run and /var/lib/cni, an "outside" namespace behind a
// veth; decision 153): the bridges, veths, addresses, iptables rules, leases, the state root and
// the containers' namespaces all live there and end with it. Real runc, conmon and CNI plugins;
// traffic only inside the sandbox.
const script = fileURLToPath(new URL('./test-network-inside.ts', import.meta.url));

interface Left {
  links: string[];
  rules: string[];
  leases: string[];
  cache: string[];
  netns: string[];
  states: string[];
}
const none: Left = { links: [], rules: [], leases: [], cache: [], netns: [], states: [] };

interface Failure {
  name: string;
  reason?: string;
  message: string;
  details: Record<string, unknown>;
}

async function inside<T>(name: string): Promise<T> {
  const sandbox = await startNetSandbox();
  try {
    const r = await sandbox.run(
      process.execPath,
      ['--conditions=@ocikit/source', script, name, sandbox.outsideAddress],
      { timeoutMs: 150_000 },
    );
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let out: T & { error?: string; stack?: string };
    try {
      out = JSON.parse(line) as typeof out;
    } catch {
      throw new Error(`case ${name} printed no result (status ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    if (out.error) throw new Error(`case ${name}: ${out.stack ?? out.error}`);
    return out;
  } finally {
    await sandbox.stop();
  }
}

describe('local containers on CNI networks, in test-made namespaces', () => {
  it('reaches peers by name, publishes ports, keeps hosts files current, isolates internal and none, and leaves nothing', async () => {
    const r = await inside<Record<string, unknown>>('lifecycle');
    // srv saw peer join and leave its hosts file; its own line has its alias
    expect(r['srvHostsWithPeer']).toMatch(
      /\n10\.90\.0\.2\t[0-9a-f]{12} srv db\n10\.90\.0\.3\tpeer [0-9a-f]{12}\n$/,
    );
    expect(r['srvHostsAfter']).not.toMatch(/peer/);
    // a foreground --rm run on n1 talked to srv by name; its hostname and hosts file
    const talk = r['talk'] as { exitCode: number; said: string };
    expect(talk.exitCode).toBe(0);
    expect(talk.said).toMatch(
      /^0\t0\ntalker\nsearch example\.test\nnameserver 192\.0\.2\.53\noptions ndots:2\n127\.0\.0\.1\tlocalhost\n[\s\S]*\n192\.0\.2\.1\tgw\.test\n10\.90\.0\.\d+\ttalker ocikit_[0-9a-f]{12}\n[\s\S]*\tsrv db /,
    );
    expect(r['srvLogs']).toBe('hello-srv\n');
    expect(r['inspect']).toMatchObject({
      mode: 'n1',
      networks: [
        {
          name: 'n1',
          ipAddress: '10.90.0.3',
          ipPrefixLen: 24,
          gateway: '10.90.0.1',
          aliases: ['peer', expect.any(String)],
        },
      ],
      ports: [],
    });
    expect((r['inspect'] as { networks: { macAddress?: string }[] }).networks[0]?.macAddress).toMatch(
      /^[0-9a-f:]{17}$/,
    );
    expect(r['networkInspect']).toMatchObject({
      name: 'n1',
      driver: 'bridge',
      subnets: [{ subnet: '10.90.0.0/24', gateway: '10.90.0.1' }],
      internal: false,
      labels: { app: 'shop' },
      interface: 'ocikit1',
    });
    expect(
      (r['networkInspect'] as { containers: { name: string }[] }).containers.map((c) => c.name).sort(),
    ).toEqual(['peer', 'srv']);
    expect(r['rmInUse']).toMatchObject({ name: 'FailedPreconditionError', reason: 'network-in-use' });
    expect(r['rmBridge']).toMatchObject({ name: 'InvalidArgumentError', reason: 'bad-argument' });
    // -p 18080:80 and -P answer from the host side through the bridge and portmap
    expect(r['web']).toMatch(/^HTTP\/1\.[01] 200[\s\S]*published-ok/);
    const allPorts = r['allPorts'] as { hostPort: number }[];
    expect(allPorts).toMatchObject([{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0' }]);
    expect(allPorts[0]?.hostPort).toBeGreaterThan(1024);
    expect(r['all']).toMatch(/all-ok/);
    expect(r['list']).toContainEqual({
      name: 'web',
      ports: [{ containerPort: 80, protocol: 'tcp', hostPort: 18080, hostIp: '0.0.0.0' }],
      networks: ['n1'],
    });
    // stopped: address and port released, network still named
    expect(r['stopped']).toMatchObject({ mode: 'n1', networks: [{ name: 'n1', ipAddress: '' }], ports: [] });
    expect(r['afterStop']).toBe('');
    expect(r['reach']).toEqual({
      internal: { exitCode: 1, text: expect.stringMatching(/Network is unreachable/) },
      none: { exitCode: 1, text: expect.stringMatching(/Network is unreachable/) },
      bridge: { exitCode: 0, text: 'outside-ok\n' },
    });
    const hostMode = r['hostMode'] as { saw: string; want: string };
    expect(hostMode.saw).toBe(hostMode.want);
    expect(hostMode.want).toMatch(/localhost/);
    expect(r['noneFiles']).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n' +
        'ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' +
        '192.0.2.1\tgw.test\n127.0.1.1\tsolo lonely\nsolo\nsolo\n(127.0.1.1)\n',
    );
    expect(r['noneBadHost']).toMatchObject({
      reason: 'bad-argument',
      message: expect.stringMatching(/nocolon/),
    });
    expect(r['rmWait']).toBe(-1);
    expect(r['rmFree']).toEqual({ name: 'none' });
    expect(r['prune']).toEqual({ removed: ['closed'] });
    expect(r['networks']).toEqual(['bridge']);
    expect(r['left']).toEqual(none);
  });

  it('connects and disconnects running containers (ADD/DEL in their namespace, hosts files rewritten), records it for exited ones', async () => {
    const r = await inside<Record<string, unknown>>('connect');
    expect(r['appHostsBefore']).toMatch(/\n10\.98\.0\.2\t[0-9a-f]{12} app\n$/);
    expect(r['links']).toEqual(['lo inet 127.0.0.1/8', 'eth0 inet 10.98.0.2/24', 'eth1 inet 10.99.0.3/24']);
    expect(r['inspect']).toMatchObject([
      { name: 'front', ipAddress: '10.98.0.2' },
      { name: 'back', ipAddress: '10.99.0.3', aliases: ['app', expect.any(String), 'api'] },
    ]);
    expect(r['appHosts']).toMatch(/\n10\.99\.0\.3\t[0-9a-f]{12} app api\n10\.99\.0\.2\tdbs [0-9a-f]{12}\n$/);
    expect(r['dbHosts']).toMatch(/\n10\.99\.0\.3\tapp api [0-9a-f]{12}\n$/);
    expect(r['twice']).toMatchObject({ reason: 'bad-argument' });
    expect(r['noneJoin']).toMatchObject({ reason: 'bad-argument' });
    expect(r['dbHostsAfter']).not.toMatch(/app/);
    expect(r['linksAfter']).toBe(false);
    expect(r['notOn']).toMatchObject({ reason: 'bad-argument' });
    // exited on its own: its exit command released its address; a connect is only recorded
    expect(r['exited']).toBe('');
    expect(r['exitedConnect']).toMatchObject([
      { name: 'front', ipAddress: '' },
      { name: 'back', ipAddress: '' },
    ]);
    // a command that cannot start: exited with 127 and off its network (no address, no veth)
    expect(r['cannot']).toMatchObject({ reason: 'bad-argument', details: { exitCode: 127 } });
    expect(r['cannotNet']).toMatchObject([{ name: 'front', ipAddress: '' }]);
    expect(r['linksLeft']).toBe(2);
    expect(r['left']).toEqual(none);
  });

  it('rm -f of 20 containers started concurrently leaves no veth, rule, lease or namespace', async () => {
    const r = await inside<{
      peersInHosts: number;
      during: { links: number; leases: number; rules: number };
      left: Left;
    }>('many');
    // every container sees the 19 others, though they joined at once
    expect(r.peersInHosts).toBe(19);
    // the same checks saw what ADD made, so they can see what DEL failed to remove
    expect(r.during.links).toBe(20);
    expect(r.during.leases).toBe(20);
    expect(r.during.rules).toBeGreaterThanOrEqual(20);
    expect(r.left).toEqual(none);
  });

  it('bad input and failing plugins are typed errors that leave nothing; ps cleans up after a killed ocikit', async () => {
    const r = await inside<
      Record<string, Failure> & { afterFailures: Left & { containers: number } } & Record<string, unknown>
    >('failures');
    expect(r['overlap']).toMatchObject({
      reason: 'network-exists',
      message: expect.stringMatching(/subnet 10\.97\.5\.0\/24 overlaps subnet 10\.97\.0\.0\/16 of network a/),
    });
    expect(r['badName']).toMatchObject({
      reason: 'bad-argument',
      message: expect.stringMatching(/bad\/name/),
    });
    expect(r['unknown']).toMatchObject({ name: 'NotFoundError', reason: 'network-not-found' });
    expect(r['noneWithPorts']).toMatchObject({ reason: 'bad-argument' });
    expect(r['exhausted']).toMatchObject({
      name: 'FailedPreconditionError',
      message: expect.stringMatching(
        /CNI plugin bridge failed on ADD .*code 999: .*no IP addresses available/,
      ),
      details: { plugin: 'bridge', network: 'tiny', cniCode: 999 },
    });
    expect(r['portTaken']).toMatchObject({
      name: 'FailedPreconditionError',
      reason: 'port-in-use',
      message: expect.stringMatching(/host port 0\.0\.0\.0:18090\/tcp is already published by container/),
    });
    expect(r['portListened']).toMatchObject({
      reason: 'port-in-use',
      details: { port: '0.0.0.0:18091/tcp' },
    });
    expect(r['missing']).toMatchObject({
      name: 'FailedPreconditionError',
      message: expect.stringMatching(/CNI plugin bridge not found in .*no-plugins/),
      details: { plugin: 'bridge', command: 'ADD' },
    });
    expect(r.afterFailures).toEqual({ ...none, containers: 0 });
    // killed: its veth, rules and lease stay until ps finds it exited
    const killed = r['killedLeft'] as unknown as Left;
    expect(killed.links).toHaveLength(1);
    expect(killed.leases).toHaveLength(1);
    expect(killed.rules.length).toBeGreaterThan(0);
    expect(r['afterPs']).toMatchObject({ links: [], rules: [], leases: [], cache: [], netns: [] });
    expect(r['killedLeft2']).toBe(1);
    expect(r['afterPrune']).toEqual({ ...none, containers: 0 });
    expect(r['killedLeft3']).toBe(1);
    expect(r['networkPrune']).toEqual({ removed: ['tiny'] });
    expect(r['afterNetworkPrune']).toMatchObject({ links: [], rules: [], leases: [], cache: [], netns: [] });
    // the exit command ran DEL with the plugins of the engine's CNI_PATH, as ADD did (bridge runs
    // its IPAM plugin from there too)
    expect(r['exitDel']).toEqual({
      gone: true,
      calls: 'ADD bridge\nADD host-local\nDEL bridge\nDEL host-local\n',
    });
    expect(r['left']).toEqual(none);
  });

  it('dual-stack: an IPv6 address each, --ip6, peers by name over IPv6, inspect fields, bad input, nothing left', async () => {
    const r = await inside<Record<string, unknown>>('dualstack');
    expect(r['created']).toMatchObject({
      name: 'ds',
      ipv6: true,
      subnets: [
        { subnet: '10.97.0.0/24', gateway: '10.97.0.1' },
        { subnet: 'fd00:97::/64', gateway: 'fd00:97::1' },
      ],
    });
    expect(r['inspect']).toMatchObject([
      {
        name: 'ds',
        ipAddress: '10.97.0.2',
        ipPrefixLen: 24,
        gateway: '10.97.0.1',
        globalIpv6Address: 'fd00:97::42',
        globalIpv6PrefixLen: 64,
        ipv6Gateway: 'fd00:97::1',
      },
    ]);
    // the client's hosts file: its own two addresses, and srv6's v4 and v6 lines
    expect(r['cliHosts']).toMatch(
      /\n10\.97\.0\.3\t[0-9a-f]{12} cli6\nfd00:97::[0-9a-f]+\t[0-9a-f]{12} cli6\n/,
    );
    expect(r['cliHosts']).toMatch(/\n10\.97\.0\.2\tsrv6 [0-9a-f]{12}\nfd00:97::42\tsrv6 [0-9a-f]{12}\n$/);
    expect(r['ping6']).toMatch(/PING srv6 \(fd00:97::42\)[\s\S]*1 packets received/);
    expect(r['nc6']).toBe(0);
    expect(r['srvLogs']).toBe('hello-v6\n');
    expect((r['details'] as { containers: unknown[] }).containers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'srv6', ipAddress: '10.97.0.2', ipv6Address: 'fd00:97::42' }),
      ]),
    );
    expect(r['exited']).toEqual({ name: 'ds', ipAddress: '', aliases: expect.any(Array) });
    const connected = r['connected'] as { sub6: string; fixed: string; networks: { name: string }[] };
    expect(connected.sub6).toMatch(/^fd[0-9a-f]{2}:[0-9a-f:]+::\/64$/);
    expect(connected.networks[1]).toMatchObject({ name: 'ds2', globalIpv6Address: connected.fixed });
    for (const k of ['onV4', 'outside', 'onNone', 'connectV4', 'badCreate'])
      expect((r[k] as Failure).name, k).toBe('InvalidArgumentError');
    expect((r['onV4'] as Failure).message).toMatch(/network v4only has no IPv6 subnet/);
    expect((r['outside'] as Failure).message).toMatch(/not a host address in subnet fd00:97::\/64/);
    expect((r['badCreate'] as Failure).message).toMatch(/has host bits set/);
    expect(r['overlap']).toMatchObject({
      name: 'AlreadyExistsError',
      message: expect.stringMatching(/overlaps subnet fd00:97::\/64 of network ds/),
    });
    // nothing half-made by the refused creates
    expect(r['names']).toEqual(['cli6', 'short6', 'srv6']);
    expect({ leases6: r['leases6'], rules6: r['rules6'], left: r['left'] }).toEqual({
      leases6: [],
      rules6: [],
      left: none,
    });
  });
  it('IPv6-only (decision 217): an IPv6 address alone, peers by it, inspect fields, IPv4 address and host address refused, nothing left', async () => {
    const r = await inside<Record<string, unknown>>('v6only');
    expect(r['created']).toMatchObject({
      name: 'six',
      ipv6: true,
      subnets: [{ subnet: 'fd00:95::/64', gateway: 'fd00:95::1' }],
    });
    expect(r['inspect']).toEqual([
      expect.objectContaining({
        name: 'six',
        ipAddress: '',
        globalIpv6Address: 'fd00:95::2',
        globalIpv6PrefixLen: 64,
        ipv6Gateway: 'fd00:95::1',
      }),
    ]);
    expect(r['inspect']).not.toContainEqual(expect.objectContaining({ gateway: expect.anything() }));
    // the client's own address and srv-s's, IPv6 both
    expect(r['cliHosts']).toMatch(/\nfd00:95::3\t[0-9a-f]{12} cli-s\nfd00:95::2\tsrv-s [0-9a-f]{12}\n$/);
    expect(r['details']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'srv-s', ipAddress: '', ipv6Address: 'fd00:95::2' }),
      ]),
    );
    for (const k of ['ip4', 'port4', 'connect4'])
      expect(r[k], k).toMatchObject({
        name: 'InvalidArgumentError',
        message: expect.stringMatching(/network six is IPv6-only/),
      });
    expect(r['names']).toEqual(['cli-s', 'srv-s']);
    expect({ rules: r['rules'], left: r['left'] }).toEqual({ rules: [], left: none });
  });
});
