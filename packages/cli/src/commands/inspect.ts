import { fetchAll } from '@ocikit/content';
import type { ImageDetails } from '@ocikit/engine';
import { isInvalidArgument, isNotFound } from '@ocikit/errors';
import type { LocalImageRaw } from '@ocikit/local';
import { parseReference, type Reference } from '@ocikit/reference';
import { type Context, defineCommand, expectPositionals } from '../lib/command.ts';
import { parseTemplate } from '../lib/format.ts';
import { parseLocation } from '../lib/location.ts';
import { formatBytes, printJson, println, printTable } from '../lib/output.ts';
import {
  pickImage,
  platformsOf,
  type ReadableImage,
  readConfig,
  readImage,
  remoteFlag,
  remoteFlagHelp,
} from '../lib/read-image.ts';
import {
  engineRegistry,
  openStore,
  registryFlags,
  registryFlagsHelp,
  transportFor,
} from '../lib/registry.ts';
import { configPlatform, containerInspectItem, imageInspectItem } from '../lib/views.ts';

/** The engine a command with registry flags asks for. */
function engineRequest(ctx: Context, values: Parameters<typeof engineRegistry>[1]) {
  return { registry: engineRegistry(ctx, values) };
}

/**
 * An image of the local engine, read from its store as any layout image (so `--platform` picks
 * among the platforms it holds): its root is the one the engine's inspect found (`raw`).
 */
async function storedImage(ctx: Context, details: ImageDetails, ref: string): Promise<ReadableImage> {
  const raw = details.raw as LocalImageRaw;
  const own = (() => {
    try {
      return parseReference(ref).toString();
    } catch {
      return undefined;
    }
  })();
  const display =
    details.repoTags.find((t) => t === own) ??
    (own !== undefined && details.repoDigests.includes(own) ? own : undefined) ??
    details.repoTags[0] ??
    raw.descriptor.digest;
  const store = await openStore(ctx);
  const bytes = await fetchAll(store, raw.descriptor, { signal: ctx.signal });
  return { target: store, display, kind: 'local', root: { descriptor: raw.descriptor, bytes } };
}

/** An image of another engine (dockerd, podman): what its inspect says. */
function printEngineImage(ctx: Context, d: ImageDetails, format: string | undefined): void {
  if (format !== undefined) {
    println(ctx, parseTemplate(format).execute(imageInspectItem(d)));
    return;
  }
  if (ctx.json) {
    printJson(ctx, d.raw ?? d);
    return;
  }
  if (ctx.quiet) {
    println(ctx, d.id);
    return;
  }
  const rows: [string, string][] = [
    ['Reference', d.repoTags[0] ?? '<none>'],
    ['Id', d.id],
  ];
  for (const r of d.repoDigests) rows.push(['Digest', r.slice(r.indexOf('@') + 1)]);
  rows.push(['Image', `${d.os}/${d.architecture}${d.variant ? `/${d.variant}` : ''}`]);
  if (d.created) rows.push(['Created', d.created]);
  if (d.config.entrypoint) rows.push(['Entrypoint', JSON.stringify(d.config.entrypoint)]);
  if (d.config.cmd) rows.push(['Cmd', JSON.stringify(d.config.cmd)]);
  if (d.config.workingDir) rows.push(['Working dir', d.config.workingDir]);
  if (d.config.user) rows.push(['User', d.config.user]);
  for (const e of d.config.env) rows.push(['Env', e]);
  for (const [k, v] of Object.entries(d.config.labels)) rows.push(['Label', `${k}=${v}`]);
  rows.push(['Size', `${formatBytes(d.size)} in ${d.diffIds.length} layer(s)`]);
  for (const [k, v] of rows) println(ctx, `${`${k}:`.padEnd(13)}${v}`);
}

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
    const arg = positionals[0] ?? '';
    const location = parseLocation(arg);
    const engine =
      location.kind !== 'oci' && !values.remote ? await ctx.engine(engineRequest(ctx, values)) : undefined;
    // A container by that name or id comes first, as with podman inspect.
    if (engine && location.kind === 'registry' && engine.has('containers.inspect')) {
      const container = await engine.containers.inspect(arg, { signal: ctx.signal }).catch((e: unknown) => {
        // no container, or the start of several ids: then it names an image
        if (isNotFound(e) || (isInvalidArgument(e) && typeof e.details.matches === 'number'))
          return undefined;
        throw e;
      });
      if (container) {
        if (values.format !== undefined)
          println(ctx, parseTemplate(values.format).execute(containerInspectItem(container)));
        else printJson(ctx, container.raw ?? container);
        return 0;
      }
    }
    // then an image of the engine (the local store first, decision 083), else the registry's
    const stored = location.kind === 'oci' ? undefined : location.ref;
    const details =
      engine && stored !== undefined
        ? await engine.images.inspect(stored, { signal: ctx.signal }).catch((e: unknown) => {
            if (isNotFound(e) && location.kind === 'registry') return undefined;
            throw e;
          })
        : undefined;
    if (engine && details && engine.engine !== 'local') {
      printEngineImage(ctx, details, values.format);
      return 0;
    }
    const transport = transportFor(ctx, values);
    try {
      const image =
        details && stored !== undefined
          ? await storedImage(ctx, details, stored)
          : await readImage(ctx, arg, transport, { remote: true });
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
          // the local engine's image: the size it lists (uncompressed, as podman's: decision 215)
          totalSize:
            details &&
            (details.raw as LocalImageRaw | undefined)?.manifest?.descriptor.digest ===
              picked.descriptor.digest
              ? details.size
              : picked.manifest.config.size + layers.reduce((n, l) => n + l.size, 0) + picked.descriptor.size,
        },
      };
      const img = info.image;
      if (values.format !== undefined) {
        let name: Reference | undefined;
        if (image.kind !== 'oci' && !image.display.startsWith('sha256:'))
          name = parseReference(image.display);
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
