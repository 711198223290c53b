// The image operations of the local engine (and, through system.ts, its system operations), over
// the local store ROOT/content.
import { copy, type OciLayout } from '@ocikit/content';
import {
  type CallOptions,
  engineError,
  type Handlers,
  type ImageDetails,
  type ImageListOptions,
  type ImageRemoved,
  type ImageRemoveOptions,
  type ImageSummary,
  type PushedImage,
  type PushOptions,
} from '@ocikit/engine';
import { Annotation, type Descriptor } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { openRepository } from '@ocikit/registry';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';
import { loadImages, saveImages } from './image-archive.ts';
import { progressOf, pullImage, registryError } from './image-pull.ts';
import { type LocalImageRaw, layerSizesOf, readRoot, summaryOf } from './image-read.ts';
import { badReference, openImageStore, registriesConf, requireImage, transportFor } from './image-store.ts';
import { imagesInUse, pinImage } from './image-use.ts';
import { systemHandlers } from './system.ts';

const refName = (d: Descriptor) => d.annotations?.[Annotation.RefName];
const opts = (signal: AbortSignal | undefined) => (signal ? { signal } : {});

/** The stored roots with their names, one per digest, in the order the store lists them. */
async function storedImages(
  store: OciLayout,
  signal?: AbortSignal,
): Promise<Map<string, { root: Descriptor; names: string[] }>> {
  const images = new Map<string, { root: Descriptor; names: string[] }>();
  for (const d of await store.list(opts(signal))) {
    const entry = images.get(d.digest) ?? { root: d, names: [] };
    const name = refName(d);
    if (name !== undefined) entry.names.push(name);
    images.set(d.digest, entry);
  }
  return images;
}

/** Whether a stored name matches `images.list`'s reference filter (a name, with or without a tag). */
function matchesReference(name: string, filter: string): boolean {
  const parsed = parseReference(filter);
  const explicitTag =
    /:[\w][\w.-]*$/.test(filter.slice(filter.lastIndexOf('/') + 1)) || parsed.digest !== undefined;
  if (explicitTag) return name === parsed.toString();
  try {
    return parseReference(name).name === parsed.name;
  } catch {
    return false;
  }
}

/** `images.list`: every stored image (and with `all`, images only containers keep), newest first. */
async function listImages(ctx: LocalContext, options: ImageListOptions): Promise<ImageSummary[]> {
  const { signal } = options;
  const store = await openImageStore(ctx, signal);
  const images = await storedImages(store, signal);
  if (options.all) {
    for (const use of await imagesInUse(ctx, store))
      if (!images.has(use.image.digest)) images.set(use.image.digest, { root: use.image, names: [] });
  }
  let filter: string | undefined;
  if (options.reference !== undefined) {
    try {
      parseReference(options.reference);
      filter = options.reference;
    } catch (e) {
      throw badReference(options.reference, 'images.list', e);
    }
  }
  const out: ImageSummary[] = [];
  for (const { root, names } of images.values()) {
    if (filter !== undefined && !names.some((n) => matchesReference(n, filter))) continue;
    if (!(await store.exists(root))) continue; // a pin of an image gc could not keep
    const raw = await readRoot(store, root, signal);
    out.push(summaryOf(raw, names, await layerSizesOf(ctx, store, raw, signal)));
  }
  return out.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

/** `images.inspect`: one image by name or id, its OCI documents as `raw` ({@link LocalImageRaw}). */
async function inspectImage(ctx: LocalContext, ref: string, options: CallOptions): Promise<ImageDetails> {
  const { signal } = options;
  const store = await openImageStore(ctx, signal);
  const found = await requireImage(ctx, store, ref, 'images.inspect', signal);
  const names = (await storedImages(store, signal)).get(found.descriptor.digest)?.names ?? [];
  const raw = await readRoot(store, found.descriptor, signal);
  const summary = summaryOf(raw, names, await layerSizesOf(ctx, store, raw, signal));
  const c = raw.config;
  const run = c?.config ?? {};
  return {
    ...summary,
    os: c?.os ?? '',
    architecture: c?.architecture ?? '',
    ...(c?.variant !== undefined ? { variant: c.variant } : {}),
    config: {
      ...(run.User !== undefined ? { user: run.User } : {}),
      env: run.Env ?? [],
      ...(run.Entrypoint ? { entrypoint: run.Entrypoint } : {}),
      ...(run.Cmd ? { cmd: run.Cmd } : {}),
      ...(run.WorkingDir !== undefined ? { workingDir: run.WorkingDir } : {}),
      exposedPorts: Object.keys(run.ExposedPorts ?? {}),
      volumes: Object.keys(run.Volumes ?? {}),
      labels: { ...(run.Labels ?? {}) },
      ...(run.StopSignal !== undefined ? { stopSignal: run.StopSignal } : {}),
    },
    diffIds: c?.rootfs.diff_ids ?? [],
    ...(c?.author !== undefined ? { author: c.author } : {}),
    raw,
  };
}

/**
 * `images.remove`: a name is untagged; an id (or a name's last tag) deletes the image, its blobs
 * freed by a gc of the store. An image a container uses keeps its last name unless `force`
 * (`image-in-use`); under force it loses its names but stays, pinned, until its last container is
 * removed (decision 085). An id of an image with several names needs `force` too.
 */
async function removeImage(
  ctx: LocalContext,
  ref: string,
  options: ImageRemoveOptions,
): Promise<ImageRemoved[]> {
  const { signal } = options;
  const operation = 'images.remove';
  const store = await openImageStore(ctx, signal);
  const found = await requireImage(ctx, store, ref, operation, signal);
  const digest = found.descriptor.digest;
  const allNames = (await storedImages(store, signal)).get(digest)?.names ?? [];
  const removing = found.name !== undefined ? [found.name] : allNames;
  const id = summaryOf(await readRoot(store, found.descriptor, signal), allNames).id;
  if (found.name === undefined && allNames.length > 1 && !options.force)
    throw engineError('bad-argument', {
      engine: 'local',
      operation,
      message: `image ${ref} has several names (${allNames.join(', ')}): remove them one by one, or with force`,
      extra: { image: ref },
    });
  const keptByAnotherName = allNames.some((n) => !removing.includes(n));
  const uses = (await imagesInUse(ctx, store)).filter((u) => u.image.digest === digest);
  const use = uses[0];
  if (use && !keptByAnotherName && !options.force) {
    const image = removing[0] ?? ref;
    throw engineError('image-in-use', {
      engine: 'local',
      operation,
      message: `image used by ${use.container.id}: image is in use by a container`,
      hint: `container ${use.container.name} uses ${image}; remove the container first, or remove the image with force (the container keeps it)`,
      extra: { image, container: use.container.id, name: use.container.name },
    });
  }
  const removed: ImageRemoved[] = [];
  // the containers using it keep it whatever its names become: pinned until they are removed
  for (const u of uses) pinImage(ctx, u.container, u.image);
  for (const name of removing) {
    await store.untag(name, opts(signal));
    removed.push({ untagged: name });
    await recordEvent(ctx, { type: 'image', action: 'untag', id, attributes: { name } });
  }
  if (!keptByAnotherName && uses.length === 0) {
    removed.push({ deleted: id });
    await recordEvent(ctx, { type: 'image', action: 'delete', id, attributes: { name: removing[0] ?? ref } });
  }
  const roots = (await imagesInUse(ctx, store)).map((u) => u.image);
  await store.gc({ roots, ...opts(signal) });
  return removed;
}

/** `images.tag`: `target` (normalized; a tag, not a digest) names the image `source` finds. */
async function tagImage(
  ctx: LocalContext,
  source: string,
  target: string,
  options: CallOptions,
): Promise<void> {
  const { signal } = options;
  const operation = 'images.tag';
  let dst: ReturnType<typeof parseReference>;
  try {
    dst = parseReference(target);
  } catch (e) {
    throw badReference(target, operation, e);
  }
  if (dst.digest !== undefined)
    throw engineError('bad-argument', {
      engine: 'local',
      operation,
      message: `${JSON.stringify(target)} is a digest reference; give a tag`,
    });
  const store = await openImageStore(ctx, signal);
  const found = await requireImage(ctx, store, source, operation, signal);
  await store.tag(found.descriptor, dst.toString(), opts(signal));
  const id = summaryOf(await readRoot(store, found.descriptor, signal), []).id;
  await recordEvent(ctx, { type: 'image', action: 'tag', id, attributes: { name: dst.toString() } });
}

/**
 * `images.push`: the stored image `ref` names (a name, not an id) to that name's registry: blobs the
 * registry has are skipped, blobs of another repository there are mounted. Refused when
 * registries.conf blocks the registry.
 */
async function pushImage(ctx: LocalContext, ref: string, options: PushOptions): Promise<PushedImage> {
  const { signal } = options;
  const operation = 'images.push';
  const store = await openImageStore(ctx, signal);
  const found = await requireImage(ctx, store, ref, operation, signal);
  if (found.name === undefined)
    throw engineError('bad-argument', {
      engine: 'local',
      operation,
      message: `push needs an image's name, not its id ${ref}`,
    });
  const name = parseReference(found.name);
  (await registriesConf(ctx)).checkBlocked(name, 'push');
  const transport = transportFor(ctx, { tlsVerify: options.tlsVerify, auth: options.auth });
  try {
    const repo = openRepository(name, { transport });
    const onProgress = progressOf('push', options.onProgress);
    const desc = await copy(store, found.name, repo, name.digest ?? name.tag ?? 'latest', {
      concurrency: ctx.registry.concurrency ?? 8,
      ...(onProgress ? { onProgress } : {}),
      ...opts(signal),
    });
    options.onProgress?.({ status: `${name.tag ?? 'latest'}: digest: ${desc.digest} size: ${desc.size}` });
    await recordEvent(ctx, {
      type: 'image',
      action: 'push',
      id: found.name,
      attributes: { name: found.name, digest: desc.digest },
    });
    return { digest: desc.digest };
  } catch (e) {
    throw registryError(e, ref, operation);
  } finally {
    await transport.close();
  }
}

/**
 * The image and system operations of the local engine: pull, list, inspect, remove, tag, push,
 * save and load (docker-archive) over the local store, and ping, version, info and events (see
 * `system.ts`).
 */
export function imageHandlers(ctx: LocalContext): Partial<Handlers> {
  return {
    'images.pull': (ref, options) => pullImage(ctx, ref, options),
    'images.list': (options) => listImages(ctx, options),
    'images.inspect': (ref, options) => inspectImage(ctx, ref, options),
    'images.remove': (ref, options) => removeImage(ctx, ref, options),
    'images.tag': (source, target, options) => tagImage(ctx, source, target, options),
    'images.push': (ref, options) => pushImage(ctx, ref, options),
    'images.save': (refs, options) => saveImages(ctx, refs, options),
    'images.load': (archive, options) => loadImages(ctx, archive, options),
    ...systemHandlers(ctx),
  };
}
