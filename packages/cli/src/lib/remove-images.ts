import type { GcResult, OciLayout } from '@ocikit/content';
import { FailedPreconditionError, NotFoundError } from '@ocikit/errors';
import { Annotation } from '@ocikit/image-spec';
import type { Context } from './command.ts';
import { imagesInUse, pinImage } from './image-use.ts';

/** What {@link removeImages} did. */
export interface RemovedImages {
  untagged: string[];
  gc: GcResult;
}

/**
 * Removes names from the local store, then the blobs nothing uses. A name whose image a container
 * uses may go while another name keeps the image, as podman allows; removing its last name fails
 * with FailedPreconditionError (reason `image-in-use`, podman's words and, in the CLI, its exit code
 * 2) unless `force`: then the image loses its names but stays, with its blobs, until its last
 * container is removed (decision 085). NotFoundError when a name is not in the store.
 */
export async function removeImages(
  ctx: Context,
  store: OciLayout,
  refs: readonly string[],
  force: boolean,
): Promise<RemovedImages> {
  const entries = await store.list();
  const digestOf = new Map(entries.map((d) => [d.annotations?.[Annotation.RefName], d.digest]));
  const missing = refs.filter((r) => !digestOf.has(r));
  if (missing.length > 0) {
    throw new NotFoundError(`no image ${missing.join(', ')} in the local store`, {
      details: { reason: 'no-such-image', names: missing },
    });
  }
  const removing = new Set(refs);
  const uses = await imagesInUse(ctx, store);
  for (const ref of refs) {
    const digest = digestOf.get(ref);
    const keptByAnotherName = entries.some(
      (d) => d.digest === digest && !removing.has(d.annotations?.[Annotation.RefName] ?? ''),
    );
    const use = uses.find((u) => u.image.digest === digest);
    if (use && !keptByAnotherName && !force) {
      throw new FailedPreconditionError(`image used by ${use.container.id}: image is in use by a container`, {
        details: {
          reason: 'image-in-use',
          image: ref,
          container: use.container.id,
          name: use.container.name,
        },
        hint: `container ${use.container.name} uses ${ref}; remove the container first, or remove the image with force (the container keeps it)`,
      });
    }
  }
  for (const ref of refs) {
    const digest = digestOf.get(ref);
    // the containers using it keep it under no name: pinned until they are removed
    for (const u of uses) if (u.image.digest === digest) pinImage(ctx, u.container, u.image);
    await store.untag(ref, { signal: ctx.signal });
  }
  const roots = (await imagesInUse(ctx, store)).map((u) => u.image);
  return { untagged: [...refs], gc: await store.gc({ roots, signal: ctx.signal }) };
}
