import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openLocalImage } from '../lib/image-source.ts';
import { printJson, println } from '../lib/output.ts';
import {
  checkPushAllowed,
  copyWithProgress,
  expectRemote,
  remoteImage,
  transferFlags,
  transferFlagsHelp,
  transportFor,
} from '../lib/registry.ts';

/** `ocikit push SRC [DST]`: copy an image from the local store to a registry. */
export const pushCommand = defineCommand({
  name: 'push',
  summary: 'Push an image from the local store to a registry',
  usage: 'ocikit push [flags] REF [DEST]',
  description:
    'REF names an image in the local store (or oci:DIR[:REF]); DEST, a registry reference, defaults to REF. ' +
    'Blobs the registry has are skipped; blobs in another repository of the same registry are mounted. Prints the digest.',
  options: transferFlags,
  help: transferFlagsHelp,
  async run(ctx, { values, positionals }) {
    expectPositionals(pushCommand, positionals, 1, 2);
    const src = positionals[0] ?? '';
    const dstArg = positionals[1] ?? src;
    expectRemote(dstArg, 'ocikit push: the destination');
    await checkPushAllowed(ctx, dstArg);
    const { layout, ref } = await openLocalImage(ctx, src);
    const transport = transportFor(ctx, values);
    try {
      const dst = remoteImage(dstArg, transport);
      const desc = await copyWithProgress(
        ctx,
        { target: layout, ref, kind: 'local' },
        { target: dst.repo, ref: dst.ref },
        values,
        'pushed',
      );
      if (ctx.json)
        printJson(ctx, {
          reference: dst.name,
          digest: desc.digest,
          mediaType: desc.mediaType,
          size: desc.size,
        });
      else println(ctx, desc.digest);
      return 0;
    } finally {
      await transport.close();
    }
  },
});
