import { type CopyEvent, copy, openLayout } from '@ocikit/content';
import { InvalidArgumentError } from '@ocikit/errors';
import { defineCommand, expectPositionals } from '../lib/command.ts';
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
    const from = parseLayoutLocation(positionals[0] ?? '', 'source');
    const to = parseLayoutLocation(positionals[1] ?? '', 'destination');
    const options = copyOptionsFrom(values);
    const src = await openLayout(from.dir, { signal: ctx.signal });
    let srcRef = from.ref;
    if (srcRef === undefined) {
      const entries = await src.list();
      if (entries.length !== 1) {
        throw new InvalidArgumentError(
          `${from.dir} holds ${entries.length} images: say which one with oci:DIR:REF`,
          {
            hint: `see 'ocikit ls oci:${from.dir}'`,
          },
        );
      }
      const only = entries[0];
      srcRef = only?.annotations?.['org.opencontainers.image.ref.name'] ?? only?.digest ?? '';
    }
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
