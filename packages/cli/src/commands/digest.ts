import { stat } from 'node:fs/promises';
import { digestOf } from '@ocikit/digest';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openInput } from '../lib/input.ts';
import { printJson, println } from '../lib/output.ts';
import { readImage, remoteFlag, remoteFlagHelp } from '../lib/read-image.ts';
import { registryFlags, registryFlagsHelp, transportFor } from '../lib/registry.ts';

/** `ocikit digest [FILE|-|REF]`: the digest of a file, of stdin, or of an image. */
export const digestCommand = defineCommand({
  name: 'digest',
  summary: 'Print the digest of a file, stdin, or an image',
  usage: 'ocikit digest [--algorithm sha256|sha512] [FILE|-|REF]',
  description:
    'With no argument, or -, reads stdin. A path (/…, ./…, ../…) or an existing file is hashed; anything else is an ' +
    "image — a registry reference, oci:DIR[:REF] or local:REF — and its manifest's digest is printed, like `crane digest`.",
  options: { algorithm: { type: 'string', short: 'a', default: 'sha256' }, ...remoteFlag, ...registryFlags },
  help: { algorithm: 'digest algorithm for files (sha256, sha512)', ...remoteFlagHelp, ...registryFlagsHelp },
  async run(ctx, { values, positionals }) {
    expectPositionals(digestCommand, positionals, 0, 1);
    const arg = positionals[0] ?? '-';
    // A path (absolute, ./ or ../) or an existing file is hashed; anything else names an image.
    const isFile =
      arg === '-' ||
      /^\.{0,2}\//.test(arg) ||
      (await stat(arg).then(
        () => true,
        () => false,
      ));
    if (!isFile) {
      const transport = transportFor(ctx, values);
      try {
        const image = await readImage(ctx, arg, transport, { remote: values.remote });
        const { digest, mediaType, size } = image.root.descriptor;
        if (ctx.json) printJson(ctx, { digest, mediaType, size, reference: image.display });
        else println(ctx, digest);
        return 0;
      } finally {
        await transport.close();
      }
    }
    const digest = await digestOf(await openInput(ctx, arg), {
      algorithm: values.algorithm,
      signal: ctx.signal,
    });
    if (ctx.json) printJson(ctx, { digest, file: arg });
    else println(ctx, digest);
    return 0;
  },
});
