import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePlatform } from '@ocikit/image-spec';
import { specFromImageConfig } from '@ocikit/runtime-spec';
import { unpackImage } from '@ocikit/snapshot';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openLocalImage } from '../lib/image-source.ts';
import { printJson, println } from '../lib/output.ts';
import { layerProgress } from '../lib/progress.ts';

/** `ocikit bundle IMAGE DIR`: an OCI runtime bundle (rootfs + config.json) that runc and crun run as it is. */
export const bundleCommand = defineCommand({
  name: 'bundle',
  summary: 'Make an OCI runtime bundle (rootfs and config.json) from an image',
  usage: 'ocikit bundle [--platform P] IMAGE DIR',
  description: "The bundle runs with 'runc run -b DIR ID' or 'crun run -b DIR ID'.",
  options: { platform: { type: 'string' } },
  help: { platform: 'which manifest of an index (default: this machine)' },
  async run(ctx, { values, positionals }) {
    expectPositionals(bundleCommand, positionals, 2);
    const { layout, ref } = await openLocalImage(ctx, positionals[0] ?? '');
    const dir = positionals[1] ?? '';
    const rootfs = join(dir, 'rootfs');
    const progress = layerProgress(ctx);
    const result = await unpackImage(layout, await layout.resolve(ref, { signal: ctx.signal }), rootfs, {
      ...(values.platform ? { platform: parsePlatform(values.platform) } : {}),
      onProgress: progress.onProgress,
      onLayer: progress.onLayer,
      signal: ctx.signal,
    });
    progress.end();
    // made by unpackImage (which names a file in the way); runc needs a traversable bundle
    // directory when it uses a user namespace
    await chmod(dir, 0o755);
    const spec = await specFromImageConfig(result.config, { rootfs });
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`);
    if (ctx.json) printJson(ctx, { manifest: result.manifest.digest, bundle: dir, args: spec.process?.args });
    else println(ctx, dir);
    return 0;
  },
});
