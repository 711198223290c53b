import { InvalidArgumentError, UnimplementedError } from '@ocikit/errors';
import { type Context, defineCommand, expectPositionals } from '../lib/command.ts';
import { type FormatFields, printFormatted } from '../lib/format.ts';
import { formatBytes, printJson, println, printTable } from '../lib/output.ts';

/** `system df`'s fields for `--format`, podman's names. */
const dfFields: FormatFields = {
  headers: { Type: 'TYPE', Total: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
};

const percent = (part: number, whole: number) => `${whole === 0 ? 0 : Math.round((part * 100) / whole)}%`;

/** Asks on stderr and reads one answer line from stdin; true for y or yes. */
async function confirm(ctx: Context, question: string): Promise<boolean> {
  ctx.stderr.write(question);
  let line = '';
  for await (const chunk of ctx.stdin) {
    line += String(chunk);
    if (line.includes('\n')) break;
  }
  return /^\s*y(es)?\s*$/i.test(line.split('\n')[0] ?? '');
}

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

/** `ocikit system df | prune [-a] [-f]`: the local state's disk use, and freeing it, as podman's. */
export const systemCommand = defineCommand({
  name: 'system',
  summary: 'Show the disk use of the local state, or remove what nothing uses',
  usage: 'ocikit system df [--format T] | prune [-a] [-f]',
  description:
    'df: images (their blobs), containers (their writable snapshots) and snapshots (unpacked layers), with what is reclaimable. ' +
    'prune: stopped containers, images no container uses under no name, partial downloads no running ' +
    'process holds and snapshots nothing uses; -a also every image no container uses. It asks first unless -f.',
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
    format: { type: 'string' },
  },
  help: {
    all: 'prune: remove every image no container uses, not only those without a name',
    force: 'prune: do not ask for confirmation',
    format:
      'df: print each row with a Go template ({{.Type}}, {{.Total}}, {{.Active}}, {{.Size}}, {{.Reclaimable}})',
  },
  async run(ctx, { values, positionals }) {
    const [verb, ...rest] = positionals;
    if (verb === 'df') {
      expectPositionals({ name: 'system df', usage: 'ocikit system df' }, rest, 0);
      const { diskUsage } = await import('@ocikit/local');
      const rows = await diskUsage(await localState(ctx, 'df'));
      const cells = rows.map((r) => ({
        Type: r.type,
        Total: String(r.total),
        Active: String(r.active),
        Size: formatBytes(r.size),
        Reclaimable: `${formatBytes(r.reclaimable)} (${percent(r.reclaimable, r.size)})`,
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
        verb === undefined ? 'ocikit system: say df or prune' : `ocikit system: unknown action "${verb}"`,
        { hint: `usage: ${systemCommand.usage}` },
      );
    }
    expectPositionals({ name: 'system prune', usage: 'ocikit system prune [-a] [-f]' }, rest, 0);
    if (values.format !== undefined)
      throw new InvalidArgumentError('ocikit system prune: --format is for df');
    if (!values.force) {
      const what = values.all
        ? 'all images without at least one container associated to them'
        : 'all dangling images';
      const yes = await confirm(
        ctx,
        `WARNING! This command removes:\n\t- all stopped containers\n\t- ${what}\n\t- partial downloads and unused snapshots\n\nAre you sure you want to continue? [y/N] `,
      );
      if (!yes) return 0;
    }
    const state = await localState(ctx, 'prune');
    const { pruneLocal } = await import('@ocikit/local');
    const { containers, images, blobs, snapshots, reclaimed } = await pruneLocal({
      ...state,
      all: values.all === true,
    });
    if (ctx.json) {
      printJson(ctx, { containers, images, blobs, snapshots, reclaimed });
      return 0;
    }
    if (ctx.quiet) return 0;
    if (containers.length > 0) println(ctx, ['Deleted Containers', ...containers].join('\n'));
    if (images.length > 0) println(ctx, ['Deleted Images', ...images].join('\n'));
    println(ctx, `Total reclaimed space: ${formatBytes(reclaimed)}`);
    return 0;
  },
});
