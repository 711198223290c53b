import { InvalidArgumentError, isFailedPrecondition } from '@ocikit/errors';
import { parseReference } from '@ocikit/reference';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printFormatted } from '../lib/format.ts';
import { reportError } from '../lib/hints.ts';
import { filterImages, parseImageFilters, selecting } from '../lib/list-filters.ts';
import { localStoreRef } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import { imageRows, imagesFields, imagesItem, imagesTable } from '../lib/views.ts';

/** `ocikit images`: the images in the engine (the local store by default). */
export const imagesCommand = defineCommand({
  name: 'images',
  summary: 'List the images in the engine (the local store by default)',
  usage:
    'ocikit images [-a] [-q] [--filter KEY=VALUE]... [--digests] [--no-trunc] [--format TEMPLATE] [REFERENCE]',
  description:
    "The columns are docker's and podman's, then PLATFORM; one row per name. IMAGE ID is the config digest (for an index, " +
    "this machine's image's, if stored; else the index digest); CREATED is relative to the config's " +
    '`created`. SIZE is as the engine counts it: for the local store as podman, the layers uncompressed, the config ' +
    "and the manifest (twice, as podman keeps it) of an image, and its index; an index without this machine's image alone. PLATFORM is the image config's os/arch[/variant]; for an index, each platform it lists. " +
    'REFERENCE lists only the images of that name (`busybox`, `busybox:1.36`); -a also images only containers keep. ' +
    "--format takes a Go template over docker's fields ({{.Repository}}, {{.Tag}}, {{.ID}}, {{.Digest}}, " +
    '{{.Size}}, {{.CreatedSince}}, {{.CreatedAt}}) and ocikit\'s ({{.Reference}}, {{.Platform}}); "table …" adds headers. ' +
    "--filter takes podman's dangling=true|false, label=K[=V], reference=GLOB (on the name with or without its " +
    'registry, tag, or path), before=IMAGE, since=IMAGE, until=TIME (one: created before it): an image is ' +
    'listed with all its names or not at all; ' +
    'values of one key select any, different keys all. -q prints each image id once (12 hex digits; --no-trunc: sha256:…).',
  options: {
    all: { type: 'boolean', short: 'a' },
    filter: { type: 'string', short: 'f', multiple: true },
    digests: { type: 'boolean' },
    // `--no-trunc`: parseArgs' allowNegative reads it as trunc=false, whatever options exist
    trunc: { type: 'boolean' },
    format: { type: 'string' },
  },
  help: {
    all: 'also images no name keeps (those containers use)',
    filter:
      'dangling=true|false, label=K[=V], reference=GLOB, before=IMAGE, since=IMAGE, until=TIME (repeatable)',
    digests: 'show the DIGEST column',
    trunc: 'shorten image IDs to 12 hex digits (--no-trunc: the whole sha256:…)',
    format: 'print each image with a Go template',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(imagesCommand, positionals, 0, 1);
    const filters = await selecting(ctx, async () => parseImageFilters(values.filter, 'ocikit images'));
    if (filters === 125) return 125;
    const engine = await ctx.engine();
    const listed = await engine.images.list({
      ...(values.all ? { all: true } : {}),
      ...(positionals[0] !== undefined ? { reference: positionals[0] } : {}),
      signal: ctx.signal,
    });
    const images =
      filters.size === 0
        ? listed
        : await selecting(ctx, () =>
            filterImages(listed, filters, async (ref) => {
              const image = await engine.images.inspect(ref, { signal: ctx.signal });
              return image.created;
            }),
          );
    if (images === 125) return 125;
    const rows = imageRows(images);
    const now = Date.now();
    const items = rows.map((r) => imagesItem(r, undefined, now, values.trunc !== false));
    const table = () =>
      printFormatted(ctx, imagesTable(values.digests === true), items, imagesFields, () => {});
    // as podman: each image's id once (an image of two names is one image)
    if (ctx.quiet) for (const id of new Set(items.map((i) => String(i.ID)))) println(ctx, id);
    else if (values.format !== undefined) printFormatted(ctx, values.format, items, imagesFields, table);
    else if (ctx.json) printJson(ctx, rows);
    else table();
    return 0;
  },
});

/** `ocikit rmi REF…`: untag or delete images in the engine. */
export const rmiCommand = defineCommand({
  name: 'rmi',
  summary: 'Remove images from the engine (the local store by default)',
  usage: 'ocikit rmi [-f] REF...',
  description:
    'Every REF (a name or an image id) is looked up first: none is removed when one is missing. A name is untagged; ' +
    "an image's last name (or its id) deletes it, and the local store frees the blobs no remaining image uses " +
    '(blobs written in the last second are kept for the next gc). ' +
    "The last name of an image a container uses is refused (exit 2, as podman); -f removes the name and keeps the image's " +
    'blobs and snapshots for the container until it is removed.',
  options: { force: { type: 'boolean', short: 'f' } },
  help: { force: 'remove the names of images containers use (the containers keep working)' },
  async run(ctx, { values, positionals }) {
    expectPositionals(rmiCommand, positionals, 1, Number.POSITIVE_INFINITY);
    const refs = positionals.map((p) => localStoreRef(p, 'ocikit rmi:'));
    const engine = await ctx.engine();
    // all or nothing for names that do not exist
    for (const ref of refs) await engine.images.inspect(ref, { signal: ctx.signal });
    const untagged: string[] = [];
    const deleted: string[] = [];
    for (const ref of refs) {
      try {
        for (const r of await engine.images.remove(ref, {
          force: values.force === true,
          signal: ctx.signal,
        })) {
          if (r.untagged !== undefined) untagged.push(r.untagged);
          if (r.deleted !== undefined) deleted.push(r.deleted);
        }
      } catch (e) {
        // podman's exit code for an image a container uses
        if (!(isFailedPrecondition(e) && e.details.reason === 'image-in-use')) throw e;
        reportError(ctx.stderr, e, ctx.debug);
        return 2;
      }
    }
    if (ctx.json) printJson(ctx, { untagged, deleted });
    else {
      for (const ref of untagged) println(ctx, `untagged ${ref}`);
      for (const id of deleted) println(ctx, `deleted ${id}`);
    }
    return 0;
  },
});

/** `ocikit tag SRC DST`: give an image another name. */
export const tagCommand = defineCommand({
  name: 'tag',
  summary: 'Give an image in the engine (the local store by default) another name',
  usage: 'ocikit tag SRC DST',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(tagCommand, positionals, 2);
    const src = localStoreRef(positionals[0] ?? '', 'ocikit tag:');
    const dst = parseReference(localStoreRef(positionals[1] ?? '', 'ocikit tag:'));
    if (dst.digest !== undefined) {
      throw new InvalidArgumentError(`ocikit tag: "${positionals[1]}" is a digest reference; give a tag`);
    }
    const engine = await ctx.engine();
    await engine.images.tag(src, dst.toString(), { signal: ctx.signal });
    if (ctx.json) {
      const image = await engine.images.inspect(dst.toString(), { signal: ctx.signal });
      const repoDigest = image.repoDigests.find((d) => d.startsWith(`${dst.name}@`));
      printJson(ctx, {
        reference: dst.toString(),
        id: image.id,
        ...(repoDigest ? { digest: repoDigest.slice(repoDigest.indexOf('@') + 1) } : {}),
      });
    } else if (!ctx.quiet) println(ctx, dst.toString());
    return 0;
  },
});
