import type { EngineEvent } from '@ocikit/engine';
import { InvalidArgumentError, UnimplementedError } from '@ocikit/errors';
import { type Context, defineCommand, expectPositionals } from '../lib/command.ts';
import { confirm } from '../lib/confirm.ts';
import { type FormatFields, humanSize, parseTemplate, printFormatted } from '../lib/format.ts';
import { printJson, println, printTable } from '../lib/output.ts';
import { parseTimestamp } from '../lib/timestamp.ts';

/** `system df`'s fields for `--format`, podman's names. */
const dfFields: FormatFields = {
  headers: { Type: 'TYPE', Total: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
};

const percent = (part: number, whole: number) => `${whole === 0 ? 0 : Math.round((part * 100) / whole)}%`;

/**
 * The local engine's state root, for what only a local engine has (decision 136): UnimplementedError
 * naming the engine when --host (or CONTAINER_HOST/DOCKER_HOST) points at another.
 */
async function localState(ctx: Context, what: string) {
  const engine = await ctx.engine();
  if (engine.engine !== 'local') {
    throw new UnimplementedError(
      `ocikit system ${what} works on the local engine's state only, not on ${engine.address}`,
      { details: { engine: engine.engine } },
    );
  }
  const { localRoot } = await import('@ocikit/local');
  return { root: localRoot(engine.address, ctx.env), env: ctx.env, signal: ctx.signal };
}

/** An event as `docker events` prints it: time, type, action, id, then its attributes. */
function eventLine(e: EngineEvent): string {
  const attributes = Object.entries(e.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${new Date(e.time).toISOString()} ${e.type} ${e.action} ${e.id}${attributes ? ` (${attributes})` : ''}`;
}

/** `ocikit system df | prune | events | info | version`: the engine's state, and the local state's disk use. */
export const systemCommand = defineCommand({
  name: 'system',
  summary:
    "Show the engine's events, state and version, or the local state's disk use; remove what nothing uses",
  usage:
    'ocikit system df [--format T] | prune [-a] [-f] [--volumes] | events [--since T] [--until T] [--format T] | info | version',
  description:
    "events: what the engine did (the local engine's journal, dockerd's or podman's events), from --since (default now) " +
    'to --until, else followed until interrupted; --since/--until take a duration (10m), Unix seconds or an RFC 3339 time; ' +
    '--format takes a Go template ({{.Type}}, {{.Action}}, {{.ID}}, {{.Time}}, {{.Attributes}}). ' +
    'info: container and image counts, root, storage driver, default runtime. version: the engine and this machine. ' +
    'df: images (their blobs), containers (their writable snapshots), local volumes (their data) and snapshots ' +
    '(unpacked layers), with what is reclaimable. ' +
    'prune: stopped containers, images no container uses under no name, partial downloads no running ' +
    'process holds and snapshots nothing uses; -a also every image no container uses; --volumes also every ' +
    'volume no container uses, named ones too (as podman). It asks first unless -f.',
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
    format: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    volumes: { type: 'boolean' },
  },
  help: {
    all: 'prune: remove every image no container uses, not only those without a name',
    force: 'prune: do not ask for confirmation',
    format:
      'df: print each row with a Go template ({{.Type}}, {{.Total}}, {{.Active}}, {{.Size}}, {{.Reclaimable}}); events: each event',
    since: 'events: from this time (a duration before now, Unix seconds, RFC 3339)',
    until: 'events: up to this time, then stop (default: follow until interrupted)',
    volumes: 'prune: also remove every volume no container uses, named ones too (as podman)',
  },
  async run(ctx, { values, positionals }) {
    const [verb, ...rest] = positionals;
    if ((values.since !== undefined || values.until !== undefined) && verb !== 'events')
      throw new InvalidArgumentError(`ocikit system ${verb ?? ''}: --since and --until are for events`);
    if (values.volumes !== undefined && verb !== 'prune')
      throw new InvalidArgumentError(`ocikit system ${verb ?? ''}: --volumes is for prune`);
    if (verb === 'events') {
      expectPositionals(
        { name: 'system events', usage: 'ocikit system events [--since T] [--until T]' },
        rest,
        0,
      );
      const since = values.since === undefined ? undefined : parseTimestamp(values.since, '--since');
      const until = values.until === undefined ? undefined : parseTimestamp(values.until, '--until');
      const engine = await ctx.engine();
      const template = values.format === undefined ? undefined : parseTemplate(values.format);
      for await (const e of engine.system.events({
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        signal: ctx.signal,
      })) {
        if (template)
          println(
            ctx,
            template.execute({
              Type: e.type,
              Action: e.action,
              ID: e.id,
              Time: Math.floor(e.time / 1000),
              TimeNano: e.time * 1_000_000,
              Attributes: new Map(Object.entries(e.attributes)),
            }),
          );
        else if (ctx.json) ctx.stdout.write(`${JSON.stringify(e)}\n`);
        else println(ctx, eventLine(e));
      }
      return 0;
    }
    if (verb === 'info' || verb === 'version') {
      expectPositionals({ name: `system ${verb}`, usage: `ocikit system ${verb}` }, rest, 0);
      const engine = await ctx.engine();
      if (verb === 'version') {
        const v = await engine.system.version({ signal: ctx.signal });
        if (ctx.json) printJson(ctx, v);
        else {
          println(ctx, `Engine:      ${v.name} ${v.version}${v.apiVersion ? ` (API ${v.apiVersion})` : ''}`);
          println(ctx, `OS/Arch:     ${v.os}/${v.arch}`);
          if (v.kernelVersion) println(ctx, `Kernel:      ${v.kernelVersion}`);
          println(ctx, `Address:     ${engine.address}`);
        }
        return 0;
      }
      const info = await engine.system.info({ signal: ctx.signal });
      if (ctx.json) {
        printJson(ctx, { ...info, raw: undefined });
        return 0;
      }
      const rows: [string, string | number | undefined][] = [
        ['Containers', info.containers],
        [' Running', info.containersRunning],
        [' Paused', info.containersPaused],
        [' Stopped', info.containersStopped],
        ['Images', info.images],
        ['Storage Driver', info.storageDriver],
        ['Root Dir', info.root],
        ['Default Runtime', info.defaultRuntime],
        ['Cgroup Driver', info.cgroupDriver],
      ];
      for (const [k, v] of rows) if (v !== undefined) println(ctx, `${k}: ${v}`);
      return 0;
    }
    if (verb === 'df') {
      expectPositionals({ name: 'system df', usage: 'ocikit system df' }, rest, 0);
      const { diskUsage } = await import('@ocikit/local');
      const rows = await diskUsage(await localState(ctx, 'df'));
      const cells = rows.map((r) => ({
        Type: r.type,
        Total: String(r.total),
        Active: String(r.active),
        Size: humanSize(r.size, 4),
        Reclaimable: `${humanSize(r.reclaimable, 4)} (${percent(r.reclaimable, r.size)})`,
      }));
      const table = () =>
        printTable(
          ctx,
          Object.values(dfFields.headers),
          cells.map((c) => [c.Type, c.Total, c.Active, c.Size, c.Reclaimable]),
        );
      if (values.format !== undefined) printFormatted(ctx, values.format, cells, dfFields, table);
      else if (ctx.json) printJson(ctx, rows);
      else table();
      return 0;
    }
    if (verb !== 'prune') {
      throw new InvalidArgumentError(
        verb === undefined
          ? 'ocikit system: say df, prune, events, info or version'
          : `ocikit system: unknown action "${verb}"`,
        { hint: `usage: ${systemCommand.usage}` },
      );
    }
    expectPositionals({ name: 'system prune', usage: 'ocikit system prune [-a] [-f] [--volumes]' }, rest, 0);
    if (values.format !== undefined)
      throw new InvalidArgumentError('ocikit system prune: --format is for df');
    if (!values.force) {
      // podman's words and order
      const what = [
        'all stopped containers',
        ...(values.volumes ? ['all volumes not used by at least one container'] : []),
        values.all ? 'all images without at least one container associated with them' : 'all dangling images',
        'partial downloads and unused snapshots',
      ];
      const yes = await confirm(
        ctx,
        `WARNING! This command removes:\n${what.map((w) => `\t- ${w}\n`).join('')}\nAre you sure you want to continue? [y/N] `,
      );
      if (!yes) return 0;
    }
    const state = await localState(ctx, 'prune');
    const { pruneLocal } = await import('@ocikit/local');
    const { containers, volumes, images, blobs, snapshots, reclaimed } = await pruneLocal({
      ...state,
      all: values.all === true,
      volumes: values.volumes === true,
    });
    if (ctx.json) {
      printJson(ctx, { containers, volumes, images, blobs, snapshots, reclaimed });
      return 0;
    }
    if (ctx.quiet) return 0;
    if (containers.length > 0) println(ctx, ['Deleted Containers', ...containers].join('\n'));
    if (volumes.length > 0) println(ctx, ['Deleted Volumes', ...volumes].join('\n'));
    if (images.length > 0) println(ctx, ['Deleted Images', ...images].join('\n'));
    println(ctx, `Total reclaimed space: ${humanSize(reclaimed, 4)}`);
    return 0;
  },
});
