// images.history of the local engine: the steps that made an image, from its config's `history`
// and its manifest's layers, newest first as `docker history` shows them.
import { fetchAll, type OciLayout, selectManifest } from '@ocikit/content';
import type { CallOptions, HistoryEntry } from '@ocikit/engine';
import { Annotation, type Descriptor, type ImageConfig, parseImageConfig } from '@ocikit/image-spec';
import type { LocalContext } from './context.ts';
import { openImageStore, requireImage } from './image-store.ts';
import { uncompressedLayerSizes } from './layer-size.ts';

/** An image of the store as history needs it: its id, config and layers. */
interface ImageFacts {
  id: string;
  config: ImageConfig;
  layers: Descriptor[];
}

async function factsOf(store: OciLayout, root: Descriptor, signal?: AbortSignal): Promise<ImageFacts> {
  const opts = signal ? { signal } : {};
  const { manifest } = await selectManifest(store, root, opts);
  const config = parseImageConfig(await fetchAll(store, manifest.config, opts));
  return { id: manifest.config.digest, config, layers: manifest.layers };
}

/**
 * The steps of a config, oldest first, with the sizes of its layers: its `history`, or one unnamed
 * step per layer when it has none.
 */
function stepsOf(
  facts: ImageFacts,
  layerSizes: readonly number[],
): { createdBy: string; emptyLayer: boolean; size: number }[] {
  const history = facts.config.history ?? [];
  let layer = 0;
  if (history.length === 0) return layerSizes.map((size) => ({ createdBy: '', emptyLayer: false, size }));
  return history.map((h) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : (layerSizes[layer] ?? 0);
    if (!empty) layer++;
    return { createdBy: h.created_by ?? '', emptyLayer: empty, size };
  });
}

/** True when `base`'s steps and layers begin `image`'s: `image` was made on top of `base`. */
function isBaseOf(base: ImageFacts, image: ImageFacts): boolean {
  const bh = base.config.history ?? [];
  const ih = image.config.history ?? [];
  const bl = base.config.rootfs.diff_ids;
  const il = image.config.rootfs.diff_ids;
  if (bh.length === 0 || bh.length >= ih.length || bl.length > il.length) return false;
  const sameStep = (i: number) =>
    (bh[i]?.created_by ?? '') === (ih[i]?.created_by ?? '') &&
    (bh[i]?.created ?? '') === (ih[i]?.created ?? '');
  return bh.every((_, i) => sameStep(i)) && bl.every((d, i) => d === il[i]);
}

/**
 * `images.history`: the image's steps newest first, from its config's `history` (a config without
 * one gives a step per layer). A step's size is its layer's uncompressed size, as podman and docker
 * count it (measured once per layer, then cached: {@link uncompressedLayerSizes}; 0 for a step that
 * made no layer). The newest step has the image's id and names; an older step has the id
 * and names of a stored image it ends (a base image this one was built or committed on), else none
 * (`<missing>`, as Docker shows it).
 */
export async function imageHistory(
  ctx: LocalContext,
  ref: string,
  options: CallOptions,
): Promise<HistoryEntry[]> {
  const { signal } = options;
  const store = await openImageStore(ctx, signal);
  const found = await requireImage(ctx, store, ref, 'images.history', signal);
  const image = await factsOf(store, found.descriptor, signal);
  const sizes = await uncompressedLayerSizes(ctx, store, image.layers, image.config.rootfs.diff_ids, signal);
  const steps = stepsOf(image, sizes);
  // the stored images, by id, with their names: those this image is built on name older steps
  const names = new Map<string, string[]>();
  const roots = new Map<string, Descriptor>();
  for (const d of await store.list(signal ? { signal } : {})) {
    roots.set(d.digest, d);
    const name = d.annotations?.[Annotation.RefName];
    if (name !== undefined && !name.includes('@'))
      names.set(d.digest, [...(names.get(d.digest) ?? []), name]);
  }
  const known = new Map<number, { id: string; tags: string[] }>();
  for (const [digest, root] of roots) {
    const facts =
      root.digest === found.descriptor.digest
        ? image
        : await factsOf(store, root, signal).catch(() => undefined);
    if (!facts) continue; // an index without this machine's image, or a foreign artifact
    const tags = names.get(digest) ?? [];
    if (facts.id === image.id) {
      const top = known.get(steps.length - 1);
      known.set(steps.length - 1, { id: image.id, tags: [...new Set([...(top?.tags ?? []), ...tags])] });
    } else if (isBaseOf(facts, image)) {
      const at = (facts.config.history ?? []).length - 1;
      const have = known.get(at);
      known.set(at, { id: facts.id, tags: [...new Set([...(have?.tags ?? []), ...tags])] });
    }
  }
  const history = image.config.history ?? [];
  return steps
    .map((step, i): HistoryEntry => {
      const h = history[i];
      const id = known.get(i);
      return {
        ...(id ? { id: id.id } : {}),
        ...(h?.created !== undefined ? { created: h.created } : {}),
        createdBy: step.createdBy,
        size: step.size,
        ...(h?.comment !== undefined && h.comment !== '' ? { comment: h.comment } : {}),
        emptyLayer: step.emptyLayer,
        ...(id && id.tags.length > 0 ? { tags: id.tags } : {}),
      };
    })
    .reverse();
}
