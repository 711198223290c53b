import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// Each case runs test-inside.ts under `unshare --net --mount --pid --propagation private`: the bridge,
// veths, addresses, iptables rules, leases and state all live in namespaces (and tmpfs mounts)
// made for that case, and vanish with it. Traffic goes only to addresses in those namespaces.
const script = fileURLToPath(new URL('./test-inside.ts', import.meta.url));

interface Left {
  links: string[];
  rules: string[];
  leases: string[];
  cache: string[];
}

function inside<T>(name: string): T {
  const r = spawnSync(
    'unshare',
    [
      '--net',
      '--mount',
      // node is pid 1 of a pid namespace: when it ends, however it ends, every server it started ends
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '--propagation',
      'private',
      process.execPath,
      '--conditions=@ocikit/source',
      script,
      name,
    ],
    { encoding: 'utf8', timeout: 50_000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let out: T & { error?: string; stack?: string };
  try {
    out = JSON.parse(line) as typeof out;
  } catch {
    throw new Error(`case ${name} printed no result (status ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  if (out.error) throw new Error(`case ${name}: ${out.stack ?? out.error}`);
  return out;
}

/** No rule of either family, no bridge, no marker left by a network's removal. */
const nothingLeft = (r: { left4: string[]; left6: string[]; bridge: number; markers: string[] }) =>
  expect({ left4: r.left4, left6: r.left6, bridge: r.bridge, markers: r.markers }).toEqual({
    left4: [],
    left6: [],
    bridge: 1,
    markers: [],
  });

const clean = (left: Left) => expect(left).toEqual({ links: [], rules: [], leases: [], cache: [] });

describe('CNI networks in test-made namespaces', () => {
  beforeAll(() => {
    // never skipped: these tests need root (network namespaces), as the whole suite does
    const probe = spawnSync('unshare', ['--net', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`cannot make a network namespace (run as root): ${probe.stderr}`);
  });

  it('two containers on one network reach each other (ping by address and by name, nc); DEL leaves nothing', () => {
    const r = inside<{
      ra: { ips: { address: string; gateway: string }[]; interfaces: { name: string; sandbox?: string }[] };
      rb: { ips: { address: string }[] };
      ping: number;
      byName: string;
      nc: number;
      got: string;
      cached: unknown;
      left: Left;
      nsLeft: string[];
      bridgeBeforeRm: number;
      bridgeAfterRm: number;
    }>('reach');
    expect(r.ra.ips[0]).toMatchObject({ address: '10.90.0.2/24', gateway: '10.90.0.1' });
    expect(r.rb.ips[0]?.address).toBe('10.90.0.3/24');
    expect(r.ra.interfaces.find((i) => i.sandbox)?.name).toBe('eth0');
    expect(r.ping).toBe(0);
    expect(r.byName).toMatch(/PING peer-b \(10\.90\.0\.3\)[\s\S]*1 packets received/);
    expect(r.nc).toBe(0);
    expect(r.got).toBe('hello-b\n');
    expect(r.cached).toEqual(r.ra);
    clean(r.left);
    expect(r.nsLeft).toEqual([]);
    // network rm takes its bridge away, as podman and dockerd do
    expect(r.bridgeBeforeRm).toBe(0);
    expect(r.bridgeAfterRm).not.toBe(0);
  });

  it('a published port answers from the outer namespace (on every address, or on its hostIP only), and not after DEL', () => {
    const r = inside<{
      body: string;
      onHostIp: string;
      offHostIp: string;
      rulesWhile: number;
      afterBody: string;
      left: Left;
    }>('port');
    expect(r.body).toMatch(/^HTTP\/1\.[01] 200/);
    expect(r.body).toContain('published-ok');
    expect(r.onHostIp).toContain('published-ok');
    expect(r.offHostIp).toBe('');
    expect(r.rulesWhile).toBeGreaterThan(0);
    expect(r.afterBody).toBe('');
    clean(r.left);
  });

  it('an internal network has no route out; the default bridge network has', () => {
    const r = inside<{
      ri: { routes: unknown[] };
      routesIn: string;
      pingIn: number;
      pingOut: number;
      left: Left;
    }>('internal');
    expect(r.ri.routes).toEqual([]);
    expect(r.routesIn).not.toMatch(/default/);
    expect(r.pingIn).not.toBe(0);
    expect(r.pingOut).toBe(0);
    clean(r.left);
  });

  it('DEL of 20 concurrent ADDs leaves no veth, iptables rule, lease or cache entry', () => {
    const r = inside<{
      count: number;
      distinct: number;
      ping: number;
      during: { links: number; leases: number; rules: number };
      left: Left;
    }>('many');
    expect(r.count).toBe(20);
    expect(r.distinct).toBe(20);
    expect(r.ping).toBe(0);
    // the leftovers check sees what ADD made, so it can see what DEL failed to remove
    expect(r.during.links).toBe(20);
    expect(r.during.leases).toBe(20);
    expect(r.during.rules).toBeGreaterThanOrEqual(20);
    clean(r.left);
  });

  it('a missing plugin and a failing plugin give typed errors with the plugin and its message', () => {
    const r = inside<{
      missing: { name: string; message: string; details: Record<string, unknown> };
      failing: { name: string; message: string; details: Record<string, unknown> };
      linksAfterFail: number;
      left: Left;
    }>('failures');
    expect(r.missing.name).toBe('FailedPreconditionError');
    expect(r.missing.message).toMatch(/CNI plugin bridge not found/);
    expect(r.missing.details).toMatchObject({ plugin: 'bridge', command: 'ADD', network: 'tiny' });
    expect(r.failing.name).toBe('FailedPreconditionError');
    expect(r.failing.message).toMatch(/CNI plugin bridge failed on ADD .*no IP addresses available/);
    expect(r.failing.details).toMatchObject({ plugin: 'bridge', containerId: 'f2', cniCode: 999 });
    // the failed ADD was undone: only lo is left in the namespace
    expect(r.linksAfterFail).toBe(1);
    clean(r.left);
  });

  it('refuses a published port twice and a second ADD; CHECK; DEL after the namespace is gone leaves nothing', () => {
    type Err = { name: string; message: string };
    const r = inside<{
      samePort: Err;
      twice: Err;
      ipB: string;
      checkOk: Err;
      checkBad: Err;
      delGone: Err;
      delAgain: Err;
      removeAgain: Err;
      left: Left;
    }>('gone');
    expect(r.samePort).toEqual({
      name: 'AlreadyExistsError',
      message: 'host port 0.0.0.0:18282/tcp is already published by container g-a (network g)',
    });
    expect(r.twice).toEqual({
      name: 'AlreadyExistsError',
      message: 'container g-a is already attached to network g as eth0',
    });
    expect(r.ipB).toBe('10.96.0.50/24');
    // portmap 1.1's CHECK looks for an ip6tables chain an IPv4-only ADD never made
    expect(r.checkOk.name).toBe('none');
    expect(r.checkBad.name).toBe('FailedPreconditionError');
    expect(r.checkBad.message).toMatch(
      /CNI plugin bridge failed on CHECK .*Failed to match addr 10\.96\.0\.2\/24/,
    );
    expect(r.delGone.name).toBe('none');
    expect(r.delAgain.name).toBe('none');
    expect(r.removeAgain.name).toBe('none');
    // with the namespace gone, the bridge plugin alone would leave its masquerade rules
    clean(r.left);
  });

  it('DEL in a new process (after a restart) works from the result cache', () => {
    const r = inside<{ during: { links: number; leases: number; rules: number }; left: Left }>('restart');
    expect(r.during).toMatchObject({ links: 1, leases: 1 });
    expect(r.during.rules).toBeGreaterThan(0);
    clean(r.left);
  });

  it('network-wide rules: made once, masquerade and accept behind FORWARD DROP, removed with the network', () => {
    const r = inside<{
      plugins: string[];
      rulesOnce: string[];
      sameTwice: boolean;
      reachWith: number;
      masqueraded: string | undefined;
      reachWithout: number;
      reachAgain: number;
      internalRules: string[];
      rulesLeft: string[];
      markers: string[];
    }>('rules');
    // ADD runs the bridge plugin without ipMasq and no firewall plugin: these rules stand for them
    expect(r.plugins).toEqual(['bridge -ipMasq', 'portmap', 'tuning']);
    expect(r.rulesOnce.sort()).toEqual(
      [
        ':OCIKIT-ocikit1 - [0:0]',
        ':OCIKIT-ocikit1 - [0:0]',
        '-A FORWARD -m comment --comment "ocikit network r1" -j OCIKIT-ocikit1',
        '-A OCIKIT-ocikit1 -d 10.94.0.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A OCIKIT-ocikit1 -s 10.94.0.0/24 -j ACCEPT',
        '-A POSTROUTING -s 10.94.0.0/24 -m comment --comment "ocikit network r1" -j OCIKIT-ocikit1',
        '-A OCIKIT-ocikit1 -d 10.94.0.0/24 -j RETURN',
        '-A OCIKIT-ocikit1 -d 224.0.0.0/4 -j RETURN',
        '-A OCIKIT-ocikit1 -j MASQUERADE',
      ].sort(),
    );
    expect(r.sameTwice).toBe(true);
    // the outside namespace has no route to 10.94.0.0/24: an answer means masquerading, and
    // FORWARD's policy is DROP: getting through means the network's accept rules
    expect(r.reachWith).toBe(0);
    expect(r.masqueraded).toMatch(/^\[[1-9]\d*:\d+\] /);
    expect(r.reachWithout).not.toBe(0);
    expect(r.reachAgain).toBe(0);
    // an internal network (made after r1 was removed: its bridge name again): forwarding accepted
    // within it, nothing masqueraded
    expect(r.internalRules.sort()).toEqual(
      [
        ':OCIKIT-ocikit1 - [0:0]',
        '-A FORWARD -m comment --comment "ocikit network r2" -j OCIKIT-ocikit1',
        '-A OCIKIT-ocikit1 -d 10.95.0.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A OCIKIT-ocikit1 -s 10.95.0.0/24 -j ACCEPT',
      ].sort(),
    );
    expect(r.rulesLeft).toEqual([]);
    expect(r.markers).toEqual([]);
  });

  it('dual-stack: an address of each family, v6 by address and by name, v6 masquerade and internal via ip6tables; nothing left', () => {
    const r = inside<{
      forwarding: string;
      disabled: string;
      tentative: string;
      ra: string[];
      rb: string[];
      rc: string[];
      ping6: number;
      ping4: number;
      byName: string;
      reachWith: number;
      rules6: string[];
      reachWithout: number;
      reachInternal: number;
      left6: string[];
      leases: string[];
      markers: string[];
    }>('dual');
    // IPv6 on in the test's namespace; forwarding turned on by the bridge plugin (a gateway)
    expect({ disabled: r.disabled, forwarding: r.forwarding }).toEqual({ disabled: '0', forwarding: '1' });
    expect(r.tentative).toBe('');
    expect(r.ra).toEqual(['10.96.0.2/24', 'fd00:96::2/64']);
    expect(r.rb).toEqual(['10.96.0.3/24', 'fd00:96::42/64']);
    expect(r.rc).toHaveLength(2);
    expect(r.rc[1]).toMatch(/^fd[0-9a-f]{2}:.*\/64$/);
    expect({ ping6: r.ping6, ping4: r.ping4 }).toEqual({ ping6: 0, ping4: 0 });
    expect(r.byName).toMatch(/PING peer-b \(fd00:96::42\)[\s\S]*1 packets received/);
    expect(r.rules6).toEqual([
      ':OCIKIT-ocikit1 - [0:0]',
      '-A FORWARD -m comment --comment "ocikit network d1" -j OCIKIT-ocikit1',
      '-A OCIKIT-ocikit1 -d fd00:96::/64 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A OCIKIT-ocikit1 -s fd00:96::/64 -j ACCEPT',
      ':OCIKIT-ocikit1 - [0:0]',
      '-A POSTROUTING -s fd00:96::/64 -m comment --comment "ocikit network d1" -j OCIKIT-ocikit1',
      '-A OCIKIT-ocikit1 -d fd00:96::/64 -j RETURN',
      '-A OCIKIT-ocikit1 -d ff00::/8 -j RETURN',
      '-A OCIKIT-ocikit1 -j MASQUERADE',
    ]);
    expect({ with: r.reachWith, without: r.reachWithout, internal: r.reachInternal }).toEqual({
      with: 0,
      without: 1,
      internal: 1,
    });
    expect({ left6: r.left6, leases: r.leases, markers: r.markers }).toEqual({
      left6: [],
      leases: [],
      markers: [],
    });
  });
  it('IPv6-only (decision 217): an IPv6 address alone, peers reach each other over it, rules in ip6tables only; nothing left in either', () => {
    const r = inside<{
      subnet: string | null;
      ra: string[];
      rb: string[];
      ping6: number;
      inside4: string;
      rules4: string[];
      rules6: string[];
      left4: string[];
      left6: string[];
      bridge: number;
      leases: Left;
      markers: string[];
    }>('v6only');
    expect(r.subnet).toBeNull();
    expect({ ra: r.ra, rb: r.rb, inside4: r.inside4 }).toEqual({
      ra: ['fd00:95::2/64'],
      rb: ['fd00:95::42/64'],
      inside4: '',
    });
    expect(r.ping6).toBe(0);
    expect(r.rules4).toEqual([]);
    expect(r.rules6).toEqual([
      ':OCIKIT-ocikit1 - [0:0]',
      '-A FORWARD -m comment --comment "ocikit network s1" -j OCIKIT-ocikit1',
      '-A OCIKIT-ocikit1 -d fd00:95::/64 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A OCIKIT-ocikit1 -s fd00:95::/64 -j ACCEPT',
      ':OCIKIT-ocikit1 - [0:0]',
      '-A POSTROUTING -s fd00:95::/64 -m comment --comment "ocikit network s1" -j OCIKIT-ocikit1',
      '-A OCIKIT-ocikit1 -d fd00:95::/64 -j RETURN',
      '-A OCIKIT-ocikit1 -d ff00::/8 -j RETURN',
      '-A OCIKIT-ocikit1 -j MASQUERADE',
    ]);
    // network rm: no rule in either family, no bridge, no lease, no marker
    nothingLeft(r);
    clean(r.leases);
  });
  it('several IPv6 subnets (decision 218): an address from each, a fixed one in the second, rules for each; nothing left', () => {
    const r = inside<{
      ra: string[];
      rb: string[];
      ping: number;
      rules4: string[];
      rules6: string[];
      left4: string[];
      left6: string[];
      bridge: number;
      markers: string[];
    }>('two6');
    expect({ ra: r.ra, rb: r.rb, ping: r.ping }).toEqual({
      ra: ['fd00:93::2/64', 'fd00:94::2/64'],
      rb: ['fd00:93::3/64', 'fd00:94::42/64'],
      ping: 0,
    });
    expect(r.rules4).toEqual([]);
    expect(r.rules6).toEqual([
      ':OCIKIT-ocikit1 - [0:0]',
      '-A FORWARD -m comment --comment "ocikit network s2" -j OCIKIT-ocikit1',
      '-A OCIKIT-ocikit1 -d fd00:93::/64 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A OCIKIT-ocikit1 -s fd00:93::/64 -j ACCEPT',
      '-A OCIKIT-ocikit1 -d fd00:94::/64 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A OCIKIT-ocikit1 -s fd00:94::/64 -j ACCEPT',
      ':OCIKIT-ocikit1 - [0:0]',
      '-A POSTROUTING -s fd00:93::/64 -m comment --comment "ocikit network s2" -j OCIKIT-ocikit1',
      '-A POSTROUTING -s fd00:94::/64 -m comment --comment "ocikit network s2" -j OCIKIT-ocikit1',
      '-A OCIKIT-ocikit1 -d fd00:93::/64 -j RETURN',
      '-A OCIKIT-ocikit1 -d fd00:94::/64 -j RETURN',
      '-A OCIKIT-ocikit1 -d ff00::/8 -j RETURN',
      '-A OCIKIT-ocikit1 -j MASQUERADE',
    ]);
    nothingLeft(r);
  });
});
