import { type Digest, digestOfSync, verifyBytes, verifyStream } from '@ocikit/digest';
import { InvalidArgumentError } from '@ocikit/errors';
import {
  type Descriptor,
  isIndexMediaType,
  isManifestMediaType,
  MAX_DOCUMENT_SIZE,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import { type Fetcher, isBytesFetcher, type Pusher, type SignalOptions } from './target.ts';

/**
 * Reads a whole blob into memory, verified against its digest and size; refuses blobs larger than
 * `maxSize` (default 4 MiB, for manifests and configs) before reading them.
 */
export async function fetchAll(
  fetcher: Fetcher,
  desc: Descriptor,
  options: SignalOptions & { maxSize?: number } = {},
): Promise<Uint8Array> {
  const max = options.maxSize ?? MAX_DOCUMENT_SIZE;
  if (desc.size > max) {
    throw new InvalidArgumentError(
      `${desc.digest} is ${desc.size} bytes, more than the ${max} allowed here`,
      {
        details: { reason: 'too-large', digest: desc.digest, size: desc.size, limit: max },
      },
    );
  }
  const signal = options.signal ? { signal: options.signal } : {};
  const whole = isBytesFetcher(fetcher) ? await fetcher.fetchBytes(desc, signal) : undefined;
  if (whole) {
    verifyBytes(whole, { digest: desc.digest, size: desc.size });
    return whole;
  }
  const chunks: Uint8Array[] = [];
  const stream = await fetcher.fetch(desc, signal);
  for await (const chunk of verifyStream(stream, { digest: desc.digest, size: desc.size }, options)) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Stores `bytes` as a blob of `mediaType` and returns its descriptor. */
export async function pushBytes(
  pusher: Pusher,
  mediaType: string,
  bytes: Uint8Array,
  options: SignalOptions = {},
): Promise<Descriptor> {
  const desc: Descriptor = { mediaType, digest: digestOfSync(bytes), size: bytes.byteLength };
  await pusher.push(desc, bytes, options);
  return desc;
}

/** True when `desc` is a manifest or an index (something with children). */
export function isGraphNode(desc: Descriptor): boolean {
  return isManifestMediaType(desc.mediaType) || isIndexMediaType(desc.mediaType);
}

/** The children of a manifest or index, parsed from its bytes. */
export function childrenOf(desc: Descriptor, bytes: Uint8Array): Descriptor[] {
  if (isIndexMediaType(desc.mediaType)) return parseIndex(bytes).manifests;
  if (isManifestMediaType(desc.mediaType)) {
    const m = parseManifest(bytes);
    return [m.config, ...m.layers];
  }
  return [];
}

/** The direct children of `desc`: an index's manifests, a manifest's config and layers, else none. */
export async function successors(
  fetcher: Fetcher,
  desc: Descriptor,
  options: SignalOptions = {},
): Promise<Descriptor[]> {
  if (!isGraphNode(desc)) return [];
  return childrenOf(desc, await fetchAll(fetcher, desc, options));
}

/**
 * Visits every descriptor reachable from `root` once, parents before children. Return `false`
 * from `visit` to skip a node's children.
 */
export async function walk(
  fetcher: Fetcher,
  root: Descriptor,
  visit: (
    desc: Descriptor,
    parent: Descriptor | undefined,
  ) => boolean | undefined | Promise<boolean | undefined>,
  options: SignalOptions = {},
): Promise<void> {
  const seen = new Set<Digest>();
  const step = async (desc: Descriptor, parent: Descriptor | undefined): Promise<void> => {
    if (seen.has(desc.digest)) return;
    seen.add(desc.digest);
    if ((await visit(desc, parent)) === false) return;
    for (const child of await successors(fetcher, desc, options)) await step(child, desc);
  };
  await step(root, undefined);
}

/** A descriptor without the layout-only `org.opencontainers.image.ref.name` annotation. */
export function withoutRefName(desc: Descriptor): Descriptor {
  if (!desc.annotations || !('org.opencontainers.image.ref.name' in desc.annotations)) return desc;
  const { 'org.opencontainers.image.ref.name': _, ...rest } = desc.annotations;
  const out: Descriptor = { ...desc, annotations: rest };
  if (Object.keys(rest).length === 0) delete out.annotations;
  return out;
}
