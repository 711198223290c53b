import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlreadyExists, isFailedPrecondition, isInvalidArgument, isNotFound } from '@ocikit/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  attachedContainers,
  createNetwork,
  DEFAULT_NETWORK,
  inspectNetwork,
  listAttachments,
  listNetworks,
  pruneNetworks,
  removeNetwork,
} from './config.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocikit-netcfg-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejects(p: Promise<unknown>): Promise<Error & { details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { details: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

/** An attachment as addNetwork records it in the result cache (complete: ADD finished). */
async function cacheEntry(network: string, containerId: string, complete: boolean): Promise<void> {
  const results = join(root, 'networks', 'cache', 'results');
  await mkdir(results, { recursive: true });
  const entry = { kind: 'cniCacheV1', containerId, networkName: network, ifName: 'eth0', config: '' };
  await writeFile(
    join(results, `${network}-${containerId}-eth0`),
    JSON.stringify(complete ? { ...entry, result: {} } : entry),
  );
}

describe('network config lists', () => {
  it('makes the default network on first use, shaped as podman writes it', async () => {
    const nets = await listNetworks(root);
    expect(nets.map((n) => n.name)).toEqual([DEFAULT_NETWORK]);
    const n = nets[0];
    expect(n).toMatchObject({
      subnet: '10.88.0.0/16',
      gateway: '10.88.0.1',
      internal: false,
      bridge: 'ocikit0',
    });
    const file = JSON.parse(await readFile(join(root, 'networks', 'bridge.conflist'), 'utf8'));
    expect(file.cniVersion).toBe('1.0.0');
    expect(file.plugins.map((p: { type: string }) => p.type)).toEqual([
      'bridge',
      'portmap',
      'firewall',
      'tuning',
    ]);
    expect(file.plugins[0]).toMatchObject({ isGateway: true, ipMasq: true, hairpinMode: true });
    expect(file.plugins[0].ipam).toMatchObject({
      type: 'host-local',
      ranges: [[{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]],
      routes: [{ dst: '0.0.0.0/0' }],
    });
    expect(file.plugins[1].capabilities).toEqual({ portMappings: true });
  });

  it('creates, lists, inspects and removes user networks', async () => {
    const a = await createNetwork(root, 'front', {
      subnet: '10.90.0.0/24',
      gateway: '10.90.0.254',
      labels: { app: 'x' },
    });
    expect(a).toMatchObject({
      subnet: '10.90.0.0/24',
      gateway: '10.90.0.254',
      labels: { app: 'x' },
      bridge: 'ocikit1',
    });
    const b = await createNetwork(root, 'back', { internal: true });
    expect(b).toMatchObject({
      subnet: '10.89.0.0/24',
      gateway: '10.89.0.1',
      internal: true,
      bridge: 'ocikit2',
    });
    expect(b.config.plugins[0]).toMatchObject({ isGateway: false, ipMasq: false });
    expect(b.config.plugins[0]?.['ipam']).not.toHaveProperty('routes');
    const c = await createNetwork(root, 'third');
    expect(c.subnet).toBe('10.89.1.0/24');
    expect((await listNetworks(root)).map((n) => n.name)).toEqual(['back', 'bridge', 'front', 'third']);
    expect(await inspectNetwork(root, 'front')).toEqual(a);
    await removeNetwork(root, 'front');
    expect(isNotFound(await rejects(inspectNetwork(root, 'front')))).toBe(true);
    expect(isNotFound(await rejects(removeNetwork(root, 'front')))).toBe(true);
    expect(
      (await readdir(join(root, 'networks'))).filter((f) => f.endsWith('.tmp') || f === '.lock'),
    ).toEqual([]);
  });

  it('refuses overlapping subnets, naming the other network', async () => {
    await createNetwork(root, 'a', { subnet: '10.90.0.0/16' });
    const e = await rejects(createNetwork(root, 'b', { subnet: '10.90.5.0/24' }));
    expect(isAlreadyExists(e)).toBe(true);
    expect(e.message).toBe('subnet 10.90.5.0/24 overlaps subnet 10.90.0.0/16 of network a');
    const d = await rejects(createNetwork(root, 'c', { subnet: '10.88.128.0/17' }));
    expect(d.message).toMatch(/overlaps subnet 10\.88\.0\.0\/16 of network bridge/);
    expect(isAlreadyExists(await rejects(createNetwork(root, 'a', { subnet: '10.91.0.0/24' })))).toBe(true);
  });

  it('concurrent creates never get overlapping subnets', async () => {
    const nets = await Promise.all(Array.from({ length: 8 }, (_, i) => createNetwork(root, `n${i}`)));
    expect(new Set(nets.map((n) => n.subnet)).size).toBe(8);
    expect(new Set(nets.map((n) => n.bridge)).size).toBe(8);
  });

  it('refuses a bad CIDR, gateway or name with an error naming it', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['x', { subnet: '10.90.0.0' }, /subnet "10\.90\.0\.0" is not an IPv4 CIDR/],
      ['x', { subnet: '10.90.0.1/24' }, /host bits set; did you mean 10\.90\.0\.0\/24/],
      ['x', { subnet: '300.1.0.0/16' }, /not an IPv4 CIDR/],
      ['x', { subnet: '10.90.0.0/31' }, /too small/],
      ['x', { subnet: 'fd00::/64' }, /is IPv6: give it as the IPv6 subnet/],
      [
        'x',
        { subnet: '10.90.0.0/24', gateway: '10.91.0.1' },
        /gateway "10\.91\.0\.1" is not a host address in subnet 10\.90\.0\.0\/24/,
      ],
      ['x', { subnet: '10.90.0.0/24', gateway: '10.90.0.255' }, /not a host address/],
      ['x', { gateway: '10.90.0.1' }, /a gateway needs a subnet/],
      ['-bad', {}, /network name "-bad" is invalid/],
      ['a/b', {}, /network name "a\/b" is invalid/],
      ['none', {}, /reserved/],
    ];
    for (const [name, opts, re] of cases) {
      const e = await rejects(createNetwork(root, name, opts));
      expect(isInvalidArgument(e), `${name} ${JSON.stringify(opts)}`).toBe(true);
      expect(e.message).toMatch(re);
    }
    expect(isAlreadyExists(await rejects(createNetwork(root, 'bridge')))).toBe(true);
  });

  it('refuses to remove a network in use, and the default network', async () => {
    await createNetwork(root, 'used', { subnet: '10.90.0.0/24' });
    await cacheEntry('used', 'c1', false);
    expect(await attachedContainers(root, 'used')).toEqual(['c1']);
    const e = await rejects(removeNetwork(root, 'used'));
    expect(isFailedPrecondition(e)).toBe(true);
    expect(e.message).toMatch(/network used is in use by 1 container\(s\): c1/);
    expect(isFailedPrecondition(await rejects(removeNetwork(root, 'bridge')))).toBe(true);
    expect(await listAttachments(root)).toEqual([
      { network: 'used', containerId: 'c1', ifName: 'eth0', netns: '', complete: false },
    ]);
  });

  it('prune removes the user networks nobody is attached to', async () => {
    await createNetwork(root, 'idle');
    await createNetwork(root, 'busy');
    await cacheEntry('busy', 'c2', true);
    expect(await pruneNetworks(root)).toEqual(['idle']);
    expect((await listNetworks(root)).map((n) => n.name)).toEqual(['bridge', 'busy']);
  });

  it('dual-stack: two range sets and default routes as podman 4.3 writes them, a ULA /64 picked', async () => {
    const net = await createNetwork(root, 'ds', { ipv6: true });
    expect(net).toMatchObject({ subnet: '10.89.0.0/24', gateway: '10.89.0.1', ipv6: true });
    expect(net.subnet6).toMatch(/^fd[0-9a-f]{2}:[0-9a-f:]+::\/64$/);
    expect(net.gateway6).toBe(`${net.subnet6?.split('/')[0]}1`);
    const ipam = net.config.plugins[0]?.['ipam'] as Record<string, unknown>;
    expect(ipam['ranges']).toEqual([
      [{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }],
      [{ subnet: net.subnet6, gateway: net.gateway6 }],
    ]);
    expect(ipam['routes']).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    // read back from the file as written
    expect(await inspectNetwork(root, 'ds')).toEqual(net);
    // an IPv6 subnet alone: IPv6-only (decision 217); given gateway kept; internal: no routes
    const given = await createNetwork(root, 'ds2', {
      subnet6: 'fd00:aa::/64',
      gateway6: 'fd00:aa::fe',
      internal: true,
    });
    expect(given).toMatchObject({ ipv6: true, subnet6: 'fd00:aa::/64', gateway6: 'fd00:aa::fe' });
    expect(given.config.plugins[0]?.['ipam']).not.toHaveProperty('routes');
    // IPv4-only networks say so
    expect(await createNetwork(root, 'v4')).toMatchObject({ ipv6: false });
    expect((await inspectNetwork(root, 'v4')).subnet6).toBeUndefined();
  });

  it('IPv6-only: an IPv6 subnet alone makes one range set and route, as podman 4.3 writes it (decision 217)', async () => {
    const net = await createNetwork(root, 'six', { subnet6: 'fd00:1::/64' });
    expect(net).toMatchObject({ ipv6: true, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' });
    expect(net.subnet).toBeUndefined();
    expect(net.gateway).toBeUndefined();
    const ipam = net.config.plugins[0]?.['ipam'] as Record<string, unknown>;
    expect(ipam['ranges']).toEqual([[{ subnet: 'fd00:1::/64', gateway: 'fd00:1::1' }]]);
    expect(ipam['routes']).toEqual([{ dst: '::/0' }]);
    expect(await inspectNetwork(root, 'six')).toEqual(net);
    // no IPv4 subnet taken: the next network gets the first free one still
    expect(await createNetwork(root, 'four')).toMatchObject({ subnet: '10.89.0.0/24' });
    // with ipv6 too, or an IPv4 subnet beside it: dual-stack (podman's --ipv6 --subnet V6)
    expect(await createNetwork(root, 'both', { subnet6: 'fd00:2::/64', ipv6: true })).toMatchObject({
      subnet: '10.89.1.0/24',
      subnet6: 'fd00:2::/64',
    });
    expect(
      await createNetwork(root, 'both2', { subnet: '10.1.0.0/24', subnet6: 'fd00:3::/64' }),
    ).toMatchObject({ subnet: '10.1.0.0/24', subnet6: 'fd00:3::/64' });
    // an IPv4 gateway needs an IPv4 subnet
    const e = await rejects(createNetwork(root, 'bad', { subnet6: 'fd00:4::/64', gateway: '10.1.0.1' }));
    expect(isInvalidArgument(e)).toBe(true);
    expect(e.message).toMatch(/a gateway needs a subnet/);
    // listed with the others
    expect((await listNetworks(root)).map((n) => n.name)).toEqual(['both', 'both2', 'bridge', 'four', 'six']);
  });

  it('several IPv6 subnets: a range set each, in order, one route (decision 218)', async () => {
    const net = await createNetwork(root, 'many6', {
      subnet6: 'fd00:1::/64',
      moreSubnets6: [{ subnet: 'fd00:2::/64', gateway: 'fd00:2::9' }, { subnet: 'fd00:3::/64' }],
    });
    expect(net).toMatchObject({ ipv6: true, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' });
    expect(net.subnet).toBeUndefined();
    expect(net.subnets6).toEqual([
      { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' },
      { subnet: 'fd00:2::/64', gateway: 'fd00:2::9' },
      { subnet: 'fd00:3::/64', gateway: 'fd00:3::1' },
    ]);
    const ipam = net.config.plugins[0]?.['ipam'] as Record<string, unknown>;
    expect(ipam['ranges']).toEqual(net.subnets6.map((r) => [r]));
    expect(ipam['routes']).toEqual([{ dst: '::/0' }]);
    expect(await inspectNetwork(root, 'many6')).toEqual(net);
    // with an IPv4 subnet: its set first
    const mixed = await createNetwork(root, 'mixed', {
      subnet: '10.1.0.0/24',
      subnet6: 'fd00:4::/64',
      moreSubnets6: [{ subnet: 'fd00:5::/64' }],
    });
    expect(mixed.config.plugins[0]?.['ipam']).toHaveProperty('ranges', [
      [{ subnet: '10.1.0.0/24', gateway: '10.1.0.1' }],
      [{ subnet: 'fd00:4::/64', gateway: 'fd00:4::1' }],
      [{ subnet: 'fd00:5::/64', gateway: 'fd00:5::1' }],
    ]);
    // another network's second subnet overlaps too
    const clash = await rejects(createNetwork(root, 'clash', { subnet6: 'fd00:5::/80' }));
    expect(isAlreadyExists(clash)).toBe(true);
    expect(clash.message).toBe('subnet fd00:5::/80 overlaps subnet fd00:5::/64 of network mixed');
    for (const [options, message] of [
      [{ moreSubnets6: [{ subnet: 'fd00:6::/64' }] }, /need a first one: give subnet6/],
      [
        { subnet6: 'fd00:6::/64', moreSubnets6: [{ subnet: 'fd00:6::/96' }] },
        /overlaps IPv6 subnet fd00:6::\/64 given with it/,
      ],
      [
        { subnet6: 'fd00:6::/64', moreSubnets6: [{ subnet: 'fd00:7::/64', gateway: 'fd00:8::1' }] },
        /not a host address in subnet fd00:7::\/64/,
      ],
      [{ subnet6: 'fd00:6::/64', moreSubnets6: [{ subnet: '10.9.0.0/24' }] }, /not an IPv6 CIDR/],
    ] as const) {
      const e = await rejects(createNetwork(root, 'bad6', options));
      expect(isInvalidArgument(e), JSON.stringify(options)).toBe(true);
      expect(e.message).toMatch(message);
    }
  });

  it('dual-stack bad input: overlapping, malformed or too small IPv6 subnets, a gateway outside it', async () => {
    await createNetwork(root, 'a6', { subnet6: 'fd00:1::/64' });
    const overlap = await rejects(createNetwork(root, 'b6', { subnet6: 'fd00:1::/80' }));
    expect(isAlreadyExists(overlap)).toBe(true);
    expect(overlap.message).toBe('subnet fd00:1::/80 overlaps subnet fd00:1::/64 of network a6');
    for (const [options, message] of [
      [{ subnet6: 'fd00:2::/127' }, /too small/],
      [{ subnet6: 'fd00:2::1/64' }, /host bits set/],
      [{ subnet6: '10.1.0.0/24' }, /not an IPv6 CIDR/],
      [{ subnet: 'fd00:2::/64' }, /is IPv6: give it as the IPv6 subnet/],
      [{ subnet6: 'fd00:2::/64', gateway6: 'fd00:3::1' }, /not a host address in subnet fd00:2::\/64/],
      [{ gateway6: 'fd00:3::1', ipv6: true }, /needs an IPv6 subnet/],
      [{ subnet6: 'fd00:2::/64', ipv6: false }, /with ipv6 off/],
    ] as const) {
      const e = await rejects(createNetwork(root, 'bad6', options));
      expect(isInvalidArgument(e), JSON.stringify(options)).toBe(true);
      expect(e.message).toMatch(message);
    }
    // nothing half-made
    expect((await listNetworks(root)).map((n) => n.name)).toEqual(['a6', 'bridge']);
  });
});
