import { type HistoryEntry, humanDuration } from '@ocikit/engine';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { type FormatFields, humanSize, printFormatted } from '../lib/format.ts';
import { localStoreRef } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import { ellipsis } from '../lib/views.ts';

/** The fields of a `history` item, with docker's table headers. */
export const historyFields: FormatFields = {
  headers: {
    ID: 'IMAGE',
    CreatedSince: 'CREATED',
    CreatedAt: 'CREATED AT',
    CreatedBy: 'CREATED BY',
    Size: 'SIZE',
    Comment: 'COMMENT',
    Tags: 'TAGS',
  },
};

const TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

/**
 * One history step as docker's `history` shows it: the id (12 hex digits unless `trunc` is off;
 * `<missing>` when unknown), the time relative (`human`) or RFC 3339, the instruction cut to 45
 * columns (`trunc`), the size as `4.26MB` (`human`) or bytes.
 */
export function historyItem(
  e: HistoryEntry,
  options: { trunc: boolean; human: boolean; now?: number },
): Record<string, unknown> {
  const now = options.now ?? Date.now();
  const hex = e.id?.slice(e.id.indexOf(':') + 1);
  const createdBy = e.createdBy.replaceAll('\t', ' ');
  const created = e.created === undefined ? undefined : Date.parse(e.created);
  return {
    ID: hex === undefined ? '<missing>' : options.trunc ? hex.slice(0, 12) : e.id,
    CreatedSince:
      created === undefined || Number.isNaN(created)
        ? 'N/A'
        : options.human
          ? `${humanDuration(Math.max(0, now - created))} ago`
          : (e.created ?? ''),
    CreatedAt: e.created ?? '',
    CreatedBy: options.trunc ? ellipsis(createdBy, 45) : createdBy,
    Size: options.human ? humanSize(e.size) : String(e.size),
    Comment: e.comment ?? '',
    Tags: (e.tags ?? []).join(', '),
  };
}

/** `ocikit history IMAGE`: the steps that made an image, newest first. */
export const historyCommand = defineCommand({
  name: 'history',
  summary: 'Show the steps that made an image, newest first',
  usage: 'ocikit history [--no-trunc] [--human=false] [--format TEMPLATE] IMAGE',
  description:
    "The columns are docker's: IMAGE (the id of the image each step made, when the engine knows it; <missing> " +
    'otherwise), CREATED, CREATED BY (the instruction, cut to 45 columns unless --no-trunc), SIZE (of the layer the step ' +
    'made, uncompressed, as docker and podman count it) and COMMENT. -q prints the ids only; --json the entries as ' +
    'the engine gives them; --format takes a Go template over {{.ID}}, {{.CreatedSince}}, {{.CreatedAt}}, {{.CreatedBy}}, ' +
    '{{.Size}}, {{.Comment}}, {{.Tags}}.',
  options: {
    // `--no-trunc` and `--human=false`: parseArgs' allowNegative reads them as trunc=false, human=false
    trunc: { type: 'boolean' },
    human: { type: 'boolean' },
    format: { type: 'string' },
  },
  help: {
    trunc: 'cut ids and instructions (--no-trunc: show them whole)',
    human: 'relative times and sizes like 4.26MB (--human=false: RFC 3339 times and bytes)',
    format: 'print each step with a Go template',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(historyCommand, positionals, 1);
    const ref = localStoreRef(positionals[0] ?? '', 'ocikit history:');
    const engine = await ctx.engine();
    const history = await engine.images.history(ref, { signal: ctx.signal });
    const items = history.map((e) =>
      historyItem(e, { trunc: values.trunc !== false, human: values.human !== false }),
    );
    if (ctx.quiet) for (const i of items) println(ctx, String(i.ID));
    else if (values.format !== undefined)
      printFormatted(ctx, values.format, items, historyFields, () =>
        printFormatted(ctx, TABLE, items, historyFields, () => {}),
      );
    else if (ctx.json) printJson(ctx, history);
    else printFormatted(ctx, TABLE, items, historyFields, () => {});
    return 0;
  },
});
