import { defineCommand, expectPositionals } from '../lib/command.ts';
import { pickImage, readConfig, readImage, remoteFlag, remoteFlagHelp } from '../lib/read-image.ts';
import { registryFlags, registryFlagsHelp, transportFor } from '../lib/registry.ts';

/** `ocikit manifest REF`: the manifest or index bytes as stored. */
export const manifestCommand = defineCommand({
  name: 'manifest',
  summary: 'Print the raw manifest or index of an image',
  usage: 'ocikit manifest [flags] REF',
  description:
    'Prints the bytes exactly as the registry (or layout) serves them, so their digest is the image digest. ' +
    'With --platform, prints the image manifest an index holds for that platform.',
  options: { platform: { type: 'string' }, ...remoteFlag, ...registryFlags },
  help: {
    platform: 'print the manifest for os/arch[/variant] from an index',
    ...remoteFlagHelp,
    ...registryFlagsHelp,
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(manifestCommand, positionals, 1);
    const transport = transportFor(ctx, values);
    try {
      const image = await readImage(ctx, positionals[0] ?? '', transport, { remote: values.remote });
      const bytes = values.platform ? (await pickImage(image, values.platform, ctx)).bytes : image.root.bytes;
      ctx.stdout.write(bytes);
      return 0;
    } finally {
      await transport.close();
    }
  },
});

/** `ocikit config REF`: the image config bytes. */
export const configCommand = defineCommand({
  name: 'config',
  summary: 'Print the config of an image',
  usage: 'ocikit config [flags] REF',
  description: "For an index, the config of the image for --platform (default: this machine's).",
  options: { platform: { type: 'string' }, ...remoteFlag, ...registryFlags },
  help: { platform: 'which image of an index (os/arch[/variant])', ...remoteFlagHelp, ...registryFlagsHelp },
  async run(ctx, { values, positionals }) {
    expectPositionals(configCommand, positionals, 1);
    const transport = transportFor(ctx, values);
    try {
      const image = await readImage(ctx, positionals[0] ?? '', transport, { remote: values.remote });
      const { bytes } = await readConfig(image, await pickImage(image, values.platform, ctx), ctx);
      ctx.stdout.write(bytes);
      return 0;
    } finally {
      await transport.close();
    }
  },
});
