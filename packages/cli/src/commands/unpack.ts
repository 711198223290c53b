import { parsePlatform } from '@ocikit/image-spec';
import { unpackImage } from '@ocikit/snapshot';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { openLocalImage } from '../lib/image-source.ts';
import { printJson, println } from '../lib/output.ts';
import { layerProgress } from '../lib/progress.ts';

/** `ocikit unpack IMAGE DIR`: an image's layers flattened into DIR. */
export const unpackCommand = defineCommand({
  name: 'unpack',
  summary: "Unpack an image's layers into a directory",
  usage: 'ocikit unpack [--platform P] IMAGE DIR',
  description: 'IMAGE is oci:DIR[:REF] or a reference in the local store. DIR is created when missing.',
  options: { platform: { type: 'string' }, unprivileged: { type: 'boolean' } },
  help: {
    platform: 'which manifest of an index (default: this machine)',
    unprivileged: 'do not set owners or create device nodes, even as root',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(unpackCommand, positionals, 2);
    const { layout, ref } = await openLocalImage(ctx, positionals[0] ?? '');
    const dir = positionals[1] ?? '';
    const root = await layout.resolve(ref, { signal: ctx.signal });
    const progress = layerProgress(ctx);
    const result = await unpackImage(layout, root, dir, {
      ...(values.platform ? { platform: parsePlatform(values.platform) } : {}),
      ...(values.unprivileged ? { privileged: false } : {}),
      signal: ctx.signal,
      onProgress: progress.onProgress,
      onLayer: progress.onLayer,
    });
    progress.end();
    const skipped = result.layers.flatMap((l) => l.skipped);
    for (const s of skipped) if (!ctx.json) ctx.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
    if (ctx.json) {
      printJson(ctx, {
        manifest: result.manifest.digest,
        layers: result.layers.map((l) => ({ diffId: l.diffId, size: l.size, entries: l.entries })),
        skipped,
      });
    } else println(ctx, result.manifest.digest);
    return 0;
  },
});
