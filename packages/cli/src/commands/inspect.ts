import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseReference, type Reference } from '@ocikit/reference';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { parseTemplate } from '../lib/format.ts';
import { formatBytes, printJson, println, printTable } from '../lib/output.ts';
import {
  pickImage,
  platformsOf,
  readConfig,
  readImage,
  remoteFlag,
  remoteFlagHelp,
} from '../lib/read-image.ts';
import { registryFlags, registryFlagsHelp, transportFor } from '../lib/registry.ts';
import { configPlatform, containerInspectItem, imageInspectItem } from '../lib/views.ts';

/** `ocikit inspect REF`: what an image is, without pulling its layers. */
export const inspectCommand = defineCommand({
  name: 'inspect',
  summary: "Show a container's record, or an image's digest, platforms, config and layers",
  usage: 'ocikit inspect [flags] CONTAINER|REF',
  description:
    'REF is a registry reference, oci:DIR[:REF] or local:REF (the local store). For an index, the image ' +
    "shown is the one for --platform (default: this machine's); every platform is listed. " +
    "-f/--format takes a Go template over docker's and podman's inspect fields: {{.State.Status}}, " +
    '{{.Config.Env}} and {{json .Config}} for a container or an image, {{.Os}}, {{.Architecture}}, ' +
    '{{.RepoTags}}, {{.RootFS.Layers}} for an image.',
  options: {
    platform: { type: 'string' },
    format: { type: 'string', short: 'f' },
    ...remoteFlag,
    ...registryFlags,
  },
  help: {
    platform: 'which image of an index to show (os/arch[/variant])',
    format: 'print the result through a Go template',
    ...remoteFlagHelp,
    ...registryFlagsHelp,
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(inspectCommand, positionals, 1);
    // A container by that name or id comes first, as with podman inspect.
    // (the container modules load only when there are containers: image inspection stays light)
    const container = existsSync(join(ctx.root, 'containers'))
      ? await (await import('./containers.ts')).findContainer(ctx, positionals[0] ?? '')
      : undefined;
    if (container) {
      if (values.format !== undefined)
        println(ctx, parseTemplate(values.format).execute(containerInspectItem(container)));
      else printJson(ctx, container);
      return 0;
    }
    const transport = transportFor(ctx, values);
    try {
      const image = await readImage(ctx, positionals[0] ?? '', transport, { remote: values.remote });
      const { descriptor } = image.root;
      const platforms = platformsOf(image.root);
      const picked = await pickImage(image, values.platform, ctx);
      const { config } = await readConfig(image, picked, ctx);
      const c = config.config ?? {};
      const layers = picked.manifest.layers.map((l) => ({
        digest: l.digest,
        size: l.size,
        mediaType: l.mediaType,
      }));
      const info = {
        reference: image.display,
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        size: descriptor.size,
        ...(platforms.length > 0
          ? {
              platforms: platforms.map((p) => ({
                platform: p.platform,
                digest: p.descriptor.digest,
                size: p.descriptor.size,
              })),
            }
          : {}),
        image: {
          digest: picked.descriptor.digest,
          platform: configPlatform(config),
          created: config.created ?? null,
          author: config.author ?? null,
          config: {
            user: c.User ?? null,
            env: c.Env ?? [],
            entrypoint: c.Entrypoint ?? null,
            cmd: c.Cmd ?? null,
            workingDir: c.WorkingDir ?? null,
            labels: c.Labels ?? {},
            exposedPorts: Object.keys(c.ExposedPorts ?? {}),
            stopSignal: c.StopSignal ?? null,
          },
          layers,
          totalSize:
            picked.manifest.config.size + layers.reduce((n, l) => n + l.size, 0) + picked.descriptor.size,
        },
      };
      const img = info.image;
      if (values.format !== undefined) {
        let name: Reference | undefined;
        if (image.kind !== 'oci') name = parseReference(image.display);
        const item = imageInspectItem({
          repository: name?.name,
          tag: name?.tag,
          digest: descriptor.digest,
          mediaType: descriptor.mediaType,
          configDigest: picked.manifest.config.digest,
          size: img.totalSize,
          config,
        });
        println(ctx, parseTemplate(values.format).execute(item));
        return 0;
      }
      if (ctx.json) {
        printJson(ctx, info);
        return 0;
      }
      if (ctx.quiet) {
        println(ctx, descriptor.digest);
        return 0;
      }
      const rows: [string, string][] = [
        ['Reference', info.reference],
        ['Digest', info.digest],
        ['Media type', info.mediaType],
      ];
      if (info.platforms) rows.push(['Platforms', info.platforms.map((p) => p.platform).join(', ')]);
      rows.push(['Image', `${img.digest} (${img.platform})`]);
      if (img.created) rows.push(['Created', img.created]);
      if (img.config.entrypoint) rows.push(['Entrypoint', JSON.stringify(img.config.entrypoint)]);
      if (img.config.cmd) rows.push(['Cmd', JSON.stringify(img.config.cmd)]);
      if (img.config.workingDir) rows.push(['Working dir', img.config.workingDir]);
      if (img.config.user) rows.push(['User', img.config.user]);
      for (const e of img.config.env) rows.push(['Env', e]);
      for (const [k, v] of Object.entries(img.config.labels)) rows.push(['Label', `${k}=${v}`]);
      rows.push(['Size', `${formatBytes(img.totalSize)} in ${layers.length} layer(s)`]);
      for (const [k, v] of rows) println(ctx, `${`${k}:`.padEnd(13)}${v}`);
      println(ctx);
      printTable(
        ctx,
        ['LAYER', 'SIZE', 'MEDIA TYPE'],
        layers.map((l) => [l.digest, formatBytes(l.size), l.mediaType]),
      );
      return 0;
    } finally {
      await transport.close();
    }
  },
});
