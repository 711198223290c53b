import { fetchAll, type OciLayout } from '@ocikit/content';
import { InvalidArgumentError, isFailedPrecondition } from '@ocikit/errors';
import {
  Annotation,
  type Descriptor,
  formatPlatform,
  hostPlatform,
  isIndexMediaType,
  isManifestMediaType,
  matchPlatform,
  parseImageConfig,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printFormatted } from '../lib/format.ts';
import { reportError } from '../lib/hints.ts';
import { localStoreRef } from '../lib/location.ts';
import { formatBytes, printJson, println } from '../lib/output.ts';
import { openStore } from '../lib/registry.ts';
import { configPlatform, type ImageRow, imagesFields, imagesItem, imagesTable } from '../lib/views.ts';

/** Repository and tag of a stored name, as docker's REPOSITORY and TAG columns split it. */
function nameParts(reference: string): { repository: string; tag: string } {
  try {
    const ref = parseReference(reference);
    return { repository: ref.name, tag: ref.tag ?? '<none>' };
  } catch {
    return { repository: '<none>', tag: '<none>' };
  }
}

/** The platform, config digest, creation time and size of one stored image: what `images` lists. */
async function imageRow(store: OciLayout, d: Descriptor, signal: AbortSignal): Promise<ImageRow> {
  const row: ImageRow = {
    reference: d.annotations?.[Annotation.RefName] ?? '<none>',
    digest: d.digest,
    id: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    platform: d.platform ? formatPlatform(d.platform) : null,
    created: null,
  };
  // a manifest's config: the image ID (docker's and podman's), its platform and creation time
  const readManifest = async (m: Descriptor) => {
    const manifest = parseManifest(await fetchAll(store, m, { signal }));
    const config = parseImageConfig(await fetchAll(store, manifest.config, { signal }));
    return { manifest, config };
  };
  if (isManifestMediaType(d.mediaType)) {
    const { manifest, config } = await readManifest(d);
    row.size += manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    row.platform = configPlatform(config);
    row.id = manifest.config.digest;
    row.created = config.created ?? null;
  } else if (isIndexMediaType(d.mediaType)) {
    const index = parseIndex(await fetchAll(store, d, { signal }));
    const platforms = index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : []));
    if (platforms.length > 0) row.platform = [...new Set(platforms)].join(', ');
    // as podman: the ID and creation time of this machine's image, when the store holds it
    const host = index.manifests.find(
      (m) => isManifestMediaType(m.mediaType) && m.platform && matchPlatform(hostPlatform(), m.platform),
    );
    if (host && (await store.exists(host))) {
      const { manifest, config } = await readManifest(host);
      row.id = manifest.config.digest;
      row.created = config.created ?? null;
    }
  }
  return row;
}

/** `ocikit images`: the images in the local store. */
export const imagesCommand = defineCommand({
  name: 'images',
  summary: 'List the images in the local store',
  usage: 'ocikit images [--digests] [--no-trunc] [--format TEMPLATE]',
  description:
    "The columns are docker's and podman's, then PLATFORM. IMAGE ID is the config digest (for an index, " +
    "this machine's image's, if stored; else the index digest); CREATED is relative to the config's " +
    '`created`. SIZE is the manifest, config and layers (compressed) for an image; for an index, the ' +
    "index alone. PLATFORM is the image config's os/arch[/variant]; for an index, each platform it lists. " +
    "--format takes a Go template over docker's fields ({{.Repository}}, {{.Tag}}, {{.ID}}, {{.Digest}}, " +
    '{{.Size}}, {{.CreatedSince}}, {{.CreatedAt}}) and ocikit\'s ({{.Reference}}, {{.Platform}}); "table …" adds headers.',
  options: {
    digests: { type: 'boolean' },
    // `--no-trunc`: parseArgs' allowNegative reads it as trunc=false, whatever options exist
    trunc: { type: 'boolean' },
    format: { type: 'string' },
  },
  help: {
    digests: 'show the DIGEST column',
    trunc: 'shorten image IDs to 12 hex digits (--no-trunc: the whole sha256:…)',
    format: 'print each image with a Go template',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(imagesCommand, positionals, 0);
    const store = await openStore(ctx);
    const rows: ImageRow[] = [];
    for (const d of await store.list()) rows.push(await imageRow(store, d, ctx.signal));
    rows.sort((a, b) => a.reference.localeCompare(b.reference));
    const now = Date.now();
    const items = rows.map((r) => imagesItem(r, nameParts(r.reference), now, values.trunc !== false));
    const table = () =>
      printFormatted(ctx, imagesTable(values.digests === true), items, imagesFields, () => {});
    if (ctx.quiet) for (const r of rows) println(ctx, r.reference);
    else if (values.format !== undefined) printFormatted(ctx, values.format, items, imagesFields, table);
    else if (ctx.json) printJson(ctx, rows);
    else table();
    return 0;
  },
});

/** `ocikit rmi REF…`: untag images in the local store and free blobs nothing else uses. */
export const rmiCommand = defineCommand({
  name: 'rmi',
  summary: 'Remove images from the local store',
  usage: 'ocikit rmi [-f] REF...',
  description:
    'Removes the names, then the blobs no remaining image uses (blobs written in the last second are kept for the next gc). ' +
    "The last name of an image a container uses is refused (exit 2, as podman); -f removes the name and keeps the image's " +
    'blobs and snapshots for the container until it is removed.',
  options: { force: { type: 'boolean', short: 'f' } },
  help: { force: 'remove the names of images containers use (the containers keep working)' },
  async run(ctx, { values, positionals }) {
    expectPositionals(rmiCommand, positionals, 1, Number.POSITIVE_INFINITY);
    const refs = positionals.map((p) => parseReference(localStoreRef(p, 'ocikit rmi:')).toString());
    const { removeImages } = await import('../lib/remove-images.ts');
    let removed: Awaited<ReturnType<typeof removeImages>>;
    try {
      removed = await removeImages(ctx, await openStore(ctx), refs, values.force === true);
    } catch (e) {
      // podman's exit code for an image a container uses
      if (!(isFailedPrecondition(e) && e.details.reason === 'image-in-use')) throw e;
      reportError(ctx.stderr, e, ctx.debug);
      return 2;
    }
    const { untagged, gc } = removed;
    if (ctx.json) printJson(ctx, { untagged, removedBlobs: gc.removed.length, bytes: gc.bytes });
    else {
      for (const ref of untagged) println(ctx, `untagged ${ref}`);
      if (!ctx.quiet) ctx.stderr.write(`removed ${gc.removed.length} blob(s), ${formatBytes(gc.bytes)}\n`);
    }
    return 0;
  },
});

/** `ocikit tag SRC DST`: give a local image another name. */
export const tagCommand = defineCommand({
  name: 'tag',
  summary: 'Give an image in the local store another name',
  usage: 'ocikit tag SRC DST',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(tagCommand, positionals, 2);
    const store = await openStore(ctx);
    const src = parseReference(localStoreRef(positionals[0] ?? '', 'ocikit tag:')).toString();
    const dst = parseReference(localStoreRef(positionals[1] ?? '', 'ocikit tag:'));
    if (dst.digest !== undefined) {
      throw new InvalidArgumentError(`ocikit tag: "${positionals[1]}" is a digest reference; give a tag`);
    }
    const desc = await store.resolve(src, { signal: ctx.signal });
    await store.tag(desc, dst.toString(), { signal: ctx.signal });
    if (ctx.json) printJson(ctx, { reference: dst.toString(), digest: desc.digest });
    else if (!ctx.quiet) println(ctx, dst.toString());
    return 0;
  },
});
