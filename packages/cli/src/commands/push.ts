import { parseReference } from '@ocikit/reference';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openLocalImage } from '../lib/image-source.ts';
import { localStoreRef, parseLocation } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import {
  checkPushAllowed,
  copyWithProgress,
  engineProgress,
  engineRegistry,
  expectRemote,
  remoteImage,
  transferFlags,
  transferFlagsHelp,
  transportFor,
} from '../lib/registry.ts';

/** `ocikit push SRC [DST]`: push an image of the engine (or a layout) to a registry. */
export const pushCommand = defineCommand({
  name: 'push',
  summary: 'Push an image from the engine (the local store by default) or a layout to a registry',
  usage: 'ocikit push [flags] REF [DEST]',
  description:
    'REF names an image in the engine (or oci:DIR[:REF], a layout); DEST, a registry reference, defaults to REF. ' +
    'From the local store to another DEST the image is copied as it is stored; another engine is asked to tag it DEST ' +
    'first (the name stays, as after docker tag). ' +
    'Blobs the registry has are skipped; blobs in another repository of the same registry are mounted. Prints the digest.',
  options: transferFlags,
  help: transferFlagsHelp,
  async run(ctx, { values, positionals }) {
    expectPositionals(pushCommand, positionals, 1, 2);
    const src = positionals[0] ?? '';
    const dstArg = positionals[1] ?? src;
    expectRemote(dstArg, 'ocikit push: the destination');
    await checkPushAllowed(ctx, dstArg);
    const dstName = parseReference(dstArg).toString();
    const local = parseLocation(src).kind !== 'oci' ? localStoreRef(src, 'ocikit push:') : undefined;
    const engine =
      local !== undefined ? await ctx.engine({ registry: engineRegistry(ctx, values) }) : undefined;
    if (
      engine &&
      local !== undefined &&
      (engine.engine !== 'local' || parseReference(local).toString() === dstName)
    ) {
      // the engine pushes one of its images to that image's registry
      if (parseReference(local).toString() !== dstName)
        await engine.images.tag(local, dstName, { signal: ctx.signal });
      const progress = engineProgress(ctx);
      const pushed = await engine.images.push(dstName, {
        ...(values.insecure ? { tlsVerify: false } : {}),
        onProgress: progress.onProgress,
        signal: ctx.signal,
      });
      progress.end('pushed');
      if (ctx.json) printJson(ctx, { reference: dstName, digest: pushed.digest ?? null });
      else if (pushed.digest !== undefined) println(ctx, pushed.digest);
      return 0;
    }
    // a layout, or the local store's image under another name: a registry copy, as `copy`
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
