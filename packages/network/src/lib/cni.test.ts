import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDataLoss, isInvalidArgument, isNotFound } from '@ocikit/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNetwork, checkNetwork, delNetwork, parseCniResult } from './cni.ts';
import { createNetwork } from './config.ts';

// Argument checks that fail before any plugin or namespace is touched; the plugins themselves run
// in network.test.ts, inside namespaces the test makes.
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocikit-cni-'));
  await createNetwork(root, 'n', { subnet: '10.90.0.0/24' });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('CNI calls: bad input', () => {
  it('refuses bad ids, interface names, namespace paths, ports and addresses, naming them', async () => {
    const ns = '/run/netns/x';
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => addNetwork(root, 'n', { containerId: '../x', netns: ns }), /container id "\.\.\/x" is invalid/],
      [
        () => addNetwork(root, 'n', { containerId: 'c', netns: ns, ifName: 'a/b' }),
        /interface name "a\/b" is invalid/,
      ],
      [
        () => addNetwork(root, 'n', { containerId: 'c', netns: 'rel/ns' }),
        /network namespace path "rel\/ns" is not an absolute path/,
      ],
      [
        () =>
          addNetwork(root, 'n', {
            containerId: 'c',
            netns: ns,
            portMappings: [{ hostPort: 70000, containerPort: 80 }],
          }),
        /hostPort 70000 is not a port number/,
      ],
      [
        () =>
          addNetwork(root, 'n', {
            containerId: 'c',
            netns: ns,
            portMappings: [
              { hostPort: 80, containerPort: 80 },
              { hostPort: 80, containerPort: 81 },
            ],
          }),
        /host port :80\/tcp is published twice/,
      ],
      [
        () => addNetwork(root, 'n', { containerId: 'c', netns: ns, ip: '10.90.0.300' }),
        /ip "10\.90\.0\.300" is not an IPv4 address/,
      ],
      [
        () => addNetwork(root, 'n', { containerId: 'c', netns: ns, ip6: 'fd00::g' }),
        /ip6 "fd00::g" is not an IPv6 address/,
      ],
      [
        () =>
          addNetwork(root, 'n', {
            containerId: 'c',
            netns: ns,
            portMappings: [{ hostPort: 80, containerPort: 80, hostIP: 'localhost' }],
          }),
        /port mapping hostIP "localhost" is not an IP address/,
      ],
      [
        () => addNetwork(root, 'n', { containerId: 'c', netns: ns, args: { 'A;B': 'x' } }),
        /CNI arg "A;B=x" is invalid/,
      ],
    ];
    for (const [p, re] of cases) {
      const e = await rejects(p());
      expect(isInvalidArgument(e), String(re)).toBe(true);
      expect(e.message).toMatch(re);
    }
  });

  it('an unknown network is not found; CHECK of an unattached container is not found; DEL of nothing is fine', async () => {
    expect(
      isNotFound(await rejects(addNetwork(root, 'nope', { containerId: 'c', netns: '/run/netns/c' }))),
    ).toBe(true);
    expect(
      isNotFound(await rejects(checkNetwork(root, 'n', { containerId: 'c', netns: '/run/netns/c' }))),
    ).toBe(true);
    await delNetwork(root, 'gone', { containerId: 'c' });
  });

  it('parses a v1.0 result and refuses a malformed one, naming the field', () => {
    const r = parseCniResult(
      {
        cniVersion: '1.0.0',
        interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/c' }],
        ips: [{ address: '10.90.0.2/24', gateway: '10.90.0.1', interface: 0 }],
        routes: [{ dst: '0.0.0.0/0' }],
        dns: { nameservers: ['10.90.0.1'] },
      },
      'bridge',
    );
    expect(r.ips[0]).toEqual({ address: '10.90.0.2/24', gateway: '10.90.0.1', interface: 0 });
    expect(r.dns).toEqual({ nameservers: ['10.90.0.1'] });
    const e = (() => {
      try {
        parseCniResult({ cniVersion: '1.0.0', ips: [{ address: 1 }] }, 'bridge');
      } catch (x) {
        return x as Error;
      }
      throw new Error('expected a throw');
    })();
    expect(isDataLoss(e)).toBe(true);
    expect(e.message).toBe('CNI result from bridge has a bad ips[].address');
  });
});
