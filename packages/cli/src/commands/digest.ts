import { digestOf } from '@ocikit/digest';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openInput } from '../lib/input.ts';
import { printJson, println } from '../lib/output.ts';

/** `ocikit digest [FILE|-]`: the digest of a file or of stdin. */
export const digestCommand = defineCommand({
  name: 'digest',
  summary: 'Print the digest of a file or stdin',
  usage: 'ocikit digest [--algorithm sha256|sha512] [FILE|-]',
  description: 'With no FILE, or when FILE is -, reads stdin.',
  options: { algorithm: { type: 'string', short: 'a', default: 'sha256' } },
  help: { algorithm: 'digest algorithm (sha256, sha512)' },
  async run(ctx, { values, positionals }) {
    expectPositionals(digestCommand, positionals, 0, 1);
    const path = positionals[0] ?? '-';
    const digest = await digestOf(await openInput(ctx, path), {
      algorithm: values.algorithm,
      signal: ctx.signal,
    });
    if (ctx.json) printJson(ctx, { digest, file: path });
    else println(ctx, digest);
    return 0;
  },
});
