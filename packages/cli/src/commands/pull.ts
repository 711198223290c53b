import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printJson, println } from '../lib/output.ts';
import { expectRemote, pullIntoStore, transferFlags, transferFlagsHelp } from '../lib/registry.ts';

/** `ocikit pull REF`: copy an image from a registry into the local store. */
export const pullCommand = defineCommand({
  name: 'pull',
  summary: 'Pull an image from a registry into the local store',
  usage: 'ocikit pull [flags] REF',
  description:
    'Stores the image under --root, named by its normalized reference (busybox → docker.io/library/busybox:latest). ' +
    "An index is narrowed to this machine's platform unless --platform or --all-platforms is given. Prints the digest.",
  options: transferFlags,
  help: transferFlagsHelp,
  async run(ctx, { values, positionals }) {
    expectPositionals(pullCommand, positionals, 1);
    const arg = positionals[0] ?? '';
    expectRemote(arg, 'ocikit pull: the image');
    const { desc, name } = await pullIntoStore(ctx, arg, values);
    if (ctx.json)
      printJson(ctx, { reference: name, digest: desc.digest, mediaType: desc.mediaType, size: desc.size });
    else println(ctx, desc.digest);
    return 0;
  },
});
