import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AlreadyExistsError,
  DataLossError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  throwIfAborted,
  truncate,
} from '@ocikit/errors';
import { withLock, writeAtomic } from './fsutil.ts';
import {
  bigIntToIpv6,
  formatSubnet,
  formatSubnet6,
  type Ipv4Subnet,
  type Ipv6Subnet,
  ipv4ToNumber,
  ipv6ToBigInt,
  isIpv6Text,
  numberToIpv4,
  parseSubnet,
  parseSubnet6,
  pickUlaSubnet,
  subnet6HasHost,
  subnetHasHost,
  subnets6Overlap,
  subnetsOverlap,
} from './ip.ts';
import { removeNetworkRules } from './rules.ts';

const run = promisify(execFile);

/** The CNI spec version ocikit writes into config lists and speaks to plugins. */
export const CNI_VERSION = '1.0.0';

/** The name of the default network, made on first use (podman's 10.88.0.0/16 shape). */
export const DEFAULT_NETWORK = 'bridge';

/** The default network's subnet unless the caller asks for another. */
export const DEFAULT_SUBNET = '10.88.0.0/16';

/** One plugin's configuration inside a CNI config list (`type` names the plugin binary). */
export interface PluginConfig {
  /** The plugin binary's name, looked up in the CNI path. */
  readonly type: string;
  /** Capabilities the plugin accepts through `runtimeConfig` (e.g. `portMappings`). */
  readonly capabilities?: Readonly<Record<string, boolean>>;
  /** Any other plugin-specific field. */
  readonly [key: string]: unknown;
}

/** A CNI spec v1.0 network configuration list (a `.conflist` file). */
export interface NetworkConfigList {
  /** The CNI spec version of this list. */
  readonly cniVersion: string;
  /** The network's name. */
  readonly name: string;
  /** The plugins, run in this order on ADD and in reverse on DEL. */
  readonly plugins: readonly PluginConfig[];
  /** Extra fields (podman keeps labels in `args.podman_labels`). */
  readonly [key: string]: unknown;
}

/** A network as ocikit keeps it: its config list and the facts read from it. */
export interface Network {
  /** The network's name. */
  readonly name: string;
  /**
   * The IPv4 subnet containers get addresses from, `A.B.C.D/N`; absent on an IPv6-only network
   * (decision 217).
   */
  readonly subnet?: string;
  /**
   * The IPv4 gateway (the bridge's address; reserved but unassigned on an internal network); absent
   * on an IPv6-only network.
   */
  readonly gateway?: string;
  /** True when containers get an IPv6 address (dual-stack or IPv6-only, podman's `ipv6_enabled`). */
  readonly ipv6: boolean;
  /** The IPv6 subnet of a dual-stack or IPv6-only network, canonical `ADDR/N`. */
  readonly subnet6?: string;
  /** The IPv6 gateway of a dual-stack or IPv6-only network. */
  readonly gateway6?: string;
  /**
   * Every IPv6 subnet with its gateway, `subnet6` first (one host-local range set each: a container
   * gets an address from each); empty on an IPv4-only network.
   */
  readonly subnets6: readonly { readonly subnet: string; readonly gateway: string }[];
  /** True when containers get no route out and no masquerading. */
  readonly internal: boolean;
  /** The Linux bridge device the network uses. */
  readonly bridge: string;
  /** User labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** The config list file. */
  readonly path: string;
  /** The CNI config list itself, as handed to the plugins. */
  readonly config: NetworkConfigList;
}

/** Options for {@link createNetwork}. */
export interface CreateNetworkOptions {
  /** IPv4 subnet `A.B.C.D/N`; default: the first free 10.89.N.0/24. */
  subnet?: string;
  /** Gateway address inside the subnet; default: the subnet's first host. */
  gateway?: string;
  /**
   * Dual-stack: containers get an IPv4 and an IPv6 address, the IPv6 one from `subnet6` or else
   * from a free unique local /64 picked at random (podman's `--ipv6`), the IPv4 one from `subnet`
   * or a free one.
   */
  ipv6?: boolean;
  /**
   * IPv6 subnet `ADDR/N` (at most a /126). Alone (no `subnet`, `ipv6` not true) it makes an
   * IPv6-only network, as podman 4.3 does for `--subnet V6` (decision 217); with `subnet` or
   * `ipv6`, a dual-stack one.
   */
  subnet6?: string;
  /** IPv6 gateway inside `subnet6`; default: the subnet's first address after the network's. */
  gateway6?: string;
  /**
   * More IPv6 subnets after `subnet6`, each with its gateway (default: its first address after the
   * network's): one range set each, so containers get an address from each, as podman 4.3 does for
   * several IPv6 `--subnet` (decision 218). Needs `subnet6`.
   */
  moreSubnets6?: readonly { readonly subnet: string; readonly gateway?: string | undefined }[];
  /** No route out, no masquerading, no gateway address on the bridge (Docker's `--internal`). */
  internal?: boolean;
  /** User labels kept with the network. */
  labels?: Readonly<Record<string, string>>;
  /** The IPAM lease directory (host-local `dataDir`); default `<root>/networks/ipam`. */
  ipamDataDir?: string;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Options for the network store calls that may make the default network. */
export interface NetworkStoreOptions {
  /** The default network's subnet when it has to be made; default {@link DEFAULT_SUBNET}. */
  defaultSubnet?: string;
  /** Cancels the call. */
  signal?: AbortSignal;
}

const nameRe = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const reserved = new Set(['host', 'none', 'default']);

/** The directory under the state root that holds network config lists, leases and the result cache. */
export function networksDir(root: string): string {
  return join(root, 'networks');
}

/**
 * Checks a network name as Docker does (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 128 characters, not
 * `host`, `none` or `default`); throws InvalidArgumentError naming the name otherwise.
 */
export function validateNetworkName(name: string): void {
  if (!nameRe.test(name) || name.length > 128) {
    throw new InvalidArgumentError(
      `network name ${JSON.stringify(truncate(name))} is invalid: use letters, digits, '_', '.' and '-', starting with a letter or digit`,
      { details: { name: truncate(name) } },
    );
  }
  if (reserved.has(name)) {
    throw new InvalidArgumentError(`network name ${JSON.stringify(name)} is reserved`, { details: { name } });
  }
}

function confPath(root: string, name: string): string {
  return join(networksDir(root), `${name}.conflist`);
}

function bridgePlugin(c: NetworkConfigList): PluginConfig | undefined {
  return c.plugins.find((p) => p.type === 'bridge');
}

function toNetwork(path: string, config: NetworkConfigList): Network {
  const bridge = bridgePlugin(config);
  const ipam = bridge?.['ipam'] as { ranges?: { subnet?: string; gateway?: string }[][] } | undefined;
  const ranges = (ipam?.ranges ?? []).map((set) => set[0]);
  const range = ranges.find((r) => r?.subnet !== undefined && !isIpv6Text(r.subnet));
  const ranges6 = ranges.filter(
    (r): r is { subnet: string; gateway: string } =>
      r?.subnet !== undefined && r.gateway !== undefined && isIpv6Text(r.subnet),
  );
  const range6 = ranges6[0];
  const hasV4 = range?.subnet !== undefined && range.gateway !== undefined;
  if (!bridge || typeof bridge['bridge'] !== 'string' || !(hasV4 || range6?.subnet !== undefined)) {
    throw new DataLossError(`network config ${path} has no bridge plugin with a host-local range`, {
      details: { path },
    });
  }
  const args = config['args'] as { podman_labels?: Record<string, string> } | undefined;
  return {
    name: config.name,
    ...(hasV4 ? { subnet: range?.subnet as string, gateway: range?.gateway as string } : {}),
    ipv6: range6?.subnet !== undefined,
    ...(range6?.subnet !== undefined ? { subnet6: range6.subnet } : {}),
    ...(range6?.gateway !== undefined ? { gateway6: range6.gateway } : {}),
    subnets6: ranges6.map((r) => ({ subnet: r.subnet, gateway: r.gateway })),
    internal: bridge['isGateway'] !== true,
    bridge: bridge['bridge'],
    labels: { ...(args?.podman_labels ?? {}) },
    path,
    config,
  };
}

async function readNetwork(path: string): Promise<Network> {
  const text = await readFile(path, 'utf8');
  let config: NetworkConfigList;
  try {
    config = JSON.parse(text) as NetworkConfigList;
  } catch (e) {
    throw new DataLossError(`network config ${path} is not JSON`, { cause: e, details: { path } });
  }
  if (typeof config?.name !== 'string' || !Array.isArray(config.plugins)) {
    throw new DataLossError(`network config ${path} has no name or plugins`, { details: { path } });
  }
  return toNetwork(path, config);
}

async function readAll(root: string): Promise<Network[]> {
  let names: string[];
  try {
    names = await readdir(networksDir(root));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Network[] = [];
  for (const n of names.filter((x) => x.endsWith('.conflist')).sort()) {
    try {
      out.push(await readNetwork(join(networksDir(root), n)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return out;
}

/** Builds the config list podman's CNI backend writes for a bridge network. */
function buildConfigList(
  name: string,
  bridge: string,
  v4: { subnet: string; gateway: string } | undefined,
  v6: readonly { subnet: string; gateway: string }[],
  internal: boolean,
  labels: Readonly<Record<string, string>>,
  ipamDataDir: string,
): NetworkConfigList {
  // as podman 4.3 writes it: one range set per family, a default route for each (IPv6-only: the
  // IPv6 set and route alone)
  // several IPv6 subnets: a range set each, one route (decision 218)
  const ipam: Record<string, unknown> = {
    type: 'host-local',
    ranges: [...(v4 ? [[v4]] : []), ...v6.map((r) => [r])],
    dataDir: ipamDataDir,
  };
  if (!internal)
    ipam['routes'] = [...(v4 ? [{ dst: '0.0.0.0/0' }] : []), ...(v6.length > 0 ? [{ dst: '::/0' }] : [])];
  const list: Record<string, unknown> = {
    cniVersion: CNI_VERSION,
    name,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: !internal,
        ipMasq: !internal,
        hairpinMode: true,
        ipam,
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'firewall', backend: 'iptables' },
      { type: 'tuning' },
    ],
  };
  if (Object.keys(labels).length > 0) list['args'] = { podman_labels: { ...labels } };
  return list as NetworkConfigList;
}

async function create(
  root: string,
  name: string,
  options: CreateNetworkOptions,
  bridgeName: (taken: Set<string>) => string,
): Promise<Network> {
  const { signal } = options;
  throwIfAborted(signal);
  let subnet: Ipv4Subnet | undefined;
  if (options.subnet !== undefined) {
    if (isIpv6Text(options.subnet)) {
      throw new InvalidArgumentError(
        `subnet ${JSON.stringify(truncate(options.subnet))} is IPv6: give it as the IPv6 subnet (subnet6)`,
        { details: { subnet: truncate(options.subnet) } },
      );
    }
    subnet = parseSubnet(options.subnet);
  }
  const v6 = parseV6Options(options);
  let gateway: number | undefined;
  if (options.gateway !== undefined) {
    if (!subnet) {
      throw new InvalidArgumentError('a gateway needs a subnet: give the subnet as well', {
        details: { gateway: truncate(options.gateway) },
      });
    }
    gateway = ipv4ToNumber(options.gateway);
    if (gateway === undefined || !subnetHasHost(subnet, gateway)) {
      throw new InvalidArgumentError(
        `gateway ${JSON.stringify(truncate(options.gateway))} is not a host address in subnet ${formatSubnet(subnet)}`,
        { details: { gateway: truncate(options.gateway), subnet: formatSubnet(subnet) } },
      );
    }
  }
  const labels = options.labels ?? {};
  for (const k of Object.keys(labels)) {
    if (k === '') throw new InvalidArgumentError('a label key is empty', { details: { labels } });
  }
  const dir = networksDir(root);
  return withLock(
    join(dir, '.lock'),
    async () => {
      const existing = await readAll(root);
      if (existing.some((n) => n.name === name)) {
        throw new AlreadyExistsError(`network ${name} already exists`, { details: { name } });
      }
      const subnets = existing.flatMap((n) => (n.subnet ? [{ n, s: parseSubnet(n.subnet) }] : []));
      const subnets6 = existing.flatMap((n) => n.subnets6.map((x) => ({ n, s: parseSubnet6(x.subnet) })));
      const v6Ranges = [...v6.subnets];
      for (const { subnet: wanted } of v6Ranges) {
        const clash = subnets6.find((x) => subnets6Overlap(x.s, wanted));
        if (clash) {
          const networkSubnet = formatSubnet6(clash.s);
          throw new AlreadyExistsError(
            `subnet ${formatSubnet6(wanted)} overlaps subnet ${networkSubnet} of network ${clash.n.name}`,
            { details: { subnet: formatSubnet6(wanted), network: clash.n.name, networkSubnet } },
          );
        }
      }
      if (v6Ranges.length === 0 && v6.enabled) {
        v6Ranges.push({ subnet: pickUlaSubnet(subnets6.map((x) => x.s)), gateway: undefined });
      }
      if (v6.only) {
        // IPv6-only (decision 217): no IPv4 subnet
      } else if (subnet) {
        const clash = subnets.find((x) => subnetsOverlap(x.s, subnet as Ipv4Subnet));
        if (clash) {
          throw new AlreadyExistsError(
            `subnet ${formatSubnet(subnet)} overlaps subnet ${clash.n.subnet} of network ${clash.n.name}`,
            {
              details: { subnet: formatSubnet(subnet), network: clash.n.name, networkSubnet: clash.n.subnet },
            },
          );
        }
      } else {
        for (let i = 0; i < 256 && !subnet; i++) {
          const cand = { base: ((10 << 24) | (89 << 16) | (i << 8)) >>> 0, prefix: 24 };
          if (!subnets.some((x) => subnetsOverlap(x.s, cand))) subnet = cand;
        }
        if (!subnet) {
          throw new FailedPreconditionError('no free subnet left in 10.89.0.0/16: give one with subnet', {
            details: { name },
          });
        }
      }
      const bridge = bridgeName(new Set(existing.map((n) => n.bridge)));
      const config = buildConfigList(
        name,
        bridge,
        subnet
          ? { subnet: formatSubnet(subnet), gateway: numberToIpv4(gateway ?? subnet.base + 1) }
          : undefined,
        v6Ranges.map((r) => ({
          subnet: formatSubnet6(r.subnet),
          gateway: bigIntToIpv6(r.gateway ?? r.subnet.base + 1n),
        })),
        options.internal === true,
        labels,
        options.ipamDataDir ?? join(dir, 'ipam'),
      );
      const path = confPath(root, name);
      await writeAtomic(path, `${JSON.stringify(config, null, 2)}\n`);
      return toNetwork(path, config);
    },
    signal,
  );
}

/**
 * The IPv6 options checked: whether the network has IPv6, whether it is IPv6-only (IPv6 subnets
 * alone, decision 217), and its subnets with their gateways if given (`subnet6`, then
 * `moreSubnets6`), none overlapping another.
 */
function parseV6Options(options: CreateNetworkOptions): {
  enabled: boolean;
  only: boolean;
  subnets: { subnet: Ipv6Subnet; gateway: bigint | undefined }[];
} {
  if (options.ipv6 === false && options.subnet6 !== undefined) {
    throw new InvalidArgumentError('an IPv6 subnet was given with ipv6 off', {
      details: { subnet6: truncate(options.subnet6) },
    });
  }
  if (options.subnet6 === undefined) {
    if (options.gateway6 !== undefined)
      throw new InvalidArgumentError('an IPv6 gateway needs an IPv6 subnet: give the subnet as well', {
        details: { gateway6: truncate(options.gateway6) },
      });
    if ((options.moreSubnets6 ?? []).length > 0)
      throw new InvalidArgumentError('more IPv6 subnets need a first one: give subnet6 as well', {
        details: { moreSubnets6: (options.moreSubnets6 ?? []).length },
      });
  }
  const given = [
    ...(options.subnet6 !== undefined ? [{ subnet: options.subnet6, gateway: options.gateway6 }] : []),
    ...(options.moreSubnets6 ?? []),
  ];
  const subnets: { subnet: Ipv6Subnet; gateway: bigint | undefined }[] = [];
  for (const g of given) {
    if (!isIpv6Text(g.subnet)) {
      throw new InvalidArgumentError(
        `IPv6 subnet ${JSON.stringify(truncate(g.subnet))} is not an IPv6 CIDR (ADDR/N)`,
        { details: { subnet6: truncate(g.subnet) } },
      );
    }
    const subnet = parseSubnet6(g.subnet, 'subnet6');
    const other = subnets.find((x) => subnets6Overlap(x.subnet, subnet));
    if (other) {
      throw new InvalidArgumentError(
        `IPv6 subnet ${formatSubnet6(subnet)} overlaps IPv6 subnet ${formatSubnet6(other.subnet)} given with it`,
        { details: { subnet6: formatSubnet6(subnet) } },
      );
    }
    let gateway: bigint | undefined;
    if (g.gateway !== undefined) {
      gateway = ipv6ToBigInt(g.gateway);
      if (gateway === undefined || !subnet6HasHost(subnet, gateway)) {
        throw new InvalidArgumentError(
          `gateway ${JSON.stringify(truncate(g.gateway))} is not a host address in subnet ${formatSubnet6(subnet)}`,
          { details: { gateway6: truncate(g.gateway), subnet6: formatSubnet6(subnet) } },
        );
      }
    }
    subnets.push({ subnet, gateway });
  }
  return {
    enabled: options.ipv6 === true || subnets.length > 0,
    only: subnets.length > 0 && options.ipv6 !== true && options.subnet === undefined,
    subnets,
  };
}

function userBridge(taken: Set<string>): string {
  for (let i = 1; ; i++) if (!taken.has(`ocikit${i}`)) return `ocikit${i}`;
}

/**
 * Creates a user network: a CNI config list `<root>/networks/NAME.conflist` with bridge
 * (host-local IPAM), portmap, firewall and tuning, as podman's CNI backend writes it. The file is
 * written atomically under a lock, so concurrent creates never overlap.
 *
 * @throws InvalidArgumentError for a bad name, subnet or gateway; AlreadyExistsError when the name
 *   is taken or the subnet overlaps another network's.
 * @example
 * ```ts
 * const net = await createNetwork('/var/lib/ocikit', 'web', { subnet: '10.90.0.0/24' });
 * console.log(net.gateway); // 10.90.0.1
 * ```
 */
export async function createNetwork(
  root: string,
  name: string,
  options: CreateNetworkOptions = {},
): Promise<Network> {
  validateNetworkName(name);
  if (name === DEFAULT_NETWORK) {
    throw new AlreadyExistsError(`network ${name} is the default network`, { details: { name } });
  }
  await ensureDefaultNetwork(root, options.signal ? { signal: options.signal } : {});
  return create(root, name, options, userBridge);
}

/**
 * Makes the default network ({@link DEFAULT_NETWORK}, bridge `ocikit0`, {@link DEFAULT_SUBNET} unless
 * `defaultSubnet` says otherwise) when it does not exist yet, and returns it.
 */
export async function ensureDefaultNetwork(
  root: string,
  options: NetworkStoreOptions = {},
): Promise<Network> {
  try {
    return await readNetwork(confPath(root, DEFAULT_NETWORK));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    const o: CreateNetworkOptions = { subnet: options.defaultSubnet ?? DEFAULT_SUBNET };
    if (options.signal) o.signal = options.signal;
    return await create(root, DEFAULT_NETWORK, o, () => 'ocikit0');
  } catch (e) {
    // another process made it first
    if (e instanceof AlreadyExistsError && e.details['name'] === DEFAULT_NETWORK) {
      return readNetwork(confPath(root, DEFAULT_NETWORK));
    }
    throw e;
  }
}

/** Lists the networks under `<root>/networks`, by name; makes the default network first if needed. */
export async function listNetworks(root: string, options: NetworkStoreOptions = {}): Promise<Network[]> {
  await ensureDefaultNetwork(root, options);
  return readAll(root);
}

/**
 * Reads one network by name (the default network is made on first use).
 *
 * @throws NotFoundError when there is no such network.
 */
export async function inspectNetwork(
  root: string,
  name: string,
  options: NetworkStoreOptions = {},
): Promise<Network> {
  if (name === DEFAULT_NETWORK) return ensureDefaultNetwork(root, options);
  validateNetworkName(name);
  try {
    return await readNetwork(confPath(root, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`network ${name} not found`, { details: { name } });
    }
    throw e;
  }
}

/**
 * Removes a user network's config list and its lease directory.
 *
 * @throws NotFoundError when there is no such network; FailedPreconditionError when containers are
 *   still attached (the result cache holds an attachment) or for the default network.
 */
export async function removeNetwork(
  root: string,
  name: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const net = await inspectNetwork(root, name);
  if (name === DEFAULT_NETWORK) {
    throw new FailedPreconditionError(`the default network ${name} cannot be removed`, { details: { name } });
  }
  await withLock(
    join(networksDir(root), '.lock'),
    async () => {
      const users = await attachedContainers(root, name);
      if (users.length > 0) {
        throw new FailedPreconditionError(
          `network ${name} is in use by ${users.length} container(s): ${truncate(users.join(', '))}`,
          { details: { name, containers: users } },
        );
      }
      await rm(net.path, { force: true });
      const ipam = (bridgePlugin(net.config)?.['ipam'] as { dataDir?: string } | undefined)?.dataDir;
      if (ipam) await rm(join(ipam, name), { recursive: true, force: true });
      await removeBridge(net.bridge, [net.gateway, net.gateway6], net.internal);
      await removeNetworkRules(root, net);
    },
    options.signal,
  );
}

/**
 * Deletes a network's bridge device, as podman and dockerd do on `network rm` (the bridge plugin
 * makes it on the first ADD and never deletes it). A bridge with ports, or without this network's
 * gateway address — another state root's network of the same bridge name — is left alone.
 */
async function removeBridge(
  bridge: string,
  gateways: readonly (string | undefined)[],
  internal: boolean,
): Promise<void> {
  // netlink, not /sys/class/net: sysfs shows the namespace it was mounted in, not this process's
  let ports: string;
  try {
    ports = (await run('ip', ['-o', 'link', 'show', 'master', bridge])).stdout;
  } catch (e) {
    if (/does not exist|Cannot find device/.test(String((e as { stderr?: unknown }).stderr))) return; // never made
    throw e;
  }
  if (ports.trim() !== '') return;
  // only the bridge this network's ADD made: it carries one of the network's gateways (none when
  // internal), or none at all (made for a network with IPv6 before its first ADD, see rules.ts)
  const { stdout } = await run('ip', ['-o', 'addr', 'show', 'dev', bridge, 'scope', 'global']);
  const addresses = [...stdout.matchAll(/ inet6? ([0-9a-f.:]+)\//g)].map((m) => m[1]);
  if (addresses.length > 0 && (internal || !gateways.some((g) => g !== undefined && addresses.includes(g))))
    return;
  try {
    await run('ip', ['link', 'del', bridge]);
  } catch (e) {
    // gone meanwhile: nothing to do; anything else is worth saying
    if (!/Cannot find device/.test(String((e as { stderr?: unknown }).stderr))) throw e;
  }
}

/** The directory of the CNI result cache (libcni's `results/` layout) under the state root. */
export function cacheDir(root: string): string {
  return join(networksDir(root), 'cache');
}

/** One container's attachment to a network, as the result cache records it. */
export interface Attachment {
  /** The network's name. */
  readonly network: string;
  /** The container id. */
  readonly containerId: string;
  /** The interface name in the container. */
  readonly ifName: string;
  /** The namespace path ADD was given. */
  readonly netns: string;
  /** False while ADD runs (or when it was interrupted): DEL still works. */
  readonly complete: boolean;
}

/**
 * Every attachment in the result cache, by network then container: what an engine checks against
 * its containers after a crash, to DEL the ones whose container is gone.
 */
export async function listAttachments(root: string): Promise<Attachment[]> {
  let files: string[];
  try {
    files = await readdir(join(cacheDir(root), 'results'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Attachment[] = [];
  for (const f of files) {
    try {
      const c = JSON.parse(await readFile(join(cacheDir(root), 'results', f), 'utf8')) as {
        kind?: string;
        networkName?: string;
        containerId?: string;
        ifName?: string;
        netns?: string;
        result?: unknown;
      };
      if (c.kind === 'cniCacheV1' && c.networkName && c.containerId && c.ifName) {
        out.push({
          network: c.networkName,
          containerId: c.containerId,
          ifName: c.ifName,
          netns: c.netns ?? '',
          complete: c.result !== undefined,
        });
      }
    } catch {
      // a cache file being replaced or removed right now
    }
  }
  return out.sort((a, b) => a.network.localeCompare(b.network) || a.containerId.localeCompare(b.containerId));
}

/** Container ids with a cached attachment to `network`. */
export async function attachedContainers(root: string, network: string): Promise<string[]> {
  const ids = (await listAttachments(root)).filter((a) => a.network === network).map((a) => a.containerId);
  return [...new Set(ids)];
}

/**
 * Removes every user network no container is attached to (Docker's `network prune`); the default
 * network stays. Returns the names removed.
 */
export async function pruneNetworks(root: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const n of await readAll(root)) {
    if (n.name === DEFAULT_NETWORK) continue;
    try {
      await removeNetwork(root, n.name, options);
      removed.push(n.name);
    } catch (e) {
      if (!(e instanceof FailedPreconditionError) && !(e instanceof NotFoundError)) throw e;
    }
  }
  return removed;
}
