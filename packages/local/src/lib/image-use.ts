// Which images of the local store containers use, so that images.remove refuses to remove them,
// removes only their names under force, and gc keeps them until the container is gone (decision 085).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OciLayout } from '@ocikit/content';
import { Annotation, type Descriptor, parseDescriptor } from '@ocikit/image-spec';
import type { ContainerRecord } from '@ocikit/shim';
import type { LocalContext } from './context.ts';

/** An image a container uses: the container, and the image's root descriptor in the store. */
export interface ImageUse {
  /** The container's record. */
  container: ContainerRecord;
  /** The image's root (manifest or index) in the store. */
  image: Descriptor;
}

const pinsDir = (ctx: LocalContext) => join(ctx.root, 'image-pins');

/** Every container record of the state root (none when there never was one; the shim loads only then). */
export async function containerRecords(ctx: LocalContext): Promise<ContainerRecord[]> {
  if (!existsSync(join(ctx.root, 'containers'))) return [];
  const { Containers } = await import('@ocikit/shim');
  return new Containers({ root: ctx.root }).list();
}

/**
 * The images containers use: the image pinned for a container when it was made (whatever its name
 * points at since), else the image its record names (a stored name, or the root digest it was made
 * from by id). Pins of containers that are gone are dropped.
 */
export async function imagesInUse(ctx: LocalContext, store: OciLayout): Promise<ImageUse[]> {
  const containers = await containerRecords(ctx);
  const entries = await store.list();
  const byName = new Map<string, Descriptor>();
  for (const d of entries) {
    const name = d.annotations?.[Annotation.RefName];
    if (name !== undefined) byName.set(name, d);
  }
  const uses: ImageUse[] = [];
  const ids = new Set<string>();
  for (const container of containers) {
    ids.add(container.id);
    // the image it was made from, pinned at create; a container made before pins were: its name's
    const pinned = readPin(ctx, container.id);
    const named = pinned
      ? undefined
      : (byName.get(container.image) ?? entries.find((d) => d.digest === container.image));
    const image = pinned ?? named;
    if (image) uses.push({ container, image });
  }
  for (const file of existsSync(pinsDir(ctx)) ? readdirSync(pinsDir(ctx)) : []) {
    if (!ids.has(file.replace(/\.json$/, ''))) rmSync(join(pinsDir(ctx), file), { force: true });
  }
  return uses;
}

/**
 * Records that `container` uses `image` (its root descriptor in the store): at create, so that a
 * pull or tag moving the name it was made from leaves its image in use, and again on a forced remove.
 */
export function pinImage(ctx: LocalContext, container: Pick<ContainerRecord, 'id'>, image: Descriptor): void {
  // a small state file: written synchronously, as every small state file (decision 103)
  mkdirSync(pinsDir(ctx), { recursive: true });
  const plain = { mediaType: image.mediaType, digest: image.digest, size: image.size };
  writeFileSync(join(pinsDir(ctx), `${container.id}.json`), `${JSON.stringify(plain)}\n`);
}

/** Drops the pin of container `id` (removed): its image is no longer in use by it. */
export function unpinImage(ctx: LocalContext, id: string): void {
  rmSync(join(pinsDir(ctx), `${id}.json`), { force: true });
}

function readPin(ctx: LocalContext, id: string): Descriptor | undefined {
  try {
    return parseDescriptor(readFileSync(join(pinsDir(ctx), `${id}.json`)));
  } catch {
    return undefined; // no pin (or a torn one: the named image still protects it when there is one)
  }
}
