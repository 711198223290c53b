// The engine contract's network cases, for all four targets (the local engine; the docker driver on
// dockerd and on podman's Docker API; the podman driver on libpod): each runs in namespaces this
// test makes (network-contract-inside.ts under `unshare --net --mount --pid`), with its own test
// registry and engine there, since these cases make bridges, veths, rules and port mappings. Every
// target must give the same answers.
import { fileURLToPath } from 'node:url';
import { runInNewNamespaces } from '@ocikit/test-engines';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./network-contract-inside.ts', import.meta.url));

const inside = (target: string) => runInNewNamespaces<Record<string, unknown>>(script, [target]);

const port = { containerPort: 80, protocol: 'tcp', hostPort: 18090, hostIp: '0.0.0.0' };

/** What every target gives. */
const expected = {
  created: {
    name: 'cn1',
    driver: 'bridge',
    subnets: [{ subnet: '10.220.0.0/24', gateway: '10.220.0.1' }],
    internal: false,
    labels: { contract: '1' },
    hasId: true,
  },
  inspected: [{ subnet: '10.220.0.0/24', gateway: '10.220.0.1' }],
  createAgain: 'ERR_OCIKIT_ALREADY_EXISTS network-exists',
  internal: true,
  listed: ['cn1', 'cn2'],
  container: {
    mode: 'cn1',
    ipAddress: '10.220.0.40',
    ipPrefixLen: 24,
    gateway: '10.220.0.1',
    aliased: true,
    ports: [port],
  },
  listedContainer: { ports: [port], networks: ['cn1'] },
  attached: [{ id: true, ipAddress: '10.220.0.40' }],
  samePort: 'ERR_OCIKIT_FAILED_PRECONDITION port-in-use',
  unknownNetwork: 'ERR_OCIKIT_NOT_FOUND network-not-found',
  removeInUse: 'ERR_OCIKIT_FAILED_PRECONDITION network-in-use',
  connected: { ipAddress: '10.221.0.9', aliased: true },
  disconnected: ['cn1'],
  removed: 'ERR_OCIKIT_NOT_FOUND network-not-found',
  pruned: ['cn2'],
  afterPrune: [],
};

describe.each([
  ['local driver', 'local'],
  ['docker driver, dockerd', 'docker'],
  ["docker driver, podman's Docker API", 'docker-podman'],
  ['podman driver, libpod API', 'podman'],
])('engine contract networks: %s', (_, target) => {
  it('create (exists), inspect, list, a container with an address, aliases and a published port (inspect, list), the same port again (port-in-use), an unknown network, remove in use, connect, disconnect, remove, prune', async () => {
    expect(await inside(target)).toEqual(expected);
  }, 300_000);
});
