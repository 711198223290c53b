import { type CopyEvent, copy, openLayout } from '@ocikit/content';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openLocalImage } from '../lib/image-source.ts';
import { parseLayoutLocation } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import { copyFlags, copyFlagsHelp, copyOptionsFrom } from '../lib/platform-flags.ts';
import { Progress } from '../lib/progress.ts';

/** `ocikit copy oci:DIR[:REF] oci:DIR2[:REF2]`: copy an image between OCI layouts. */
export const copyCommand = defineCommand({
  name: 'copy',
  summary: 'Copy an image between OCI layouts',
  usage: 'ocikit copy [flags] oci:DIR[:REF] oci:DIR2[:REF2]',
  description:
    'REF defaults to the only image in the source layout; REF2 defaults to REF. The destination layout is created when missing.',
  options: copyFlags,
  help: copyFlagsHelp,
  async run(ctx, { values, positionals }) {
    expectPositionals(copyCommand, positionals, 2);
    // Both sides must be layouts; the source's reference defaults to its only image.
    parseLayoutLocation(positionals[0] ?? '', 'source');
    const to = parseLayoutLocation(positionals[1] ?? '', 'destination');
    const options = copyOptionsFrom(values);
    const { layout: src, ref: srcRef } = await openLocalImage(ctx, positionals[0] ?? '');
    const dstRef = to.ref ?? srcRef;
    const dst = await openLayout(to.dir, { create: true, signal: ctx.signal });
    const progress = new Progress(ctx);
    const onProgress = (e: CopyEvent) => {
      if (e.type === 'start') progress.start(e.descriptor.digest, e.descriptor.size);
      else if (e.type === 'progress') progress.advance(e.descriptor.digest, e.bytes);
      else if (e.type === 'done') progress.finish(e.descriptor.digest);
      else progress.skip(e.descriptor.digest, e.descriptor.size);
    };
    const root = await copy(src, srcRef, dst, dstRef, { ...options, onProgress, signal: ctx.signal });
    progress.end('copied');
    if (ctx.json)
      printJson(ctx, { digest: root.digest, mediaType: root.mediaType, size: root.size, ref: dstRef });
    else println(ctx, root.digest);
    return 0;
  },
});
