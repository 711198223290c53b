import { join } from 'node:path';
import { InvalidArgumentError } from '@ocikit/errors';
import { parsePlatform } from '@ocikit/image-spec';
import { defaultSnapshotter, unpackToSnapshots } from '@ocikit/snapshot';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openLocalImage } from '../lib/image-source.ts';
import { printJson, println, printTable } from '../lib/output.ts';

/** `ocikit snapshots ls|rm|unpack`: the local snapshot store (overlay when the kernel allows, else native). */
export const snapshotsCommand = defineCommand({
  name: 'snapshots',
  summary: 'List, remove, or unpack images into, the local snapshots',
  usage: 'ocikit snapshots ls | rm KEY… | unpack [--platform P] IMAGE',
  description:
    'Snapshots live under ROOT/snapshots. "unpack" makes one committed snapshot per layer, named by chainID, reusing the ones that exist.',
  options: { platform: { type: 'string' } },
  help: { platform: 'which manifest of an index, for unpack (default: this machine)' },
  async run(ctx, { values, positionals }) {
    const [verb, ...rest] = positionals;
    const snapshotter = defaultSnapshotter(join(ctx.root, 'snapshots'));
    switch (verb) {
      case 'ls': {
        expectPositionals({ name: 'snapshots ls', usage: 'ocikit snapshots ls' }, rest, 0);
        const all = await snapshotter.list();
        if (ctx.json) printJson(ctx, { snapshotter: snapshotter.kind, snapshots: all });
        else if (ctx.quiet) for (const s of all) println(ctx, s.name);
        else
          printTable(
            ctx,
            ['KEY', 'PARENT', 'KIND'],
            all.map((s) => [s.name, s.parent ?? '', s.kind]),
          );
        return 0;
      }
      case 'rm': {
        expectPositionals(
          { name: 'snapshots rm', usage: 'ocikit snapshots rm KEY…' },
          rest,
          1,
          Number.MAX_SAFE_INTEGER,
        );
        for (const key of rest) {
          await snapshotter.remove(key);
          if (!ctx.quiet && !ctx.json) println(ctx, key);
        }
        if (ctx.json) printJson(ctx, { removed: rest });
        return 0;
      }
      case 'unpack': {
        expectPositionals({ name: 'snapshots unpack', usage: 'ocikit snapshots unpack IMAGE' }, rest, 1);
        const { layout, ref } = await openLocalImage(ctx, rest[0] ?? '');
        const result = await unpackToSnapshots(
          layout,
          await layout.resolve(ref, { signal: ctx.signal }),
          snapshotter,
          {
            ...(values.platform ? { platform: parsePlatform(values.platform) } : {}),
            signal: ctx.signal,
          },
        );
        if (ctx.json) printJson(ctx, { ...result, config: undefined, manifest: result.manifest.digest });
        else {
          if (!ctx.quiet)
            ctx.stderr.write(
              `${result.applied} layer(s) applied, ${result.reused} reused (${snapshotter.kind})\n`,
            );
          println(ctx, result.chainId);
        }
        return 0;
      }
      default:
        throw new InvalidArgumentError(
          verb === undefined
            ? 'ocikit snapshots: say ls, rm or unpack'
            : `ocikit snapshots: unknown action "${verb}"`,
          { hint: `usage: ${snapshotsCommand.usage}` },
        );
    }
  },
});
