import { InvalidArgumentError } from '@ocikit/errors';
import { diffDirectories } from '@ocikit/snapshot';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printJson, println } from '../lib/output.ts';

/** `ocikit diff OLD NEW -o LAYER`: the changes from OLD to NEW as an OCI layer. */
export const diffCommand = defineCommand({
  name: 'diff',
  summary: 'Write the changes between two directories as a layer',
  usage: 'ocikit diff [--zstd] [--timestamp SECONDS] OLD NEW -o LAYER',
  description:
    'Prints the layer digest and its diffID. Times are clamped to --timestamp, else $SOURCE_DATE_EPOCH.',
  options: {
    output: { type: 'string', short: 'o' },
    zstd: { type: 'boolean' },
    timestamp: { type: 'string' },
  },
  help: {
    output: 'the layer file to write',
    zstd: 'compress with zstd (default gzip)',
    timestamp: 'clamp mtimes to this time',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(diffCommand, positionals, 2);
    if (!values.output) throw new InvalidArgumentError('ocikit diff: -o LAYER is required');
    if (values.timestamp !== undefined && !/^\d+$/.test(values.timestamp)) {
      throw new InvalidArgumentError(
        `--timestamp must be seconds since the epoch, not "${values.timestamp}"`,
      );
    }
    const result = await diffDirectories(positionals[0] ?? '', positionals[1] ?? '', values.output, {
      compression: values.zstd ? 'zstd' : 'gzip',
      ...(values.timestamp === undefined ? {} : { clampTime: Number(values.timestamp) }),
      signal: ctx.signal,
    });
    if (ctx.json) printJson(ctx, { ...result.descriptor, diffId: result.diffId, entries: result.entries });
    else {
      println(ctx, `digest: ${result.descriptor.digest}`);
      println(ctx, `diffID: ${result.diffId}`);
      if (!ctx.quiet)
        println(
          ctx,
          `size:   ${result.descriptor.size} (${result.entries} entries, ${result.descriptor.mediaType})`,
        );
    }
    return 0;
  },
});
