// Local containers on CNI networks (issue 15): the network namespace made before the runtime
// starts, CNI ADD/DEL through @ocikit/network, the hosts/resolv.conf/hostname files bind-mounted in,
// peers' hosts files kept current (decision 151), and the container's attachments recorded in
// ROOT/container-networks/<id>.json for inspect, ps and teardown after a crash.

import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { withLock } from '@ocikit/content';
import type { ContainerNetwork, ContainerSpec, Operation, PortBinding, PublishedPort } from '@ocikit/engine';
import {
  isAlreadyExists,
  isFailedPrecondition,
  isInvalidArgument,
  isNotFound,
  isOcikitError,
  truncate,
} from '@ocikit/errors';
import {
  addNetwork,
  createNetns,
  delNetwork,
  ensureNetworkRules,
  type HostEntry,
  hostnameFile,
  hostsFile,
  inspectNetwork,
  listAttachments,
  type Network,
  type PortMapping,
  parseAddHost,
  removeNetns,
  resolvConf,
  subnetHasAddress,
} from '@ocikit/network';
import type { ContainerRecord } from '@ocikit/shim';
import { localError } from './container-errors.ts';
import { containersOf } from './container-store.ts';
import type { LocalContext } from './context.ts';

type Protocol = 'tcp' | 'udp' | 'sctp';

const runFile = promisify(execFile);

/** One network a container is on, as its network record keeps it. */
export interface AttachmentState {
  /** The network's name. */
  network: string;
  /** Its interface in the container (`eth0`, `eth1`, …). */
  ifName: string;
  /** More names peers reach it by on this network. */
  aliases: string[];
  /** A fixed address asked for (`--ip`). */
  ip?: string | undefined;
  /** A fixed IPv6 address asked for (`--ip6`). */
  ip6?: string | undefined;
  /** True from the start of ADD until DEL succeeded: DEL is owed. */
  attached: boolean;
  /** Its address on the network while attached. */
  ipAddress?: string | undefined;
  /** The prefix length of that address. */
  prefixLen?: number | undefined;
  /** The network's gateway, when it has one. */
  gateway?: string | undefined;
  /** Its IPv6 address on a dual-stack network while attached. */
  ipv6Address?: string | undefined;
  /** The prefix length of that address. */
  ipv6PrefixLen?: number | undefined;
  /** The network's IPv6 gateway. */
  ipv6Gateway?: string | undefined;
  /** The MAC address of its interface. */
  mac?: string | undefined;
}

/** A port to publish as asked: `hostPort` 0 for one picked at attach time. */
interface PortRequest {
  containerPort: number;
  protocol: Protocol;
  hostPort: number;
  hostIp: string;
}

/** A container's network record (`ROOT/container-networks/<id>.json`), for bridge and user networks. */
export interface NetworkState {
  /** The container id. */
  id: string;
  /** The container name (the name peers reach it by). */
  name: string;
  /** `bridge` or a user network's name, as created. */
  mode: string;
  /** Its host name. */
  hostname: string;
  /** Its network namespace while it exists. */
  netns?: string | undefined;
  /** The directory holding its `hosts`, `resolv.conf` and `hostname` files. */
  dir: string;
  /** Its networks. */
  networks: AttachmentState[];
  /** The ports asked for (with `publishAll`'s). */
  publish: PortRequest[];
  /** The ports published now, with the host ports picked. */
  ports: PublishedPort[];
  /** `--dns`, `--dns-search`, `--dns-option`. */
  dns: { servers: string[]; search: string[]; options: string[] };
  /** `--add-host` entries. */
  extraHosts: HostEntry[];
}

/** What `buildRuntimeSpec` needs to put a container on its networks. */
export interface RuntimeNetwork {
  /** The network namespace path for `linux.namespaces`; absent for `host` (the host's namespace). */
  netns?: string | undefined;
  /** Files bind-mounted over `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`. */
  files: { destination: string; source: string }[];
}

/** A checked network request of a ContainerSpec, before anything is made. */
export interface NetworkPlan {
  network: Network;
  aliases: string[];
  ip: string | undefined;
  ip6: string | undefined;
  publish: PortRequest[];
  publishAll: boolean;
  exposed: PortRequest[];
  dns: NetworkState['dns'];
  extraHosts: HostEntry[];
}

const statesDir = (ctx: LocalContext) => join(ctx.root, 'container-networks');
const statePath = (ctx: LocalContext, id: string) => join(statesDir(ctx), `${id}.json`);
const netnsDir = (ctx: LocalContext) => join(ctx.root, 'netns');

/** The CNI plugin directories: `CNI_PATH` of the engine's environment, else the network package's default. */
export function cniPathOf(ctx: LocalContext): { cniPath?: string } {
  const p = ctx.env['CNI_PATH'];
  return p ? { cniPath: p } : {};
}

/** A container's network record, or undefined for one on `none` or `host` (or gone). */
export function readNetworkState(ctx: LocalContext, id: string): NetworkState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(ctx, id), 'utf8')) as NetworkState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** Writes a network record atomically (a small file: synchronous, decision 103). */
export function saveNetworkState(ctx: LocalContext, state: NetworkState): void {
  const path = statePath(ctx, state.id);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`);
  renameSync(tmp, path);
}

/** Every network record under the root. */
export function listNetworkStates(ctx: LocalContext): NetworkState[] {
  let names: string[];
  try {
    names = readdirSync(statesDir(ctx));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: NetworkState[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    const s = readNetworkState(ctx, n.slice(0, -'.json'.length));
    if (s) out.push(s);
  }
  return out;
}

/**
 * The network package's errors as the contract's standard ones: an unknown network is
 * `network-not-found`, a host port another container publishes `port-in-use`, a taken name or an
 * overlapping subnet `network-exists`, a network with containers `network-in-use`, bad input
 * `bad-argument`. A plugin's failure stays the network package's FailedPreconditionError, with the
 * plugin, its CNI error code and message in `details`.
 */
export function networkError(e: unknown, operation: Operation): unknown {
  if (!isOcikitError(e) || typeof e.details['engine'] === 'string') return e;
  const { details: d, message, hint } = e;
  const facts = { details: d, cause: e, hint };
  if (isNotFound(e) && typeof d['name'] === 'string')
    return localError('network-not-found', operation, message, facts);
  if (isInvalidArgument(e)) return localError('bad-argument', operation, message, facts);
  if (isAlreadyExists(e)) {
    if (typeof d['port'] === 'string') return localError('port-in-use', operation, message, facts);
    if (typeof d['ifName'] === 'string') return localError('bad-argument', operation, message, facts);
    return localError('network-exists', operation, message, facts);
  }
  if (isFailedPrecondition(e) && Array.isArray(d['containers']))
    return localError('network-in-use', operation, message, facts);
  return e;
}

async function net<T>(operation: Operation, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw networkError(e, operation);
  }
}

const bad = (operation: Operation, message: string) => localError('bad-argument', operation, message);

function checkPort(n: unknown, what: string, operation: Operation, zeroOk = false): number {
  if (!(Number.isInteger(n) && (n as number) >= (zeroOk ? 0 : 1) && (n as number) <= 65535))
    throw bad(operation, `${what} ${JSON.stringify(n)} is not a port number (1–65535)`);
  return n as number;
}

function checkProtocol(p: unknown, operation: Operation): Protocol {
  const proto = p ?? 'tcp';
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp')
    throw bad(
      operation,
      `port protocol ${JSON.stringify(truncate(String(proto), 20))} is not tcp, udp or sctp`,
    );
  return proto;
}

/** `80`, `80/tcp`, `53/udp` (an image's ExposedPorts key, `--expose`). */
function exposedPort(text: string, operation: Operation): PortRequest {
  const m = /^(\d+)(?:\/(\w+))?$/.exec(text);
  if (!m) throw bad(operation, `exposed port ${JSON.stringify(truncate(text, 40))} is not PORT[/PROTOCOL]`);
  return {
    containerPort: checkPort(Number(m[1]), 'exposed port', operation),
    protocol: checkProtocol(m[2], operation),
    hostPort: 0,
    hostIp: '',
  };
}

/**
 * Checks a ContainerSpec's network fields and finds its network (the default `bridge` is made on
 * first use), before anything is made: undefined for `none` (the local engine's default, decision
 * 160) and `host`, where publishing ports, `ipAddress` and aliases are refused.
 */
export async function planNetwork(ctx: LocalContext, spec: ContainerSpec): Promise<NetworkPlan | undefined> {
  const operation: Operation = 'containers.create';
  const mode = spec.network ?? 'none';
  if (mode === 'none' || mode === 'host') {
    if (
      (spec.publish ?? []).length > 0 ||
      spec.ipAddress !== undefined ||
      spec.ip6Address !== undefined ||
      (spec.networkAliases ?? []).length > 0
    )
      throw bad(
        operation,
        `network ${mode} has no ports to publish, addresses or aliases: use bridge or a network made with networks.create`,
      );
    // its hosts file's names and --add-host entries, checked before anything is made
    await net(operation, async () => {
      const extraHosts = (spec.extraHosts ?? []).map(parseAddHost);
      if (mode === 'none') hostsFile({ hostname: spec.hostname ?? 'h', extraHosts });
    });
    return undefined;
  }
  const network = await net(operation, () => inspectNetwork(ctx.root, mode));
  checkAddresses(network, spec.ipAddress, spec.ip6Address, operation);
  const publish = (spec.publish ?? []).map(
    (p: PortBinding): PortRequest => ({
      containerPort: checkPort(p.containerPort, 'container port', operation),
      protocol: checkProtocol(p.protocol, operation),
      hostPort: checkPort(p.hostPort ?? 0, 'host port', operation, true),
      hostIp: p.hostIp ?? '',
    }),
  );
  checkHostIps(network, publish, operation);
  const exposed = (spec.exposedPorts ?? []).map((p) => exposedPort(p, operation));
  const dns = { servers: spec.dns ?? [], search: spec.dnsSearch ?? [], options: spec.dnsOptions ?? [] };
  const extraHosts = await net(operation, async () => {
    // rendered once to check the names and addresses
    resolvConf({ nameservers: dns.servers, search: dns.search, options: dns.options });
    const hosts = (spec.extraHosts ?? []).map(parseAddHost);
    hostsFile({ hostname: spec.hostname ?? 'h', aliases: spec.networkAliases ?? [] });
    return hosts;
  });
  return {
    network,
    aliases: [...new Set(spec.networkAliases ?? [])],
    ip: spec.ipAddress,
    ip6: spec.ip6Address,
    publish,
    publishAll: spec.publishAll === true,
    exposed,
    dns,
    extraHosts,
  };
}

/**
 * Binds the port on the host for a moment: resolves to the port bound (the kernel's pick for 0),
 * rejects with the bind's error (EADDRINUSE: a process of this host has it; containers' published
 * ports are DNAT rules, which the network package's cache check finds).
 */
function probe(port: number, protocol: Protocol, hostIp: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (e: NodeJS.ErrnoException | undefined, got: number) => (e ? reject(e) : resolve(got));
    if (protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', (e) => {
        s.close();
        done(e, 0);
      });
      s.bind(port, hostIp || '0.0.0.0', () => {
        const got = s.address().port;
        s.close(() => done(undefined, got));
      });
      return;
    }
    const s = createServer();
    s.once('error', (e) => done(e, 0));
    s.listen({ port, host: hostIp || '0.0.0.0', exclusive: true }, () => {
      const a = s.address();
      const got = typeof a === 'object' && a ? a.port : 0;
      s.close(() => done(undefined, got));
    });
  });
}

/** The host ports: asked ones checked free on the host, 0 and `publishAll`'s picked by the kernel. */
async function hostPorts(requests: PortRequest[]): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  for (const r of requests) {
    let hostPort: number;
    try {
      hostPort = await probe(r.hostPort, r.protocol, r.hostIp);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const where = `${r.hostIp || '0.0.0.0'}:${r.hostPort}/${r.protocol}`;
      if (code === 'EADDRINUSE')
        throw localError('port-in-use', 'containers.create', `host port ${where} is in use on this host`, {
          details: { port: where },
        });
      if (code === 'EADDRNOTAVAIL' || code === 'EINVAL')
        throw bad(
          'containers.create',
          `host address ${r.hostIp} of port ${where} is not an address of this host`,
        );
      throw e;
    }
    out.push({
      hostPort,
      containerPort: r.containerPort,
      protocol: r.protocol,
      ...(r.hostIp ? { hostIP: r.hostIp } : {}),
    });
  }
  return out;
}

function published(ports: readonly PortMapping[]): PublishedPort[] {
  return ports.map((p) => ({
    containerPort: p.containerPort,
    protocol: p.protocol ?? 'tcp',
    hostPort: p.hostPort,
    hostIp: p.hostIP || '0.0.0.0',
  }));
}

/** Writes a file that is bind-mounted into a running container: in place, so its inode stays. */
function writeInPlace(path: string, text: string): void {
  let old: string | undefined;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    writeFileSync(path, text);
    return;
  }
  if (old === text) return;
  const fd = openSync(path, 'r+');
  try {
    const buf = Buffer.from(text);
    writeSync(fd, buf, 0, buf.length, 0);
    ftruncateSync(fd, buf.length);
  } finally {
    closeSync(fd);
  }
}

const hostsPath = (s: NetworkState) => join(s.dir, 'hosts');

/** A container's /etc/hosts: its own names and addresses, then every attached peer on its networks. */
function renderHosts(s: NetworkState, all: readonly NetworkState[]): string {
  // an attachment's addresses: IPv4, IPv6 or both (an IPv6-only network has no IPv4 one)
  const addressesOf = (a: AttachmentState) =>
    [a.ipAddress, a.ipv6Address].filter((x): x is string => x !== undefined && x !== '');
  const mine = new Set(s.networks.filter((a) => addressesOf(a).length > 0).map((a) => a.network));
  const peers: HostEntry[] = [];
  for (const t of all) {
    if (t.id === s.id || !t.netns) continue;
    for (const a of t.networks) {
      if (!mine.has(a.network)) continue;
      const names = [...new Set([t.name, ...a.aliases, t.id.slice(0, 12)])];
      // by IPv6 too on a dual-stack network, as nerdctl lists them
      for (const ip of addressesOf(a)) peers.push({ names, ip });
    }
  }
  return hostsFile({
    hostname: s.hostname,
    aliases: [s.name, ...s.networks.flatMap((a) => (addressesOf(a).length > 0 ? a.aliases : []))],
    addresses: s.networks.flatMap(addressesOf),
    extraHosts: s.extraHosts,
    peers,
  });
}

/** Calls on one lock file from this process, in order: they queue here instead of polling the file. */
const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` holding the cross-process lock `path`, after this process's earlier calls on it. */
function serialized<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(path) ?? Promise.resolve()).then(() => withLock(path, fn));
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(path, tail);
  void tail.then(() => {
    if (queues.get(path) === tail) queues.delete(path);
  });
  return run;
}

/** A hosts refresh of this process that has not started yet, per state root: later ones join it. */
const pendingRefresh = new Map<string, { networks: Set<string> | undefined; done: Promise<void> }>();

/**
 * Rewrites the hosts file of every container with a namespace on one of `networks` (all of them
 * when absent), under one lock so that the last writer saw every change before it (decision 151).
 * Calls made while one waits for the lock join it (it reads every record when it starts), so a
 * burst of N containers costs a few rewrites of each file, not N.
 */
export function refreshHosts(ctx: LocalContext, networks?: ReadonlySet<string>): Promise<void> {
  const dir = statesDir(ctx);
  const waiting = pendingRefresh.get(dir);
  if (waiting) {
    if (!networks) waiting.networks = undefined;
    else for (const n of networks) waiting.networks?.add(n);
    return waiting.done;
  }
  mkdirSync(dir, { recursive: true });
  const entry: { networks: Set<string> | undefined; done: Promise<void> } = {
    networks: networks ? new Set(networks) : undefined,
    done: Promise.resolve(),
  };
  entry.done = serialized(join(dir, '.hosts.lock'), async () => {
    if (pendingRefresh.get(dir) === entry) pendingRefresh.delete(dir);
    const want = entry.networks;
    const all = listNetworkStates(ctx);
    for (const s of all) {
      if (!s.netns || (want && !s.networks.some((a) => want.has(a.network)))) continue;
      try {
        writeInPlace(hostsPath(s), renderHosts(s, all));
      } catch (e) {
        // its directory went with the container (removed meanwhile)
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  });
  pendingRefresh.set(dir, entry);
  // a lock that could not be taken must not leave later refreshes joined to its failure
  const settled = () => {
    if (pendingRefresh.get(dir) === entry) pendingRefresh.delete(dir);
  };
  entry.done.then(settled, settled);
  return entry.done;
}

/**
 * The network as ADD gets it. Its own firewall rules are made first (once per boot, decision 193):
 * they masquerade and accept its subnet as a whole, so ADD runs without the per-container chains of
 * the bridge plugin's ipMasq and of the firewall plugin. And without its plugins that would do
 * nothing — portmap when nothing is published (its ADD passes the result on, its DEL still scans
 * iptables), tuning when it sets nothing (no sysctl, MAC, MTU, …). Each is a plugin run or a dozen
 * iptables processes less on ADD and on DEL. The result cache keeps the list ADD ran, so DEL runs
 * the same plugins.
 */
async function forAdd(
  ctx: LocalContext,
  network: Network,
  ports: number,
  signal: AbortSignal | undefined,
): Promise<Network> {
  const ruled = await ensureNetworkRules(ctx.root, network, signal ? { signal } : {});
  const idle = (p: { type: string; [k: string]: unknown }) =>
    (p.type === 'portmap' && ports === 0) ||
    (p.type === 'tuning' && Object.keys(p).every((k) => k === 'type' || k === 'capabilities'));
  const plugins = ruled.config.plugins.filter((p) => !idle(p));
  return plugins.length === ruled.config.plugins.length
    ? ruled
    : { ...ruled, config: { ...ruled.config, plugins } };
}

function fillAttachment(a: AttachmentState, result: Awaited<ReturnType<typeof addNetwork>>): void {
  const inside = result.ips.filter(
    (i) => i.interface === undefined || result.interfaces[i.interface]?.sandbox !== undefined,
  );
  // an IPv6-only network's container has no IPv4 address: ipAddress '' (podman's IPAddress)
  const ip = inside.find((i) => !i.address.includes(':'));
  const [address, prefix] = (ip?.address ?? '').split('/');
  a.ipAddress = address ?? '';
  if (prefix) a.prefixLen = Number(prefix);
  if (ip?.gateway) a.gateway = ip.gateway;
  const ip6 = inside.find((i) => i.address.includes(':'));
  if (ip6) {
    const [address6, prefix6] = ip6.address.split('/');
    a.ipv6Address = address6;
    if (prefix6) a.ipv6PrefixLen = Number(prefix6);
    if (ip6.gateway) a.ipv6Gateway = ip6.gateway;
  }
  const mac = result.interfaces.find((i) => i.sandbox !== undefined && i.name === a.ifName)?.mac;
  if (mac) a.mac = mac;
}

/**
 * A container being put on its network ({@link attachNetwork}): `ready` once what the runtime
 * needs before it starts is there (the namespace, the files it bind-mounts, the host ports),
 * `added` once CNI ADD and the files' contents are done. The runtime may create the container
 * between the two: its createRuntime hook ({@link networkReadyHook}) holds the container's process
 * until `added` settled, and fails the create when ADD failed. `release` once the runtime's create
 * (or foreground run) returned.
 */
export interface Attaching {
  /** What the runtime needs before it starts is there. */
  ready: Promise<void>;
  /** ADD, the container's files and its peers' hosts files are done (rejects with ADD's error). */
  added: Promise<void>;
  /** Closes this process's end of the hook's gate (after the runtime's create returned). */
  release(): void;
}

const gatePath = (record: Pick<ContainerRecord, 'bundle'>) => join(dirname(record.bundle), 'network-ready');

/**
 * The createRuntime hook that holds a container's process until its CNI ADD is done: it reads one
 * line from the gate FIFO that {@link attachNetwork} writes `ok` (or `fail`) to; no gate, no wait
 * (the runtime spec of a container made without one). runc and crun run createRuntime hooks once
 * the container's namespaces and mounts are made, before its process starts, so ADD runs while the
 * runtime creates the container and the process still finds its interface from its first instruction.
 */
export function networkReadyHook(record: Pick<ContainerRecord, 'bundle'>): {
  path: string;
  args: string[];
  timeout: number;
} {
  return {
    path: '/bin/sh',
    args: ['sh', '-c', '[ -p "$0" ] || exit 0; read -r s < "$0" && [ "$s" = ok ]', gatePath(record)],
    timeout: 300,
  };
}

/**
 * Puts a prepared container on its network: its record first (so teardown knows what to undo),
 * the namespace and the gate FIFO, the host ports and the (empty) files the runtime bind-mounts
 * (`ready`); then CNI ADD (a failed ADD is undone by the network package), its hosts, resolv.conf
 * and hostname written in place, its peers' hosts files rewritten, and the gate opened (`added`).
 * What it made stays for the caller's removal of the container to undo when it rejects.
 */
export function attachNetwork(
  ctx: LocalContext,
  record: ContainerRecord,
  plan: NetworkPlan,
  options: { hostname: string; imageExposed: readonly string[]; signal?: AbortSignal | undefined },
): Attaching {
  const operation: Operation = 'containers.create';
  const dir = dirname(record.bundle);
  const netns = join(netnsDir(ctx), record.id);
  const gate = gatePath(record);
  let gateFd: number | undefined;
  const publish = [...plan.publish];
  const attachment: AttachmentState = {
    network: plan.network.name,
    ifName: 'eth0',
    aliases: plan.aliases,
    ...(plan.ip !== undefined ? { ip: plan.ip } : {}),
    ...(plan.ip6 !== undefined ? { ip6: plan.ip6 } : {}),
    attached: false,
  };
  const state: NetworkState = {
    id: record.id,
    name: record.name,
    mode: plan.network.name,
    hostname: options.hostname,
    netns,
    dir,
    networks: [attachment],
    publish,
    ports: [],
    dns: plan.dns,
    extraHosts: plan.extraHosts,
  };
  let ports: PortMapping[] = [];
  const ready = (async () => {
    if (plan.publishAll) {
      const seen = new Set(publish.map((p) => `${p.containerPort}/${p.protocol}`));
      for (const p of [...options.imageExposed.map((x) => exposedPort(x, operation)), ...plan.exposed]) {
        if (seen.has(`${p.containerPort}/${p.protocol}`)) continue;
        seen.add(`${p.containerPort}/${p.protocol}`);
        publish.push(p);
      }
    }
    saveNetworkState(ctx, state);
    // the namespace and the gate at once: two execs (Node makes neither)
    await Promise.all([
      createNetns(netnsDir(ctx), record.id, options.signal ? { signal: options.signal } : {}),
      mkfifo(gate),
    ]);
    // read-write: opening does not wait for the hook, and the pipe keeps what is written until it reads
    gateFd = openSync(gate, 'r+');
    // bind-mounted by the runtime before ADD is done: filled in place (same inode) after it
    writeFileSync(join(dir, 'resolv.conf'), '');
    writeFileSync(join(dir, 'hostname'), hostnameFile(options.hostname));
    writeFileSync(hostsPath(state), '');
    ports = await hostPorts(publish);
    attachment.attached = true;
    saveNetworkState(ctx, state);
  })();
  const added = ready.then(async () => {
    const result = await net(operation, async () =>
      addNetwork(ctx.root, await forAdd(ctx, plan.network, ports.length, options.signal), {
        containerId: record.id,
        netns,
        portMappings: ports,
        ...(plan.ip !== undefined ? { ip: plan.ip } : {}),
        ...(plan.ip6 !== undefined ? { ip6: plan.ip6 } : {}),
        ...cniPathOf(ctx),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    ).catch((e: unknown) => {
      // addNetwork undid its ADD
      attachment.attached = false;
      saveNetworkState(ctx, state);
      throw e;
    });
    fillAttachment(attachment, result);
    state.ports = published(ports);
    let hostResolv = '';
    try {
      hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      // no resolv.conf on this host: the fallback servers
    }
    writeInPlace(
      join(dir, 'resolv.conf'),
      resolvConf({
        nameservers: plan.dns.servers,
        search: plan.dns.search,
        options: plan.dns.options,
        hostResolvConf: hostResolv,
        result,
      }),
    );
    saveNetworkState(ctx, state);
    await refreshHosts(ctx, new Set([plan.network.name]));
  });
  const open = (word: string) => {
    if (gateFd !== undefined) writeSync(gateFd, `${word}\n`);
  };
  added.then(
    () => open('ok'),
    () => open('fail'),
  );
  return {
    ready,
    added,
    release() {
      if (gateFd === undefined) return;
      closeSync(gateFd);
      gateFd = undefined;
    },
  };
}

/** Makes a FIFO (`mkfifo`: Node has no call for it). */
async function mkfifo(path: string): Promise<void> {
  rmSync(path, { force: true });
  await runFile('mkfifo', ['-m', '600', path]);
}

/**
 * Where a container's namespace and network files are (known before {@link attachNetwork} made
 * them, so the runtime spec can be written meanwhile).
 */
export function runtimeNetworkOf(
  ctx: LocalContext,
  record: Pick<ContainerRecord, 'id' | 'bundle'>,
): RuntimeNetwork {
  const dir = dirname(record.bundle);
  return {
    // where attachNetwork makes it
    netns: join(netnsDir(ctx), record.id),
    files: [
      { destination: '/etc/hosts', source: join(dir, 'hosts') },
      { destination: '/etc/resolv.conf', source: join(dir, 'resolv.conf') },
      { destination: '/etc/hostname', source: join(dir, 'hostname') },
    ],
  };
}

/**
 * A `host` container's `/etc/hosts` and `/etc/resolv.conf`: copies of the host's (its servers,
 * loopback ones too, answer in the host's namespace), as Docker and podman give, its `--add-host`
 * entries first in the hosts file; in its record directory, so that the container's edits stay its own.
 */
export function hostModeFiles(
  record: Pick<ContainerRecord, 'bundle'>,
  spec: Pick<ContainerSpec, 'extraHosts'>,
): RuntimeNetwork {
  const dir = dirname(record.bundle);
  const files: RuntimeNetwork['files'] = [];
  for (const name of ['hosts', 'resolv.conf']) {
    let text: string;
    try {
      text = readFileSync(join('/etc', name), 'utf8');
    } catch {
      // the host has none: the image's stays
      continue;
    }
    if (name === 'hosts')
      text = (spec.extraHosts ?? []).map((h) => hostEntryLine(parseAddHost(h))).join('') + text;
    writeFileSync(join(dir, name), text);
    files.push({ destination: `/etc/${name}`, source: join(dir, name) });
  }
  return { files };
}

/** One `/etc/hosts` line. */
function hostEntryLine(e: HostEntry): string {
  return `${e.ip}\t${e.names.join(' ')}\n`;
}

/**
 * A `none` container's `/etc/hosts` and `/etc/hostname`, as podman gives: localhost, its
 * `--add-host` entries and its own host name and container name on a loopback address (no image
 * need carry them for `localhost` or its own name to resolve); its resolv.conf stays the image's.
 */
export function noneModeFiles(
  record: Pick<ContainerRecord, 'bundle' | 'id' | 'name'>,
  spec: Pick<ContainerSpec, 'extraHosts' | 'hostname'>,
): RuntimeNetwork {
  const dir = dirname(record.bundle);
  const hostname = spec.hostname ?? record.id.slice(0, 12);
  writeFileSync(
    join(dir, 'hosts'),
    hostsFile({ hostname, aliases: [record.name], extraHosts: (spec.extraHosts ?? []).map(parseAddHost) }),
  );
  writeFileSync(join(dir, 'hostname'), hostnameFile(hostname));
  return {
    files: [
      { destination: '/etc/hosts', source: join(dir, 'hosts') },
      { destination: '/etc/hostname', source: join(dir, 'hostname') },
    ],
  };
}

/** Runs CNI DEL for one attachment; false when it failed (the cache keeps it for a later sweep). */
async function del(
  ctx: LocalContext,
  id: string,
  a: Pick<AttachmentState, 'network' | 'ifName'>,
  netns: string | undefined,
): Promise<boolean> {
  try {
    await delNetwork(ctx.root, a.network, {
      containerId: id,
      ifName: a.ifName,
      ...(netns ? { netns } : {}),
      ...cniPathOf(ctx),
    });
    return true;
  } catch {
    return false;
  }
}

function clearAttachment(a: AttachmentState): void {
  a.attached = false;
  delete a.ipAddress;
  delete a.prefixLen;
  delete a.gateway;
  delete a.ipv6Address;
  delete a.ipv6PrefixLen;
  delete a.ipv6Gateway;
  delete a.mac;
}

/**
 * Takes a container off its networks: CNI DEL of every attachment still owed one, its namespace
 * removed, its published ports dropped, its peers' hosts files rewritten; with `forget` (the
 * container is being removed) its network record goes too. Safe to repeat and to run from two
 * processes at once (the exit command and `stop`/`rm`): a per-container lock. Nothing to do for a
 * container on `none` or `host`.
 */
export async function detachNetworks(
  ctx: LocalContext,
  id: string,
  options: { forget?: boolean; behind?: boolean } = {},
): Promise<void> {
  if (!readNetworkState(ctx, id)) return;
  if (options.behind && !(await waitForHolder(ctx, id))) return;
  const touched = new Set<string>();
  await withContainerLock(ctx, id, async () => {
    const state = readNetworkState(ctx, id);
    if (!state) return;
    for (const a of state.networks) {
      if (!a.attached) continue;
      touched.add(a.network);
      if (await del(ctx, id, a, state.netns)) clearAttachment(a);
    }
    if (state.netns) {
      await removeNetns(state.netns).catch(() => {});
      delete state.netns;
    }
    state.ports = [];
    if (options.forget) rmSync(statePath(ctx, id), { force: true });
    else saveNetworkState(ctx, state);
  });
  if (touched.size > 0) await refreshHosts(ctx, touched);
}

/**
 * Waits while another process holds container `id`'s network lock (an `rm` or `stop` taking it off
 * its networks), without a waiter's file of its own beside the lock — the exit command of a
 * container that `rm -f` kills arrives while `rm` detaches it, and must leave nothing once `rm`
 * returned. False when its network record went meanwhile (nothing left to do). Gives up waiting
 * after 30 s (the lock then breaks a dead holder's lock as usual).
 */
async function waitForHolder(ctx: LocalContext, id: string): Promise<boolean> {
  const lock = join(statesDir(ctx), `${id}.lock`);
  for (let i = 0; i < 3000 && existsSync(lock); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (!readNetworkState(ctx, id)) return false;
  }
  return true;
}

/** Runs `fn` holding container `id`'s network lock (teardown, connect and disconnect take it). */
async function withContainerLock<T>(ctx: LocalContext, id: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(statesDir(ctx), { recursive: true });
  return serialized(join(statesDir(ctx), `${id}.lock`), fn);
}

const notOnNetworks = (name: string, operation: Operation) =>
  localError(
    'bad-argument',
    operation,
    `container ${name} is on network none or host; only a container on bridge or a user network joins and leaves networks`,
    { details: { name } },
  );

/**
 * Checks fixed addresses against the network, before anything is made: an IPv4 one (`--ip`) needs
 * an IPv4 subnet (an IPv6-only network has none, decision 217; podman refuses it too); an IPv6 one
 * (`--ip6`) a dual-stack or IPv6-only network and a host of one of its IPv6 subnets.
 */
function checkAddresses(
  network: Network,
  ip: string | undefined,
  ip6: string | undefined,
  operation: Operation,
): void {
  if (ip !== undefined && network.subnet === undefined)
    throw bad(
      operation,
      `network ${network.name} is IPv6-only: IPv4 address ${JSON.stringify(truncate(ip))} cannot be given on it (use an IPv6 address)`,
    );
  if (ip6 === undefined) return;
  if (network.subnet6 === undefined)
    throw bad(
      operation,
      `network ${network.name} has no IPv6 subnet: an IPv6 address needs a network made with ipv6`,
    );
  // any of its IPv6 subnets (decision 218): host-local takes it from the range set that holds it
  const subnets6 = network.subnets6.map((x) => x.subnet);
  if (!subnets6.some((subnet) => subnetHasAddress(subnet, ip6)))
    throw bad(
      operation,
      `IPv6 address ${JSON.stringify(truncate(ip6))} is not a host address in subnet ${subnets6.join(' or ')} of network ${network.name}`,
    );
}

/**
 * Attaches a container on bridge or a user network to one more network: for one with a namespace
 * (created or running), ADD as the next free `ethN` and every hosts file on its networks
 * rewritten; for one without (exited), the network is recorded only.
 */
export async function connectNetwork(
  ctx: LocalContext,
  record: Pick<ContainerRecord, 'id' | 'name'>,
  network: Network,
  spec: { ipAddress?: string | undefined; ip6Address?: string | undefined; aliases?: string[] | undefined },
): Promise<void> {
  const operation: Operation = 'networks.connect';
  checkAddresses(network, spec.ipAddress, spec.ip6Address, operation);
  const aliases = [...new Set(spec.aliases ?? [])];
  if (aliases.length > 0) await net(operation, async () => hostsFile({ hostname: 'h', aliases }));
  const changed = await withContainerLock(ctx, record.id, async () => {
    const state = readNetworkState(ctx, record.id);
    if (!state) throw notOnNetworks(record.name, operation);
    if (state.networks.some((x) => x.network === network.name))
      throw localError(
        'bad-argument',
        operation,
        `container ${record.name} is on network ${network.name} already`,
        {
          details: { name: record.name, network: network.name },
        },
      );
    const taken = new Set(state.networks.map((x) => x.ifName));
    let n = 0;
    while (taken.has(`eth${n}`)) n++;
    const a: AttachmentState = {
      network: network.name,
      ifName: `eth${n}`,
      aliases,
      ...(spec.ipAddress !== undefined ? { ip: spec.ipAddress } : {}),
      ...(spec.ip6Address !== undefined ? { ip6: spec.ip6Address } : {}),
      attached: state.netns !== undefined,
    };
    state.networks.push(a);
    saveNetworkState(ctx, state);
    if (!state.netns) return undefined;
    try {
      fillAttachment(
        a,
        await net(operation, async () =>
          addNetwork(ctx.root, await forAdd(ctx, network, 0, undefined), {
            containerId: state.id,
            netns: state.netns as string,
            ifName: a.ifName,
            ...(a.ip !== undefined ? { ip: a.ip } : {}),
            ...(a.ip6 !== undefined ? { ip6: a.ip6 } : {}),
            ...cniPathOf(ctx),
          }),
        ),
      );
    } catch (e) {
      state.networks = state.networks.filter((x) => x !== a);
      saveNetworkState(ctx, state);
      throw e;
    }
    saveNetworkState(ctx, state);
    return new Set(state.networks.map((x) => x.network));
  });
  if (changed) await refreshHosts(ctx, changed);
}

/**
 * Takes a container off one network: DEL when attached, the network dropped from its record, the
 * hosts files on its networks rewritten.
 */
export async function disconnectNetwork(
  ctx: LocalContext,
  record: Pick<ContainerRecord, 'id' | 'name'>,
  network: string,
): Promise<void> {
  const operation: Operation = 'networks.disconnect';
  const before = await withContainerLock(ctx, record.id, async () => {
    const state = readNetworkState(ctx, record.id);
    if (!state) throw notOnNetworks(record.name, operation);
    const a = state.networks.find((x) => x.network === network);
    if (!a)
      throw localError('bad-argument', operation, `container ${record.name} is not on network ${network}`, {
        details: { name: record.name, network },
      });
    if (a.attached && !(await del(ctx, state.id, a, state.netns)))
      throw localError(
        'engine-error',
        operation,
        `CNI DEL of container ${state.name} on network ${network} failed; the next prune retries it`,
        { details: { name: state.name, network } },
      );
    const all = new Set(state.networks.map((x) => x.network));
    state.networks = state.networks.filter((x) => x !== a);
    saveNetworkState(ctx, state);
    return all;
  });
  await refreshHosts(ctx, before);
}

/** A container's networks as `containers.inspect` shows them. */
export function inspectNetworks(state: NetworkState): ContainerNetwork[] {
  return state.networks.map((a) => ({
    name: a.network,
    ipAddress: a.ipAddress ?? '',
    ...(a.prefixLen !== undefined ? { ipPrefixLen: a.prefixLen } : {}),
    ...(a.gateway !== undefined ? { gateway: a.gateway } : {}),
    ...(a.ipv6Address !== undefined ? { globalIpv6Address: a.ipv6Address } : {}),
    ...(a.ipv6PrefixLen !== undefined ? { globalIpv6PrefixLen: a.ipv6PrefixLen } : {}),
    ...(a.ipv6Gateway !== undefined ? { ipv6Gateway: a.ipv6Gateway } : {}),
    ...(a.mac !== undefined ? { macAddress: a.mac } : {}),
    aliases: [...new Set([state.name, state.id.slice(0, 12), ...a.aliases])],
  }));
}

/**
 * An IPv6-only network's containers have no IPv4 address for an IPv4 host address to lead to:
 * refused (podman's portmap publishes nothing for it, silently), naming the port.
 */
function checkHostIps(network: Network, publish: readonly PortRequest[], operation: Operation): void {
  if (network.subnet !== undefined) return;
  const v4 = publish.find((p) => p.hostIp !== '' && isIP(p.hostIp) === 4);
  if (v4)
    throw bad(
      operation,
      `network ${network.name} is IPv6-only: container port ${v4.containerPort}/${v4.protocol} cannot be published on IPv4 host address ${v4.hostIp} (publish it on an IPv6 host address, or on all)`,
    );
}

/** Whether a container holds its networks: running, paused, created, or being made right now. */
function holdsNetworks(r: ContainerRecord | undefined): boolean {
  if (!r) return false;
  if (r.status === 'configured') return Date.now() - Date.parse(r.createdAt) < 10 * 60_000;
  return r.status === 'running' || r.status === 'paused' || r.status === 'created';
}

/**
 * Cleans up after a killed ocikit or monitor (`containers.list`, prunes): CNI DEL and namespace
 * removal for every attachment (network record or result cache entry, `listAttachments`) whose
 * container is gone or exited. `records` is the caller's fresh list (listed here when absent); a
 * container not in it is looked up again (`lookup`, by default in the root's container store)
 * before anything is undone, as it may have been made since. Resolves to the network records as the
 * sweep leaves them, by container id, so that a caller (`containers.list`) reads none again.
 */
export async function sweepNetworks(
  ctx: LocalContext,
  records?: readonly ContainerRecord[],
  lookup: (id: string) => Promise<ContainerRecord | undefined> = (id) =>
    containersOf(ctx)
      .get(id)
      .catch(() => undefined),
): Promise<Map<string, NetworkState>> {
  const known = new Map((records ?? (await containersOf(ctx).list())).map((r) => [r.id, r]));
  const recordOf = async (id: string) => (known.has(id) ? known.get(id) : await lookup(id));
  const states = listNetworkStates(ctx);
  const left = new Map(states.map((s) => [s.id, s]));
  for (const s of states) {
    if (!s.netns && !s.networks.some((a) => a.attached) && known.has(s.id)) continue;
    const r = await recordOf(s.id);
    if (holdsNetworks(r)) continue;
    await detachNetworks(ctx, s.id, { forget: r === undefined }).catch(() => {});
    const after = readNetworkState(ctx, s.id);
    if (after) left.set(s.id, after);
    else left.delete(s.id);
  }
  let attachments: Awaited<ReturnType<typeof listAttachments>>;
  try {
    attachments = await listAttachments(ctx.root);
  } catch {
    return left;
  }
  for (const a of attachments) {
    if (left.has(a.containerId)) continue;
    if (holdsNetworks(await recordOf(a.containerId))) continue;
    await del(ctx, a.containerId, a, a.netns);
    if (a.netns.startsWith(`${netnsDir(ctx)}/`)) await removeNetns(a.netns).catch(() => {});
  }
  return left;
}
