import { openLayout } from '@ocikit/content';
import { Annotation, formatPlatform } from '@ocikit/image-spec';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { parseLayoutLocation } from '../lib/location.ts';
import { formatBytes, printJson, println, printTable, shortDigest } from '../lib/output.ts';

/** `ocikit ls oci:DIR`: the images (index.json entries) of an OCI layout. */
export const lsCommand = defineCommand({
  name: 'ls',
  summary: 'List the images in an OCI layout',
  usage: 'ocikit ls oci:DIR',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(lsCommand, positionals, 1);
    const { dir } = parseLayoutLocation(positionals[0] ?? '', 'ocikit ls:');
    const layout = await openLayout(dir, { signal: ctx.signal });
    const entries = await layout.list();
    if (ctx.json) {
      printJson(ctx, entries);
    } else if (ctx.quiet) {
      for (const d of entries) println(ctx, d.annotations?.[Annotation.RefName] ?? d.digest);
    } else {
      printTable(
        ctx,
        ['REF', 'DIGEST', 'SIZE', 'PLATFORM', 'MEDIA TYPE'],
        entries.map((d) => [
          d.annotations?.[Annotation.RefName] ?? '<none>',
          shortDigest(d.digest),
          formatBytes(d.size),
          d.platform ? formatPlatform(d.platform) : '',
          d.mediaType,
        ]),
      );
    }
    return 0;
  },
});
