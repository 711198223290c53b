// The built image as buildah writes it: the config (history for every step, `empty_layer` where no
// layer was made) and the manifest, with OCI media types or Docker's (`format: 'docker'`), stored in
// the layout store; then tags, and copies to an OCI layout directory or a docker-archive file.
import { join } from 'node:path';
import {
  copy,
  createArchiveWriter,
  openLayout,
  pushBytes,
  type ReadOnlyTarget,
  type Target,
} from '@ocikit/content';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { type Descriptor, type ImageConfig, layerMediaTypeFor, MediaType } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import type { ImageState } from './cache.ts';

/** Where a build's image is also written. */
export type BuildExport =
  | {
      /** An OCI image layout directory (made when missing), the image tagged `ref` in it when given. */
      type: 'oci';
      path: string;
      ref?: string | undefined;
    }
  | {
      /** A docker-archive file (`docker load`), named `ref` in it when given. */
      type: 'docker-archive';
      path: string;
      ref?: string | undefined;
    };

/** A layer descriptor with the OCI media type (what build states hold). */
export function ociLayer(desc: Descriptor): Descriptor {
  const { mediaType, digest, size } = desc;
  return { mediaType: layerMediaTypeFor(mediaType, 'oci'), digest, size };
}

/** The config's JSON in the order buildah writes its fields. */
function configJson(config: ImageConfig): string {
  const { created, architecture, os, config: exec, rootfs, history, ...rest } = config;
  const ordered = {
    ...(created !== undefined ? { created } : {}),
    architecture,
    os,
    ...rest,
    config: exec ?? {},
    rootfs,
    history: history ?? [],
  };
  return JSON.stringify(ordered);
}

/** The manifest and config a build wrote. */
export interface WrittenImage {
  manifest: Descriptor;
  config: Descriptor;
}

/**
 * Writes a state's config and manifest into `store` with the media types of `format`; the layers
 * are in the store already. Annotations (OCI only) name the base image, as buildah does.
 */
export async function writeImage(
  store: Target,
  state: ImageState,
  format: 'oci' | 'docker',
  options: { annotations?: Record<string, string> | undefined; signal?: AbortSignal | undefined } = {},
): Promise<WrittenImage> {
  const signal = options.signal ? { signal: options.signal } : {};
  const docker = format === 'docker';
  const configBytes = Buffer.from(configJson(state.config));
  const config = await pushBytes(
    store,
    docker ? MediaType.DockerConfig : MediaType.ImageConfig,
    configBytes,
    signal,
  );
  const layers = state.layers.map((l) => ({
    mediaType: docker ? layerMediaTypeFor(l.mediaType, 'docker') : l.mediaType,
    digest: l.digest,
    size: l.size,
  }));
  const annotations =
    !docker && options.annotations && Object.keys(options.annotations).length
      ? options.annotations
      : undefined;
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.DockerManifest : MediaType.ImageManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers,
    ...(annotations ? { annotations } : {}),
  };
  const manifestDesc = await pushBytes(
    store,
    manifest.mediaType,
    Buffer.from(JSON.stringify(manifest)),
    signal,
  );
  return { manifest: manifestDesc, config };
}

/** A tag in its normalized form (`app:1` → `docker.io/library/app:1`); InvalidArgument when it is no reference. */
export function normalizeTag(tag: string): string {
  try {
    const ref = parseReference(tag);
    if (ref.digest !== undefined && ref.tag === undefined)
      throw new InvalidArgumentError(
        `tag ${JSON.stringify(truncate(tag, 80))} has a digest: give a name and tag`,
      );
    return ref.toString();
  } catch (e) {
    throw new InvalidArgumentError(
      `invalid tag ${JSON.stringify(truncate(tag, 80))}: ${(e as Error).message}`,
      {
        details: { reason: 'bad-tag', tag: truncate(tag, 120) },
        cause: e,
      },
    );
  }
}

/** Copies the built image to each export destination. */
export async function exportImage(
  store: ReadOnlyTarget,
  manifest: Descriptor,
  exports: readonly BuildExport[],
  signal?: AbortSignal,
): Promise<void> {
  const opts = signal ? { signal } : {};
  for (const out of exports) {
    if (out.type === 'oci') {
      const layout = await openLayout(out.path, { create: true, ...opts });
      await copy(store, manifest.digest, layout, out.ref, opts);
      continue;
    }
    const writer = await createArchiveWriter(join(out.path), 'docker-archive', opts);
    try {
      const desc = await copy(
        store,
        manifest.digest,
        writer,
        out.ref ? normalizeTag(out.ref) : undefined,
        opts,
      );
      if (!out.ref) await writer.include(desc, opts);
      await writer.commit(opts);
    } catch (e) {
      await writer.abort();
      throw e;
    }
  }
}
