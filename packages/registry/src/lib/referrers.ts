// Referrers: the referrers API of distribution-spec 1.1, and the `sha256-<hex>` tag schema it
// falls back to on registries without it, both to list and to record (as go-containerregistry's
// remote.Referrers and its fallback-tag writes).
import type { SignalOptions } from '@ocikit/content';
import type { Digest } from '@ocikit/digest';
import { isNotFound } from '@ocikit/errors';
import {
  type Descriptor,
  type ImageIndex,
  isIndexMediaType,
  isManifestMediaType,
  MAX_DOCUMENT_SIZE,
  MediaType,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import type { RepositoryContext } from './context.ts';
import { nextLink } from './listing.ts';
import { header, type RegistryResponse, readBody } from './request.ts';

/** Options of a referrers listing. */
export interface ReferrersOptions {
  /** Only referrers of this artifact type. */
  artifactType?: string;
  signal?: AbortSignal;
}

/** The manifest reads and writes the fallback tag needs (a repository's own). */
export interface ManifestStore {
  fetchManifest(ref: string, options: SignalOptions): Promise<{ readonly bytes: Uint8Array }>;
  pushManifest(
    bytes: Uint8Array,
    mediaType: string,
    ref: string,
    options: SignalOptions,
  ): Promise<Descriptor>;
}

/** The referrers fallback tag of a digest: `sha256-<hex>`. */
export function referrersTag(digest: Digest): string {
  return digest.replace(':', '-').slice(0, 128);
}

/**
 * The manifests whose `subject` is `subject`: the referrers API, or the `sha256-<hex>` tag
 * fallback on registries without it. `artifactType` filters (on the client when the registry does not).
 */
export async function listReferrers(
  ctx: RepositoryContext,
  manifests: ManifestStore,
  subject: Descriptor,
  options: ReferrersOptions,
): Promise<Descriptor[]> {
  const what = `referrers of ${subject.digest} in ${ctx.name}`;
  let path: string | undefined = ctx.path('referrers', subject.digest);
  if (options.artifactType !== undefined) path += `?artifactType=${encodeURIComponent(options.artifactType)}`;
  const found: Descriptor[] = [];
  let filtered = false;
  let first = true;
  while (path !== undefined) {
    const res: RegistryResponse = await ctx.send({
      method: 'GET',
      path,
      headers: { accept: MediaType.ImageIndex },
      scopes: ctx.pullScopes(),
      what,
      expect: first ? [200, 404] : [200],
      signal: options.signal,
    });
    const contentType = header(res.headers, 'content-type')?.split(';')[0]?.trim();
    if (first && (res.status === 404 || contentType !== MediaType.ImageIndex)) {
      await res.body.dump().catch(() => {});
      return referrersFromTag(manifests, subject, options);
    }
    first = false;
    filtered ||= (header(res.headers, 'oci-filters-applied') ?? '')
      .split(',')
      .map((s) => s.trim())
      .includes('artifactType');
    found.push(...parseIndex(await readBody(res.body, MAX_DOCUMENT_SIZE, what)).manifests);
    const next = nextLink(res.headers.link);
    path =
      next === undefined ? undefined : new URL(next, 'http://x').pathname + new URL(next, 'http://x').search;
  }
  const type = options.artifactType;
  return type === undefined || filtered ? found : found.filter((d) => d.artifactType === type);
}

async function referrersFromTag(
  manifests: ManifestStore,
  subject: Descriptor,
  options: ReferrersOptions,
): Promise<Descriptor[]> {
  const index = await readReferrersTag(manifests, subject, options);
  const all = index?.manifests ?? [];
  return options.artifactType === undefined
    ? all
    : all.filter((d) => d.artifactType === options.artifactType);
}

async function readReferrersTag(
  manifests: ManifestStore,
  subject: Descriptor,
  options: SignalOptions,
): Promise<ImageIndex | undefined> {
  try {
    const { bytes } = await manifests.fetchManifest(referrersTag(subject.digest), options);
    return parseIndex(bytes);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Adds a manifest just pushed to its subject's fallback tag, when it has a `subject` (the caller
 * calls this when the registry did not answer `OCI-Subject`, i.e. does not index referrers).
 */
export async function recordReferrer(
  manifests: ManifestStore,
  desc: Descriptor,
  bytes: Uint8Array,
  options: SignalOptions,
): Promise<void> {
  const subject = subjectOf(desc, bytes);
  if (!subject) return;
  const referrer = referrerDescriptor(desc, bytes);
  const index = (await readReferrersTag(manifests, subject, options)) ?? {
    schemaVersion: 2 as const,
    mediaType: MediaType.ImageIndex,
    manifests: [],
  };
  if (index.manifests.some((d) => d.digest === referrer.digest)) return;
  const next: ImageIndex = { ...index, manifests: [...index.manifests, referrer] };
  await manifests.pushManifest(
    Buffer.from(JSON.stringify(next)),
    MediaType.ImageIndex,
    referrersTag(subject.digest),
    options,
  );
}

function subjectOf(desc: Descriptor, bytes: Uint8Array): Descriptor | undefined {
  if (isIndexMediaType(desc.mediaType)) return parseIndex(bytes).subject;
  if (isManifestMediaType(desc.mediaType)) return parseManifest(bytes).subject;
  return undefined;
}

function referrerDescriptor(desc: Descriptor, bytes: Uint8Array): Descriptor {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
    artifactType?: string;
    config?: { mediaType?: string };
    annotations?: Record<string, string>;
  };
  const artifactType = doc.artifactType ?? doc.config?.mediaType;
  return {
    mediaType: desc.mediaType,
    digest: desc.digest,
    size: desc.size,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(doc.annotations !== undefined ? { annotations: doc.annotations } : {}),
  };
}
