// Network-wide firewall rules (decision 193): one masquerade chain and one forward chain per network,
// made once, as dockerd does for its bridges, instead of the per-container chains that the bridge
// plugin's ipMasq and the firewall plugin make and remove on every ADD and DEL (~16 iptables
// processes per container each way).
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError, truncate } from '@ocikit/errors';
import { withLock, writeAtomic } from './fsutil.ts';

/**
 * What a network's rules are made from: a `Network` has it all (structural, so that config.ts, which
 * removes a network's rules with it, and this file do not import each other).
 */
export interface RulesNetwork {
  /** The network's name. */
  readonly name: string;
  /** Its IPv4 subnet; none on an IPv6-only network (no iptables rules then). */
  readonly subnet?: string | undefined;
  /** Its IPv6 subnet, on a dual-stack or IPv6-only network: the same rules with ip6tables for it. */
  readonly subnet6?: string | undefined;
  /** All its IPv6 subnets, `subnet6` first, when it has more than one (decision 218). */
  readonly subnets6?: readonly { readonly subnet: string }[] | undefined;
  /** Its bridge device. */
  readonly bridge: string;
  /** No way out: no masquerading. */
  readonly internal: boolean;
  /** Its CNI config list. */
  readonly config: {
    readonly plugins: readonly { readonly type: string; readonly [key: string]: unknown }[];
    readonly [key: string]: unknown;
  };
}

/** The chain (in `nat` and in `filter`) that holds a network's rules: `OCIKIT-<bridge>`. */
export function networkChain(network: Pick<RulesNetwork, 'bridge'>): string {
  return `OCIKIT-${network.bridge}`;
}

const rulesDir = (root: string) => join(root, 'networks', 'rules');

/**
 * Where the rules were made: this boot and this network namespace (iptables rules belong to a
 * namespace and are gone after a reboot).
 */
function here(): string {
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return `${boot} ${readlinkSync('/proc/self/ns/net')}`;
}

interface Made {
  here: string;
  subnet?: string | undefined;
  subnet6?: string | undefined;
  subnets6?: string[] | undefined;
  bridge: string;
  internal: boolean;
}

/** A network's IPv6 subnets: `subnets6`, or `subnet6` alone. */
const v6Subnets = (network: RulesNetwork): string[] =>
  network.subnets6 && network.subnets6.length > 0
    ? network.subnets6.map((x) => x.subnet)
    : network.subnet6 !== undefined
      ? [network.subnet6]
      : [];

const sameRules = (a: Made | undefined, network: RulesNetwork, at: string) =>
  a !== undefined &&
  a.here === at &&
  a.subnet === network.subnet &&
  (a.subnets6 ?? (a.subnet6 !== undefined ? [a.subnet6] : [])).join(' ') === v6Subnets(network).join(' ') &&
  a.bridge === network.bridge &&
  a.internal === network.internal;

async function readMade(file: string): Promise<Made | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Made;
  } catch {
    // none, or torn by a killed process: made again
    return undefined;
  }
}

const comment = (network: Pick<RulesNetwork, 'name'>) =>
  `-m comment --comment "ocikit network ${network.name}"`;

/** What `iptables-save` shows of `chain`, by table: whether it is declared, and the rules jumping to it. */
function savedOf(saved: string, chain: string): Map<string, { declared: boolean; jumps: string[] }> {
  const out = new Map<string, { declared: boolean; jumps: string[] }>();
  let table = { declared: false, jumps: [] as string[] };
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) {
      table = { declared: false, jumps: [] };
      out.set(line.slice(1), table);
    } else if (line.startsWith(`:${chain} `)) table.declared = true;
    else if (line.startsWith('-A ') && line.endsWith(` -j ${chain}`)) table.jumps.push(line);
  }
  return out;
}

/** Runs an iptables tool with `input` on stdin; its failure a typed error with its message. */
async function exec(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (e) =>
      reject(
        new FailedPreconditionError(`cannot run ${command}: ${e.message}`, {
          details: { command },
          hint: 'install iptables (Debian: apt-get install iptables)',
        }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new FailedPreconditionError(`${command} failed (exit ${code}): ${truncate(stderr.trim(), 300)}`, {
            details: { command, exitCode: code },
          }),
        );
    });
    // a tool that exits early closes the pipe: its exit status says what went wrong
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** The iptables tools of one address family, and what differs between the families' rules. */
interface Family {
  readonly save: string;
  readonly restore: string;
  /** The multicast range that is never masqueraded. */
  readonly multicast: string;
}
const v4: Family = { save: 'iptables-save', restore: 'iptables-restore', multicast: '224.0.0.0/4' };
const v6: Family = { save: 'ip6tables-save', restore: 'ip6tables-restore', multicast: 'ff00::/8' };

/**
 * The restore input that replaces (or, with `remove`, deletes) a network's chains and jumps in one
 * family's tables; `subnet` undefined makes no new rules there (removes what a former one left).
 */
function restoreInput(
  network: RulesNetwork,
  subnets: readonly string[] | undefined,
  family: Family,
  saved: string,
  remove: boolean,
): string {
  const chain = networkChain(network);
  const found = savedOf(saved, chain);
  const tables: Record<string, string[]> = { nat: [], filter: [] };
  // the old jumps go; a chain no longer wanted goes with its rules
  const drop = (table: string) => {
    const had = found.get(table);
    if (had?.declared) tables[table]?.push(`-F ${chain}`, `-X ${chain}`);
  };
  for (const [table, { jumps }] of found) tables[table]?.push(...jumps.map((l) => `-D${l.slice(2)}`));
  if (remove || subnets === undefined || subnets.length === 0) {
    drop('nat');
    drop('filter');
  } else {
    // filter: what the firewall plugin accepts per address, for the whole subnet — forwarded
    // traffic from the network, and replies to it — ahead of a FORWARD policy of DROP
    // (each subnet's, on a network of several)
    tables['filter']?.push(
      `:${chain} - [0:0]`,
      ...subnets.flatMap((subnet) => [
        `-A ${chain} -d ${subnet} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
        `-A ${chain} -s ${subnet} -j ACCEPT`,
      ]),
      `-I FORWARD 1 ${comment(network)} -j ${chain}`,
    );
    // nat: what the bridge plugin's ipMasq does per address: masquerade what leaves the subnet,
    // multicast excepted; an internal network has no way out
    if (!network.internal)
      tables['nat']?.push(
        `:${chain} - [0:0]`,
        ...subnets.map((subnet) => `-A ${chain} -d ${subnet} -j RETURN`),
        `-A ${chain} -d ${family.multicast} -j RETURN`,
        `-A ${chain} -j MASQUERADE`,
        ...subnets.map((subnet) => `-A POSTROUTING -s ${subnet} ${comment(network)} -j ${chain}`),
      );
    else drop('nat');
  }
  return Object.entries(tables)
    .filter(([, lines]) => lines.length > 0)
    .map(([table, lines]) => `*${table}\n${lines.join('\n')}\nCOMMIT\n`)
    .join('');
}

/**
 * Makes sure a network's own firewall rules are in place — its subnet masqueraded on the way out
 * (not on an internal network) and its forwarded traffic accepted, with iptables for its IPv4
 * subnet and ip6tables for its IPv6 one (dual-stack or IPv6-only) — and returns the network as ADD
 * should run it then: the bridge plugin without `ipMasq` and without the firewall plugin, whose
 * per-container chains these rules stand for. The rules are made once per boot and network
 * namespace (a marker under `ROOT/networks/rules/` says where they were made): after that this
 * runs no process. Removed by {@link removeNetworkRules}.
 *
 * @throws FailedPreconditionError when iptables is missing or refuses the rules.
 */
export async function ensureNetworkRules<N extends RulesNetwork>(
  root: string,
  network: N,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<N> {
  const lean = withoutPerContainerRules(network);
  const file = join(rulesDir(root), network.name);
  const at = here();
  if (sameRules(await readMade(file), network, at)) return lean;
  await withLock(
    `${file}.lock`,
    async () => {
      if (sameRules(await readMade(file), network, at)) return;
      // an IPv4-only network needs no ip6tables (which may not be there), an IPv6-only one no
      // iptables; a former network of that name left nothing, as its removal took its rules with it
      if (network.subnet !== undefined) await apply(network, [network.subnet], v4);
      const subnets6 = v6Subnets(network);
      if (subnets6.length > 0) {
        await apply(network, subnets6, v6);
        if (!network.internal) await bridgeWithoutDad(network.bridge);
      }
      const made: Made = {
        here: at,
        ...(network.subnet !== undefined ? { subnet: network.subnet } : {}),
        ...(subnets6.length > 0 ? { subnets6 } : {}),
        bridge: network.bridge,
        internal: network.internal,
      };
      await writeAtomic(file, `${JSON.stringify(made)}\n`);
    },
    options.signal,
  );
  return lean;
}

/**
 * Removes a network's own firewall rules (its chains and the jumps to them) and their marker.
 * Nothing to remove is not an error.
 */
export async function removeNetworkRules(root: string, network: RulesNetwork): Promise<void> {
  const file = join(rulesDir(root), network.name);
  await withLock(`${file}.lock`, async () => {
    for (const family of [v4, v6]) {
      // no iptables (or ip6tables): no rules to remove
      const saved = await exec(family.save, []).catch(() => '');
      const input = restoreInput(network, undefined, family, saved, true);
      if (input !== '') await exec(family.restore, ['-w', '--noflush'], input);
    }
    await rm(file, { force: true });
  });
}

/**
 * Makes a dual-stack network's bridge before the bridge plugin does, with duplicate address
 * detection off: the plugin's IPv6 gateway address is then usable at once, not "tentative" for the
 * first second or two, during which containers' traffic out over IPv6 finds no router (netavark
 * turns DAD off on its bridges too). The plugin takes an existing bridge as it is.
 */
async function bridgeWithoutDad(bridge: string): Promise<void> {
  const sysctl = `/proc/sys/net/ipv6/conf/${bridge}/accept_dad`;
  try {
    await writeFile(sysctl, '0');
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await exec('ip', ['link', 'add', bridge, 'type', 'bridge']).catch((e: unknown) => {
    // made meanwhile by an ADD: set the sysctl all the same
    if (!/File exists/.test(String((e as Error).message))) throw e;
  });
  await writeFile(sysctl, '0');
}

/** Replaces a network's chains and jumps in one family's tables. */
async function apply(network: RulesNetwork, subnets: readonly string[], family: Family): Promise<void> {
  const saved = await exec(family.save, []);
  await exec(family.restore, ['-w', '--noflush'], restoreInput(network, subnets, family, saved, false));
}

/** The config list without the per-container iptables work that the network's own rules do. */
function withoutPerContainerRules<N extends RulesNetwork>(network: N): N {
  const plugins = network.config.plugins
    .filter((p) => p.type !== 'firewall')
    .map((p) => (p.type === 'bridge' && p['ipMasq'] === true ? { ...p, ipMasq: false } : p));
  return { ...network, config: { ...network.config, plugins } };
}
