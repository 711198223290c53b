// `ocikit container prune` and `ocikit image prune [-a]`, as podman 4.3's, and the command groups
// they live in: every other verb of `container` and `image` is the top-level command it names
// (`container ls` is `ps`, `image rm` is `rmi`), rewritten before parsing (decision 201).
import type { PruneFilters } from '@ocikit/engine';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { type Context, defineCommand, expectPositionals } from '../lib/command.ts';
import { confirm } from '../lib/confirm.ts';
import { groupAliases } from '../lib/group-aliases.ts';
import { printJson, println } from '../lib/output.ts';
import { parseTimestamp } from '../lib/timestamp.ts';

/**
 * `--filter` values of a prune as the contract takes them: `until=T` (a duration before now, Unix
 * seconds or RFC 3339), `label=K[=V]`, `label!=K[=V]`; anything else is refused, as podman does.
 */
export function parsePruneFilters(
  values: readonly string[] | undefined,
  where: string,
): PruneFilters | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const filters: PruneFilters = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    const arg = eq < 0 ? '' : value.slice(eq + 1);
    if (eq < 0 || arg === '' || !['until', 'label', 'label!'].includes(key))
      throw new InvalidArgumentError(
        `${where}: ${JSON.stringify(truncate(value, 60))} is an invalid filter`,
        {
          hint: 'filters: until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]',
        },
      );
    if (key === 'until') filters.until = parseTimestamp(arg, `${where} --filter until`);
    else if (key === 'label') filters.labels = [...(filters.labels ?? []), arg];
    else filters.notLabels = [...(filters.notLabels ?? []), arg];
  }
  return filters;
}

/** Asks podman's `question` (on stderr, as ocikit's other prunes) unless `force`; true to go on. */
async function confirmed(ctx: Context, force: boolean | undefined, question: string): Promise<boolean> {
  return force === true || confirm(ctx, `WARNING! ${question}\nAre you sure you want to continue? [y/N] `);
}

/** `--help`'s list of a group's verbs: `prune`, then each alias and the command it is. */
function verbsHelp(group: string): string {
  const aliases = Object.entries(groupAliases[group] ?? {})
    .map(([verb, command]) => (verb === command ? verb : `${verb} (${command})`))
    .join(', ');
  return `Other verbs are the top-level commands they name, with the same flags: ${aliases}.`;
}

const pruneOptions = {
  all: { type: 'boolean', short: 'a' },
  force: { type: 'boolean', short: 'f' },
  filter: { type: 'string', multiple: true },
} as const;

const pruneHelp = { force: 'do not ask', filter: 'until=T, label=K[=V] or label!=K[=V] (repeatable)' };

/** A verb the group does not have, or none. */
function unknownVerb(group: string, verb: string | undefined, usage: string): InvalidArgumentError {
  return new InvalidArgumentError(
    verb === undefined
      ? `ocikit ${group}: give prune or one of ${Object.keys(groupAliases[group] ?? {}).join(', ')}`
      : `ocikit ${group}: unknown command ${JSON.stringify(truncate(verb, 40))}`,
    { hint: `usage: ${usage}` },
  );
}

/** The verb must be `prune`, with no argument after it; gives its `--filter`s parsed. */
function pruneFilters(
  group: string,
  usage: string,
  positionals: readonly string[],
  filter: readonly string[] | undefined,
): PruneFilters | undefined {
  const [verb, ...rest] = positionals;
  if (verb !== 'prune') throw unknownVerb(group, verb, usage);
  expectPositionals({ name: `${group} prune`, usage }, rest, 0);
  return parsePruneFilters(filter, `ocikit ${group} prune`);
}

/** `ocikit container prune [-f] [--filter F]…`, and the `container` group's other verbs. */
export const containerCommand = defineCommand({
  name: 'container',
  summary: 'Remove every stopped container (container prune); container ls, rm, … are ps, rm, …',
  usage:
    'ocikit container prune [-f] [--filter until=T|label=K[=V]|label!=K[=V]]... | ls|rm|inspect|logs|… ARGS',
  description:
    'prune: removes every container that is not running or paused (exited, and created but never started, as podman 4.3) ' +
    'and prints their ids; it asks first unless -f. --filter until=T (a duration before now, Unix seconds or RFC 3339) ' +
    'prunes only those made before T; label=K[=V] only those with the label, label!=K[=V] only those without. ' +
    verbsHelp('container'),
  options: pruneOptions,
  help: { ...pruneHelp, all: 'not an option of container prune (image prune -a)' },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const filters = pruneFilters('container', containerCommand.usage, positionals, values.filter);
    if (values.all !== undefined)
      throw new InvalidArgumentError('ocikit container prune: -a/--all is an option of image prune');
    if (!(await confirmed(ctx, values.force, 'This will remove all non running containers.'))) return 0;
    const engine = await ctx.engine();
    const pruned = await engine.containers.prune({ ...(filters ? { filters } : {}), signal: ctx.signal });
    if (ctx.json) printJson(ctx, pruned);
    else if (!ctx.quiet) for (const id of pruned.removed) println(ctx, id);
    return 0;
  },
});

/** `ocikit image prune [-a] [-f] [--filter F]…`, and the `image` group's other verbs. */
export const imageCommand = defineCommand({
  name: 'image',
  summary:
    'Remove dangling images, or with -a every image no container uses (image prune); image ls, rm, … are images, rmi, …',
  usage:
    'ocikit image prune [-a] [-f] [--filter until=T|label=K[=V]|label!=K[=V]]... | ls|rm|tag|pull|push|… ARGS',
  description:
    'prune: removes every dangling image (no name, no container uses it), with -a every image no container uses, ' +
    'and prints the ids of the images deleted; it asks first unless -f. --filter until=T (a duration before now, ' +
    'Unix seconds or RFC 3339) prunes only images made before T; label=K[=V] only those with the label, label!=K[=V] ' +
    'only those without. ' +
    verbsHelp('image'),
  options: pruneOptions,
  help: { ...pruneHelp, all: 'every image no container uses, not only dangling ones' },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const filters = pruneFilters('image', imageCommand.usage, positionals, values.filter);
    const all = values.all === true;
    const question = all
      ? 'This command removes all images without at least one container associated with them.'
      : 'This command removes all dangling images.';
    if (!(await confirmed(ctx, values.force, question))) return 0;
    const engine = await ctx.engine();
    const pruned = await engine.images.prune({ all, ...(filters ? { filters } : {}), signal: ctx.signal });
    if (ctx.json) printJson(ctx, pruned);
    else if (!ctx.quiet) {
      // podman prints the ids of the images deleted, bare hex, once each
      const ids = new Set(pruned.removed.flatMap((r) => (r.deleted === undefined ? [] : [r.deleted])));
      for (const id of ids) println(ctx, id.replace(/^sha256:/, ''));
    }
    return 0;
  },
});
