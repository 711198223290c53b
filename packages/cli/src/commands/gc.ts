import { openLayout } from '@ocikit/content';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { parseLayoutLocation } from '../lib/location.ts';
import { formatBytes, printJson, println } from '../lib/output.ts';

/** `ocikit gc [oci:DIR]`: remove what nothing uses, in the local store or a layout. */
export const gcCommand = defineCommand({
  name: 'gc',
  summary: 'Remove blobs, partial downloads and snapshots nothing uses (the local store, or an OCI layout)',
  usage: 'ocikit gc [oci:DIR]',
  description:
    'Without an argument, the local store: blobs no image or container uses, every partial download no ' +
    'running process holds (an interrupted pull), and the snapshots no container or image uses. With ' +
    'oci:DIR, the layout: blobs no image in it refers to, and partial writes abandoned for a day.',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(gcCommand, positionals, 0, 1);
    if (positionals[0] === undefined) {
      const { collectLocal } = await import('@ocikit/local');
      const { blobs, snapshots } = await collectLocal({ root: ctx.root, env: ctx.env, signal: ctx.signal });
      if (ctx.json) printJson(ctx, { ...blobs, snapshots });
      else if (ctx.quiet) for (const d of blobs.removed) println(ctx, d);
      else {
        println(
          ctx,
          `removed ${blobs.removed.length} blob(s), ${formatBytes(blobs.bytes)}; ` +
            `${blobs.ingests} partial download(s), ${formatBytes(blobs.ingestBytes)}; ` +
            `${snapshots.removed.length} snapshot(s), ${formatBytes(snapshots.bytes)}`,
        );
      }
      return 0;
    }
    const { dir } = parseLayoutLocation(positionals[0], 'ocikit gc:');
    const layout = await openLayout(dir, { signal: ctx.signal });
    const result = await layout.gc({ signal: ctx.signal });
    if (ctx.json) printJson(ctx, result);
    else if (ctx.quiet) for (const d of result.removed) println(ctx, d);
    else println(ctx, `removed ${result.removed.length} blob(s), ${formatBytes(result.bytes)}`);
    return 0;
  },
});
