import { openLayout } from '@ocikit/content';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { parseLayoutLocation } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import { openStore } from '../lib/registry.ts';

/** `ocikit fsck oci:DIR`: re-hash every blob and check every reference; exit 1 on problems. */
export const fsckCommand = defineCommand({
  name: 'fsck',
  summary: 'Check every blob and reference of the local store or an OCI layout',
  usage: 'ocikit fsck [--repair] [oci:DIR]',
  description: 'Without an argument, the local store (ROOT/content).',
  options: { repair: { type: 'boolean' } },
  help: { repair: 'remove corrupt blobs' },
  async run(ctx, { values, positionals }) {
    expectPositionals(fsckCommand, positionals, 0, 1);
    const layout =
      positionals[0] === undefined
        ? await openStore(ctx)
        : await openLayout(parseLayoutLocation(positionals[0], 'ocikit fsck:').dir, { signal: ctx.signal });
    const result = await layout.fsck({ repair: values.repair === true, signal: ctx.signal });
    const unrepaired = result.problems.filter((p) => !p.repaired);
    if (ctx.json) printJson(ctx, result);
    else {
      for (const p of result.problems)
        ctx.stderr.write(`${p.kind}: ${p.message}${p.repaired ? ' (removed)' : ''}\n`);
      if (!ctx.quiet) {
        println(
          ctx,
          `${result.blobs} blobs, ${result.references} references checked: ${result.problems.length ? `${result.problems.length} problem(s)` : 'ok'}`,
        );
      }
    }
    return unrepaired.length ? 1 : 0;
  },
});
