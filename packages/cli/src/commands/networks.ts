// `ocikit network create | ls | inspect | rm | prune | connect | disconnect` and `ocikit port`
// (issue 15): the engine's networks and a container's published ports, printed as docker prints
// them.
import type { NetworkDetails } from '@ocikit/engine';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { confirmPrune } from '../lib/confirm.ts';
import { type FormatFields, printFormatted } from '../lib/format.ts';
import { keyValues } from '../lib/input.ts';
import { parseAddress, portLines, selectPorts, subnetFlags } from '../lib/network-flags.ts';
import { printJson, println } from '../lib/output.ts';

/** `network ls --format` fields, docker's names and headers. */
const networkFields: FormatFields = {
  headers: {
    ID: 'NETWORK ID',
    Name: 'NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    Internal: 'INTERNAL',
    CreatedAt: 'CREATED AT',
    Labels: 'LABELS',
    Label: 'LABEL',
    Subnet: 'SUBNET',
  },
  methods: ['Label'],
};

const networkTable = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}';

/** One network as a `--format` item. */
function networkItem(n: NetworkDetails, trunc: boolean): Record<string, unknown> {
  const labels = n.labels;
  return {
    ID: trunc ? n.id.slice(0, 12) : n.id,
    Name: n.name,
    Driver: n.driver,
    Scope: 'local',
    Internal: n.internal,
    CreatedAt: n.created ?? '',
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Label: (name: unknown) => labels[String(name)] ?? '',
    Subnet: n.subnets.map((s) => s.subnet).join(','),
  };
}

/** One network as `docker network inspect` prints it (the fields the contract carries). */
function networkInspectItem(n: NetworkDetails): Record<string, unknown> {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created ?? '',
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: n.ipv6 === true,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: n.subnets.map((s) => ({ Subnet: s.subnet, ...(s.gateway ? { Gateway: s.gateway } : {}) })),
    },
    Internal: n.internal,
    Containers: Object.fromEntries(
      (n.containers ?? []).map((c) => [
        c.id,
        { Name: c.name, IPv4Address: c.ipAddress, IPv6Address: c.ipv6Address ?? '' },
      ]),
    ),
    Options: n.interface ? { 'com.docker.network.bridge.name': n.interface } : {},
    Labels: n.labels,
  };
}

const verbs = ['create', 'ls', 'inspect', 'rm', 'prune', 'connect', 'disconnect'];

/** `ocikit network create | ls | inspect | rm | prune | connect | disconnect`. */
export const networkCommand = defineCommand({
  name: 'network',
  summary: 'Create, list, inspect, connect and remove networks',
  usage:
    'ocikit network create [--ipv6] [--subnet CIDR]... [--gateway IP]... [--internal] [--label K=V] NAME | ls [-q] [--format T] [--no-trunc] | inspect NAME... | rm NAME... | prune [-f] | connect [--ip IP] [--ip6 IP] [--alias NAME] NETWORK CONTAINER | disconnect [-f] NETWORK CONTAINER',
  description:
    'create: a bridge network (a free subnet when no --subnet; its first address the gateway when no --gateway; ' +
    '--internal: no route out; --ipv6: dual-stack, an IPv6 address for each container as well, ' +
    'from a free unique local /64 when no IPv6 --subnet; an IPv6 --subnet alone: IPv6-only, no IPv4 address); prints its id. ls: NETWORK ID, NAME and DRIVER; -q ids only; --json the networks; ' +
    '--format takes a Go template ({{.ID}}, {{.Name}}, {{.Driver}}, {{.Subnet}}, {{.Labels}}, {{.Label "k"}}, {{json .}}). ' +
    'inspect: JSON as docker prints it. rm: a network a container uses is refused. prune: every network no container ' +
    'uses (not the default ones); it asks first unless -f. connect/disconnect: attach a container to, or detach it from, a network.',
  options: {
    subnet: { type: 'string', multiple: true },
    gateway: { type: 'string', multiple: true },
    ipv6: { type: 'boolean' },
    internal: { type: 'boolean' },
    label: { type: 'string', multiple: true },
    ip: { type: 'string' },
    ip6: { type: 'string' },
    alias: { type: 'string', multiple: true },
    force: { type: 'boolean', short: 'f' },
    format: { type: 'string' },
    trunc: { type: 'boolean' },
  },
  help: {
    subnet:
      'create: a subnet (CIDR), IPv4 or IPv6; one IPv4 at most, IPv6 ones as many as wanted (an address from each)',
    gateway: 'create: the gateway address in the subnet of its family',
    ipv6: 'create: dual-stack, containers get an IPv6 address as well (without it, an IPv6 --subnet alone is IPv6-only)',
    internal: 'create: no route out of the network',
    label: 'create: a label K=V',
    ip: 'connect: a fixed IPv4 address on the network',
    ip6: 'connect: a fixed IPv6 address on a dual-stack network',
    alias: 'connect: another name the container is reached by on the network',
    force: 'prune: do not ask; disconnect: force it',
    format: 'ls: print each network with a Go template; inspect: each network',
    trunc: 'ls: shorten ids to 12 characters (--no-trunc: whole)',
  },
  async run(ctx, { values, positionals }) {
    const [verb, ...rest] = positionals;
    const usage = (name: string, u: string) => ({ name: `network ${name}`, usage: `ocikit network ${u}` });
    const only = (allowed: string[]) => {
      for (const flag of [
        'subnet',
        'gateway',
        'ipv6',
        'internal',
        'label',
        'ip',
        'ip6',
        'alias',
        'force',
        'format',
        'trunc',
      ] as const)
        if (values[flag] !== undefined && !allowed.includes(flag))
          throw new InvalidArgumentError(`ocikit network ${verb}: --${flag} is not an option of ${verb}`);
    };
    switch (verb) {
      case 'create': {
        only(['subnet', 'gateway', 'ipv6', 'internal', 'label']);
        expectPositionals(
          usage(
            'create',
            'create [--ipv6] [--subnet CIDR]... [--gateway IP]... [--internal] [--label K=V] NAME',
          ),
          rest,
          1,
        );
        const subnets = subnetFlags(values.subnet ?? [], values.gateway ?? [], values.ipv6 === true);
        const labels = keyValues(values.label, '--label');
        const engine = await ctx.engine();
        const n = await engine.networks.create(
          {
            name: rest[0] ?? '',
            ...subnets,
            ...(values.internal ? { internal: true } : {}),
            ...(Object.keys(labels).length > 0 ? { labels } : {}),
          },
          { signal: ctx.signal },
        );
        if (ctx.json) printJson(ctx, networkInspectItem(n));
        else println(ctx, n.id);
        return 0;
      }
      case 'ls':
      case 'list': {
        only(['format', 'trunc']);
        expectPositionals(usage('ls', 'ls [-q] [--format T] [--no-trunc]'), rest, 0);
        const engine = await ctx.engine();
        const networks = await engine.networks.list({ signal: ctx.signal });
        const trunc = values.trunc !== false;
        const items = networks.map((n) => networkItem(n, trunc));
        const table = () => printFormatted(ctx, networkTable, items, networkFields, () => {});
        if (ctx.quiet) for (const n of networks) println(ctx, trunc ? n.id.slice(0, 12) : n.id);
        else if (values.format !== undefined) printFormatted(ctx, values.format, items, networkFields, table);
        else if (ctx.json) printJson(ctx, networks.map(networkInspectItem));
        else table();
        return 0;
      }
      case 'inspect': {
        only(['format']);
        expectPositionals(usage('inspect', 'inspect NAME...'), rest, 1, Number.POSITIVE_INFINITY);
        const engine = await ctx.engine();
        const found: NetworkDetails[] = [];
        for (const name of rest) found.push(await engine.networks.inspect(name, { signal: ctx.signal }));
        if (values.format !== undefined)
          printFormatted(
            ctx,
            values.format,
            found.map((n) => networkItem(n, false)),
            networkFields,
            () => {},
          );
        else printJson(ctx, found.map(networkInspectItem));
        return 0;
      }
      case 'rm':
      case 'remove': {
        only([]);
        expectPositionals(usage('rm', 'rm NAME...'), rest, 1, Number.POSITIVE_INFINITY);
        const engine = await ctx.engine();
        for (const name of rest) {
          await engine.networks.remove(name, { signal: ctx.signal });
          println(ctx, name);
        }
        return 0;
      }
      case 'prune': {
        only(['force']);
        expectPositionals(usage('prune', 'prune [-f]'), rest, 0);
        if (!(await confirmPrune(ctx, values.force, 'custom networks'))) return 0;
        const engine = await ctx.engine();
        const { removed } = await engine.networks.prune({ signal: ctx.signal });
        if (ctx.json) printJson(ctx, { removed });
        else if (!ctx.quiet && removed.length > 0)
          println(ctx, ['Deleted Networks:', ...removed, ''].join('\n'));
        return 0;
      }
      case 'connect': {
        only(['ip', 'ip6', 'alias']);
        expectPositionals(
          usage('connect', 'connect [--ip IP] [--ip6 IP] [--alias NAME] NETWORK CONTAINER'),
          rest,
          2,
        );
        const ipAddress = values.ip === undefined ? undefined : parseAddress('ip', values.ip);
        const ip6Address = values.ip6 === undefined ? undefined : parseAddress('ip6', values.ip6);
        const engine = await ctx.engine();
        await engine.networks.connect(
          rest[0] ?? '',
          rest[1] ?? '',
          {
            ...(ipAddress !== undefined ? { ipAddress } : {}),
            ...(ip6Address !== undefined ? { ip6Address } : {}),
            ...(values.alias && values.alias.length > 0 ? { aliases: values.alias } : {}),
          },
          { signal: ctx.signal },
        );
        return 0;
      }
      case 'disconnect': {
        only(['force']);
        expectPositionals(usage('disconnect', 'disconnect [-f] NETWORK CONTAINER'), rest, 2);
        const engine = await ctx.engine();
        await engine.networks.disconnect(rest[0] ?? '', rest[1] ?? '', {
          force: values.force === true,
          signal: ctx.signal,
        });
        return 0;
      }
      default:
        throw new InvalidArgumentError(
          verb === undefined
            ? `ocikit network: give ${verbs.slice(0, -1).join(', ')} or ${verbs.at(-1)}`
            : `ocikit network: unknown command ${JSON.stringify(truncate(verb, 40))}`,
          { hint: `usage: ${networkCommand.usage}` },
        );
    }
  },
});

/** `ocikit port CONTAINER [PRIVATE_PORT[/PROTO]]`. */
export const portCommand = defineCommand({
  name: 'port',
  summary: "List a container's published ports",
  usage: 'ocikit port CONTAINER [PRIVATE_PORT[/PROTO]]',
  description:
    'One line per published port, as docker prints them: `80/tcp -> 0.0.0.0:8080`; with PRIVATE_PORT only the host ' +
    'addresses it is published on (`0.0.0.0:8080`). --json: the ports as objects.',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(portCommand, positionals, 1, 2);
    const [container = '', asked] = positionals;
    const engine = await ctx.engine();
    const details = await engine.containers.inspect(container, { signal: ctx.signal });
    const ports = details.network?.ports ?? [];
    if (ctx.json) printJson(ctx, selectPorts(ports, container, asked));
    else for (const line of portLines(ports, container, asked)) println(ctx, line);
    return 0;
  },
});
