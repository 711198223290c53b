// The local engine's `networks.*` operations (issue 15): CNI config lists under ROOT/networks
// (@ocikit/network), containers' attachments from their network records.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Handlers, NetworkDetails, Operation } from '@ocikit/engine';
import { isNotFound } from '@ocikit/errors';
import {
  createNetwork,
  DEFAULT_NETWORK,
  inspectNetwork,
  listNetworks,
  type Network,
  removeNetwork,
} from '@ocikit/network';
import { localError } from './container-errors.ts';
import { getContainer } from './container-store.ts';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';
import {
  connectNetwork,
  disconnectNetwork,
  listNetworkStates,
  type NetworkState,
  networkError,
  sweepNetworks,
} from './network.ts';

/** A network's id: the digest of its name, as podman's CNI backend gives one. */
export function networkId(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** A network as the contract shows it, with the containers attached to it now. */
function toDetails(n: Network, states: readonly NetworkState[]): NetworkDetails {
  let created: string | undefined;
  try {
    created = statSync(n.path).mtime.toISOString();
  } catch {
    // removed meanwhile
  }
  const containers = states.flatMap((s) =>
    s.networks
      .filter((a) => a.network === n.name && (a.ipAddress || a.ipv6Address))
      .map((a) => ({
        id: s.id,
        name: s.name,
        ipAddress: a.ipAddress ?? '',
        ...(a.ipv6Address ? { ipv6Address: a.ipv6Address } : {}),
      })),
  );
  return {
    name: n.name,
    id: networkId(n.name),
    driver: 'bridge',
    subnets: [
      ...(n.subnet !== undefined ? [{ subnet: n.subnet, gateway: n.gateway }] : []),
      ...n.subnets6.map((x) => ({ subnet: x.subnet, gateway: x.gateway })),
    ],
    ipv6: n.ipv6,
    internal: n.internal,
    labels: { ...n.labels },
    ...(created ? { created } : {}),
    interface: n.bridge,
    containers,
    raw: n.config,
  };
}

/** A network by name, full id or unique id prefix; `network-not-found` otherwise. */
async function findNetwork(ctx: LocalContext, ref: string, operation: Operation): Promise<Network> {
  try {
    return await inspectNetwork(ctx.root, ref);
  } catch (e) {
    if (!isNotFound(e) && !/^[0-9a-f]+$/.test(ref)) throw networkError(e, operation);
  }
  const byId = (await listNetworks(ctx.root)).filter((n) => networkId(n.name).startsWith(ref));
  if (byId.length === 1 && byId[0]) return byId[0];
  throw localError('network-not-found', operation, `no network ${JSON.stringify(ref.slice(0, 80))}`, {
    details: { name: ref.slice(0, 200) },
  });
}

/** The names of the containers that name `network` among theirs (any state). */
function usersOf(states: readonly NetworkState[], network: string): string[] {
  return states.filter((s) => s.networks.some((a) => a.network === network)).map((s) => s.name);
}

const networkEvent = (ctx: LocalContext, action: string, name: string, more: Record<string, string> = {}) =>
  recordEvent(ctx, {
    type: 'network',
    action,
    id: networkId(name),
    attributes: { name, type: 'bridge', ...more },
  });

/**
 * The network operations of the local engine. The default network `bridge` (10.88.0.0/16) is made
 * on first use and cannot be removed; a network any container names (running or not) is in use.
 */
export function networkHandlers(ctx: LocalContext): Partial<Handlers> {
  return {
    async 'networks.create'(spec) {
      const n = await createNetwork(ctx.root, spec.name, {
        ...(spec.subnet !== undefined ? { subnet: spec.subnet } : {}),
        ...(spec.gateway !== undefined ? { gateway: spec.gateway } : {}),
        ...(spec.ipv6 !== undefined ? { ipv6: spec.ipv6 } : {}),
        ...(spec.subnet6 !== undefined ? { subnet6: spec.subnet6 } : {}),
        ...(spec.gateway6 !== undefined ? { gateway6: spec.gateway6 } : {}),
        ...(spec.moreSubnets6 !== undefined ? { moreSubnets6: spec.moreSubnets6 } : {}),
        ...(spec.internal !== undefined ? { internal: spec.internal } : {}),
        ...(spec.labels !== undefined ? { labels: spec.labels } : {}),
      }).catch((e: unknown) => {
        throw networkError(e, 'networks.create');
      });
      await networkEvent(ctx, 'create', n.name);
      return toDetails(n, []);
    },

    async 'networks.list'() {
      const states = listNetworkStates(ctx);
      return (await listNetworks(ctx.root)).map((n) => toDetails(n, states));
    },

    async 'networks.inspect'(name) {
      return toDetails(await findNetwork(ctx, name, 'networks.inspect'), listNetworkStates(ctx));
    },

    async 'networks.remove'(name) {
      const operation: Operation = 'networks.remove';
      const n = await findNetwork(ctx, name, operation);
      if (n.name === DEFAULT_NETWORK)
        throw localError('bad-argument', operation, `the default network ${n.name} cannot be removed`, {
          details: { name: n.name },
        });
      const users = usersOf(listNetworkStates(ctx), n.name);
      if (users.length > 0)
        throw localError(
          'network-in-use',
          operation,
          `network ${n.name} is in use by ${users.length} container(s): ${users.join(', ').slice(0, 200)}`,
          { details: { name: n.name, containers: users.length }, hint: 'remove or disconnect them first' },
        );
      await removeNetwork(ctx.root, n.name).catch((e: unknown) => {
        throw networkError(e, operation);
      });
      await networkEvent(ctx, 'destroy', n.name);
    },

    async 'networks.prune'() {
      // attachments a killed ocikit left
      await sweepNetworks(ctx);
      const states = listNetworkStates(ctx);
      const removed: string[] = [];
      for (const n of await listNetworks(ctx.root)) {
        if (n.name === DEFAULT_NETWORK || usersOf(states, n.name).length > 0) continue;
        try {
          await removeNetwork(ctx.root, n.name);
        } catch {
          // attached meanwhile, or removed by another prune
          continue;
        }
        removed.push(n.name);
        await networkEvent(ctx, 'destroy', n.name);
      }
      return { removed };
    },

    async 'networks.connect'(name, container, spec) {
      const n = await findNetwork(ctx, name, 'networks.connect');
      const record = await getContainer(ctx, container, 'networks.connect');
      await connectNetwork(ctx, record, n, spec);
      await networkEvent(ctx, 'connect', n.name, { container: record.id });
    },

    async 'networks.disconnect'(name, container) {
      const n = await findNetwork(ctx, name, 'networks.disconnect');
      const record = await getContainer(ctx, container, 'networks.disconnect');
      await disconnectNetwork(ctx, record, n.name);
      await networkEvent(ctx, 'disconnect', n.name, { container: record.id });
    },
  };
}
