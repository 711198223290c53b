// `ocikit volume create | ls | inspect | rm | prune` (issue 15): the engine's volumes, printed as
// docker prints them.
import type { VolumeDetails } from '@ocikit/engine';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { confirmPrune } from '../lib/confirm.ts';
import { type FormatFields, humanSize, printFormatted } from '../lib/format.ts';
import { keyValues } from '../lib/input.ts';
import { printJson, println } from '../lib/output.ts';

/** `volume ls --format` fields, docker's names and headers. */
const volumeFields: FormatFields = {
  headers: {
    Name: 'VOLUME NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    Mountpoint: 'MOUNTPOINT',
    CreatedAt: 'CREATED AT',
    Labels: 'LABELS',
    Label: 'LABEL',
    Options: 'OPTIONS',
  },
  methods: ['Label'],
};

const volumeTable = 'table {{.Driver}}\t{{.Name}}';

/** One volume as a `--format` item. */
function volumeItem(v: VolumeDetails): Record<string, unknown> {
  const labels = v.labels;
  return {
    Name: v.name,
    Driver: v.driver,
    Scope: v.scope,
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt,
    Labels: Object.entries(labels)
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
    Label: (name: unknown) => labels[String(name)] ?? '',
    Options: Object.entries(v.options)
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
  };
}

/** One volume as `docker volume inspect` prints it. */
function volumeInspectItem(v: VolumeDetails): Record<string, unknown> {
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: v.options,
    Scope: v.scope,
  };
}

/** `ocikit volume create | ls | inspect | rm | prune`. */
export const volumeCommand = defineCommand({
  name: 'volume',
  summary: 'Create, list, inspect and remove volumes',
  usage:
    'ocikit volume create [--label K=V] [--opt type=tmpfs|none,o=…,device=…] [NAME] | ls [-q] [--format T] | inspect NAME... | rm [-f] NAME... | prune [-f]',
  description:
    'create: a named volume (64 hex digits when no NAME), with --opt type=tmpfs[,o=size=64m] a tmpfs each time it is mounted, ' +
    'with --opt type=none,o=bind,device=/host/dir that host directory; prints its name. ' +
    'ls: DRIVER and VOLUME NAME; -q names only; --format takes a Go template ({{.Name}}, {{.Driver}}, {{.Mountpoint}}, {{.Labels}}, {{.Label "k"}}, {{json .}}). ' +
    'inspect: JSON as docker prints it. rm: a volume a container uses is refused; -f removes its stopped containers first (as podman), never a running one. ' +
    'prune: every volume no container uses; it asks first unless -f.',
  options: {
    label: { type: 'string', multiple: true },
    opt: { type: 'string', short: 'o', multiple: true },
    force: { type: 'boolean', short: 'f' },
    format: { type: 'string' },
  },
  help: {
    label: 'create: a label K=V',
    opt: 'create: a driver option K=V (type, o, device)',
    force: 'rm: remove the stopped containers that use it too; prune: do not ask',
    format: 'ls: print each volume with a Go template; inspect: each volume',
  },
  async run(ctx, { values, positionals }) {
    const [verb, ...rest] = positionals;
    const usage = (name: string, u: string) => ({ name: `volume ${name}`, usage: `ocikit volume ${u}` });
    const only = (allowed: string[]) => {
      for (const flag of ['label', 'opt', 'force', 'format'] as const)
        if (values[flag] !== undefined && !allowed.includes(flag))
          throw new InvalidArgumentError(`ocikit volume ${verb}: --${flag} is not an option of ${verb}`);
    };
    switch (verb) {
      case 'create': {
        only(['label', 'opt']);
        expectPositionals(usage('create', 'create [--label K=V] [--opt K=V] [NAME]'), rest, 0, 1);
        const labels = keyValues(values.label, '--label');
        // one --opt per key (docker), or several in one at commas before type=, o= or device=
        const driverOpts = keyValues(
          (values.opt ?? []).flatMap((o) => o.split(/,(?=(?:type|o|device)=)/)),
          '--opt',
        );
        const engine = await ctx.engine();
        const v = await engine.volumes.create(
          {
            ...(rest[0] !== undefined ? { name: rest[0] } : {}),
            ...(Object.keys(labels).length > 0 ? { labels } : {}),
            ...(Object.keys(driverOpts).length > 0 ? { driverOpts } : {}),
          },
          { signal: ctx.signal },
        );
        if (ctx.json) printJson(ctx, volumeInspectItem(v));
        else println(ctx, v.name);
        return 0;
      }
      case 'ls':
      case 'list': {
        only(['format']);
        expectPositionals(usage('ls', 'ls [-q] [--format T]'), rest, 0);
        const engine = await ctx.engine();
        const volumes = await engine.volumes.list({ signal: ctx.signal });
        const items = volumes.map(volumeItem);
        const table = () => printFormatted(ctx, volumeTable, items, volumeFields, () => {});
        if (ctx.quiet) for (const v of volumes) println(ctx, v.name);
        else if (values.format !== undefined) printFormatted(ctx, values.format, items, volumeFields, table);
        else if (ctx.json) printJson(ctx, volumes.map(volumeInspectItem));
        else table();
        return 0;
      }
      case 'inspect': {
        only(['format']);
        expectPositionals(usage('inspect', 'inspect NAME...'), rest, 1, Number.POSITIVE_INFINITY);
        const engine = await ctx.engine();
        const found: VolumeDetails[] = [];
        for (const name of rest) found.push(await engine.volumes.inspect(name, { signal: ctx.signal }));
        if (values.format !== undefined)
          printFormatted(ctx, values.format, found.map(volumeItem), volumeFields, () => {});
        else printJson(ctx, found.map(volumeInspectItem));
        return 0;
      }
      case 'rm':
      case 'remove': {
        only(['force']);
        expectPositionals(usage('rm', 'rm [-f] NAME...'), rest, 1, Number.POSITIVE_INFINITY);
        const engine = await ctx.engine();
        for (const name of rest) {
          await engine.volumes.remove(name, { force: values.force === true, signal: ctx.signal });
          println(ctx, name);
        }
        return 0;
      }
      case 'prune': {
        only(['force']);
        expectPositionals(usage('prune', 'prune [-f]'), rest, 0);
        if (!(await confirmPrune(ctx, values.force, 'local volumes'))) return 0;
        const engine = await ctx.engine();
        const { removed, spaceReclaimed } = await engine.volumes.prune({ signal: ctx.signal });
        if (ctx.json) printJson(ctx, { removed, spaceReclaimed });
        else if (!ctx.quiet) {
          if (removed.length > 0) println(ctx, ['Deleted Volumes:', ...removed, ''].join('\n'));
          println(ctx, `Total reclaimed space: ${humanSize(spaceReclaimed, 4)}`);
        }
        return 0;
      }
      default:
        throw new InvalidArgumentError(
          verb === undefined
            ? 'ocikit volume: give create, ls, inspect, rm or prune'
            : `ocikit volume: unknown command ${JSON.stringify(truncate(verb, 40))}`,
          { hint: `usage: ${volumeCommand.usage}` },
        );
    }
  },
});
