import { openLayout } from '@ocikit/content';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { parseLayoutLocation } from '../lib/location.ts';
import { formatBytes, printJson, println } from '../lib/output.ts';

/** `ocikit gc oci:DIR`: remove blobs that no image in the layout refers to. */
export const gcCommand = defineCommand({
  name: 'gc',
  summary: 'Remove blobs no image in an OCI layout refers to',
  usage: 'ocikit gc oci:DIR',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(gcCommand, positionals, 1);
    const { dir } = parseLayoutLocation(positionals[0] ?? '', 'ocikit gc:');
    const layout = await openLayout(dir, { signal: ctx.signal });
    const result = await layout.gc({ signal: ctx.signal });
    if (ctx.json) printJson(ctx, result);
    else if (ctx.quiet) for (const d of result.removed) println(ctx, d);
    else println(ctx, `removed ${result.removed.length} blob(s), ${formatBytes(result.bytes)}`);
    return 0;
  },
});
