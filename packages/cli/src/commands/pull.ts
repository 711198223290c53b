import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printJson, println } from '../lib/output.ts';
import { copyOptionsFrom } from '../lib/platform-flags.ts';
import {
  engineProgress,
  engineRegistry,
  expectRemote,
  transferFlags,
  transferFlagsHelp,
} from '../lib/registry.ts';
import { signaturePolicyFlag, signaturePolicyFlagHelp } from '../lib/signing.ts';

/** `ocikit pull REF`: pull an image from a registry into the engine (the local store by default). */
export const pullCommand = defineCommand({
  name: 'pull',
  summary: 'Pull an image from a registry into the engine (the local store by default)',
  usage: 'ocikit pull [flags] REF',
  description:
    'Stores the image in the engine, named by its normalized reference (busybox → docker.io/library/busybox:latest); ' +
    'for the local engine, under --root. ' +
    "An index is narrowed to this machine's platform unless --platform or --all-platforms is given. Prints the digest.",
  options: { ...transferFlags, ...signaturePolicyFlag },
  help: { ...transferFlagsHelp, ...signaturePolicyFlagHelp },
  async run(ctx, { values, positionals }) {
    expectPositionals(pullCommand, positionals, 1);
    const arg = positionals[0] ?? '';
    expectRemote(arg, 'ocikit pull: the image');
    const { allPlatforms } = copyOptionsFrom(values); // the flags checked before anything is reached
    const engine = await ctx.engine({ registry: engineRegistry(ctx, values) });
    const progress = engineProgress(ctx);
    const pulled = await engine.images.pull(arg, {
      policy: 'always',
      ...(values.platform !== undefined ? { platform: values.platform } : {}),
      ...(allPlatforms ? { allPlatforms: true } : {}),
      ...(values.insecure ? { tlsVerify: false } : {}),
      onProgress: progress.onProgress,
      signal: ctx.signal,
    });
    progress.end('pulled');
    const digest = pulled.digest ?? pulled.id;
    if (ctx.json) printJson(ctx, { reference: pulled.name, digest, id: pulled.id });
    else println(ctx, digest);
    return 0;
  },
});
