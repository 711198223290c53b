import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printJson, println } from '../lib/output.ts';
import {
  copyWithProgress,
  openEndpoint,
  transferFlags,
  transferFlagsHelp,
  transportFor,
} from '../lib/registry.ts';

/** `ocikit copy SRC DST`: copy an image between registries, OCI layouts and the local store. */
export const copyCommand = defineCommand({
  name: 'copy',
  summary: 'Copy an image between registries, OCI layouts and the local store',
  usage: 'ocikit copy [flags] SRC DST',
  description:
    'SRC and DST are each a registry reference, oci:DIR[:REF] (a layout; created when missing) or local:REF ' +
    '(the local store). A layout source without REF means its only image; DST without a tag takes the ' +
    "source's. From a registry, an index is narrowed to this machine's platform unless --platform or " +
    '--all-platforms is given. Within one registry, blobs are mounted rather than copied.',
  options: transferFlags,
  help: transferFlagsHelp,
  async run(ctx, { values, positionals }) {
    expectPositionals(copyCommand, positionals, 2);
    const transport = transportFor(ctx, values);
    try {
      const src = await openEndpoint(ctx, positionals[0] ?? '', transport, 'source');
      const dst = await openEndpoint(ctx, positionals[1] ?? '', transport, 'destination');
      const srcRef = src.ref ?? 'latest';
      const dstRef = dst.ref ?? (dst.kind === 'oci' ? srcRef : undefined);
      const desc = await copyWithProgress(
        ctx,
        { target: src.target, ref: srcRef, kind: src.kind },
        { target: dst.target, ref: dstRef },
        values,
        'copied',
      );
      if (ctx.json)
        printJson(ctx, {
          digest: desc.digest,
          mediaType: desc.mediaType,
          size: desc.size,
          ref: dstRef ?? null,
        });
      else println(ctx, desc.digest);
      return 0;
    } finally {
      await transport.close();
    }
  },
});
