import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fetchAll, type ReadOnlyTarget, selectManifest } from '@ocikit/content';
import { isNotFound, NotFoundError } from '@ocikit/errors';
import {
  type Descriptor,
  formatPlatform,
  type ImageConfig,
  type ImageManifest,
  isIndexMediaType,
  type Platform,
  parseImageConfig,
  parseIndex,
  parsePlatform,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { Repository, type Transport } from '@ocikit/registry';
import type { Context } from './command.ts';
import { LOCAL_PREFIX, parseLocation } from './location.ts';
import { localCandidates, openEndpoint, openStore } from './registry.ts';

/** An image opened for reading: where it is, and its root manifest or index as stored. */
export interface ReadableImage {
  target: ReadOnlyTarget;
  display: string;
  kind: 'registry' | 'oci' | 'local';
  /** The root document's descriptor and bytes (for a registry, exactly as served). */
  root: { descriptor: Descriptor; bytes: Uint8Array };
}

/** The flag of commands that read an image from the local store first: `--remote` skips it. */
export const remoteFlag = { remote: { type: 'boolean' } } as const;
/** Help text of {@link remoteFlag}. */
export const remoteFlagHelp = { remote: 'read the image from its registry even when the local store has it' };

/**
 * Opens an image and reads its root manifest or index: `oci:DIR[:REF]` a layout, `local:REF` the
 * local store; a plain reference is looked up in the local store first (its normalized name, then
 * the names registries.conf gives a short name), as podman does, and in its registry only when the
 * store lacks it or `remote` is set (decision 083).
 */
export async function readImage(
  ctx: Context,
  arg: string,
  transport: Transport,
  options: { remote?: boolean | undefined } = {},
): Promise<ReadableImage> {
  const stored = options.remote ? undefined : await findStoredName(ctx, arg);
  const end = await openEndpoint(ctx, stored ? `${LOCAL_PREFIX}${stored}` : arg, transport, 'source');
  const ref = end.ref ?? 'latest';
  const opts = { signal: ctx.signal };
  if (end.target instanceof Repository) {
    // a registry's manifest exactly as served (its digest is the image digest)
    const root = await end.target.fetchManifest(ref, opts);
    return { target: end.target, display: end.display, kind: end.kind, root };
  }
  const descriptor = await end.target.resolve(ref, opts);
  const bytes = await fetchAll(end.target, descriptor, opts);
  return { target: end.target, display: end.display, kind: end.kind, root: { descriptor, bytes } };
}

/** The name a plain reference has in the local store, or undefined when it is not there. */
async function findStoredName(ctx: Context, arg: string): Promise<string | undefined> {
  if (parseLocation(arg).kind !== 'registry' || !existsSync(join(ctx.root, 'content', 'index.json')))
    return undefined;
  const names = new Set(await (await openStore(ctx)).tags());
  const own = parseReference(arg).toString();
  if (names.has(own)) return own;
  for (const candidate of await localCandidates(ctx, arg)) if (names.has(candidate)) return candidate;
  return undefined;
}

/** An image manifest picked from a root document, with its config. */
export interface PickedImage {
  descriptor: Descriptor;
  bytes: Uint8Array;
  manifest: ImageManifest;
  platform: Platform | undefined;
}

/** The platforms an index offers, as `{ platform, descriptor }`. */
export function platformsOf(root: ReadableImage['root']): { platform: string; descriptor: Descriptor }[] {
  if (!isIndexMediaType(root.descriptor.mediaType)) return [];
  return parseIndex(root.bytes).manifests.map((d) => ({
    platform: d.platform ? formatPlatform(d.platform) : 'unknown',
    descriptor: d,
  }));
}

/**
 * The image manifest of an image: the root itself, or the one an index (nested ones included) holds
 * for `--platform` (default: this machine's), chosen by `selectManifest` of `@ocikit/content`.
 * NotFoundError naming the platforms offered when none matches.
 */
export async function pickImage(
  image: ReadableImage,
  platformFlag: string | undefined,
  ctx: Context,
): Promise<PickedImage> {
  const { root } = image;
  try {
    return await selectManifest(image.target, root.descriptor, {
      bytes: root.bytes,
      name: image.display,
      signal: ctx.signal,
      ...(platformFlag ? { platform: parsePlatform(platformFlag) } : {}),
    });
  } catch (e) {
    if (isNotFound(e) && e.details['available'] !== undefined) {
      throw new NotFoundError(e.message, {
        details: e.details,
        hint: `${e.hint ?? ''}; choose one with --platform os/arch[/variant]`,
        cause: e,
      });
    }
    throw e;
  }
}

/** Reads and parses an image's config blob, returning it and its raw bytes. */
export async function readConfig(
  image: ReadableImage,
  picked: PickedImage,
  ctx: Context,
): Promise<{ config: ImageConfig; bytes: Uint8Array }> {
  const bytes = await fetchAll(image.target, picked.manifest.config, { signal: ctx.signal });
  return { config: parseImageConfig(bytes), bytes };
}
