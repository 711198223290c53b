import { InvalidArgumentError, NotFoundError, throwIfAborted } from '@ocikit/errors';
import {
  type Descriptor,
  formatPlatform,
  hostPlatform,
  type ImageManifest,
  isIndexMediaType,
  isManifestMediaType,
  matchPlatform,
  type Platform,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import { fetchAll } from './helpers.ts';
import type { Fetcher, SignalOptions } from './target.ts';

/** Options of {@link selectManifest}. */
export interface SelectManifestOptions extends SignalOptions {
  /** The platform wanted (default: this machine's, `hostPlatform()`). */
  platform?: Platform;
  /** The bytes of `desc` when the caller has read them already (trusted: not verified again). */
  bytes?: Uint8Array;
  /** What to call the image in errors (default: the digest of `desc`). */
  name?: string;
}

/** The image manifest {@link selectManifest} chose. */
export interface SelectedManifest {
  /** Its descriptor: `desc` itself, or the index entry that names it. */
  descriptor: Descriptor;
  /** Its bytes, verified against the descriptor. */
  bytes: Uint8Array;
  manifest: ImageManifest;
  /** The index entry's platform; undefined for a manifest given directly or an entry without one. */
  platform: Platform | undefined;
}

/** How deep indexes may nest (an index of indexes of manifests is 2). */
const MAX_DEPTH = 4;

// The platform an image config declares: only os, architecture and variant are read (a config
// that does not say is no match).
function configPlatform(bytes: Uint8Array): Platform | undefined {
  try {
    const c = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    if (typeof c['os'] !== 'string' || typeof c['architecture'] !== 'string') return undefined;
    return {
      os: c['os'],
      architecture: c['architecture'],
      ...(typeof c['variant'] === 'string' ? { variant: c['variant'] } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Resolves `desc` to one image manifest: a manifest passes through; in an index (OCI or Docker
 * manifest list, nested up to four deep) the first entry whose platform matches `platform`
 * (default: this machine's) is taken, and an entry without a platform is tried after those, as
 * containerd does: a nested index is searched, a manifest matches when its config's os and
 * architecture do. Entries that are neither manifests nor indexes (attestations, artifacts) are
 * passed over.
 *
 * Errors: NotFoundError when nothing matches (`details.platform`, `details.available`: the
 * platforms offered), InvalidArgumentError when indexes nest deeper than four or a document does
 * not parse.
 *
 * @example
 * ```ts
 * const layout = await openLayout('images');
 * const { manifest } = await selectManifest(layout, await layout.resolve('busybox'), {
 *   platform: { os: 'linux', architecture: 'arm64' },
 * });
 * ```
 */
export async function selectManifest(
  fetcher: Fetcher,
  desc: Descriptor,
  options: SelectManifestOptions = {},
): Promise<SelectedManifest> {
  const signal = options.signal ? { signal: options.signal } : {};
  const rootBytes = options.bytes ?? (await fetchAll(fetcher, desc, signal));
  if (!isIndexMediaType(desc.mediaType)) {
    return { descriptor: desc, bytes: rootBytes, manifest: parseManifest(rootBytes), platform: undefined };
  }
  const want = options.platform ?? hostPlatform();
  const available: string[] = [];

  const search = async (
    index: Descriptor,
    bytes: Uint8Array,
    depth: number,
  ): Promise<SelectedManifest | undefined> => {
    if (depth > MAX_DEPTH) {
      throw new InvalidArgumentError(
        `${options.name ?? desc.digest}: indexes nested more than ${MAX_DEPTH} deep (at ${index.digest})`,
        { details: { digest: index.digest } },
      );
    }
    const entries = parseIndex(bytes).manifests.filter(
      (d) => isManifestMediaType(d.mediaType) || isIndexMediaType(d.mediaType),
    );
    const matching = entries.filter((d) => d.platform && matchPlatform(want, d.platform));
    const unplatformed = entries.filter((d) => !d.platform);
    for (const d of entries)
      if (d.platform && !matching.includes(d)) available.push(formatPlatform(d.platform));
    for (const d of [...matching, ...unplatformed]) {
      throwIfAborted(options.signal);
      const childBytes = await fetchAll(fetcher, d, signal);
      if (isIndexMediaType(d.mediaType)) {
        const found = await search(d, childBytes, depth + 1);
        if (found) return found;
        continue;
      }
      const manifest = parseManifest(childBytes);
      if (!d.platform) {
        const declared = configPlatform(await fetchAll(fetcher, manifest.config, signal));
        if (!declared || !matchPlatform(want, declared)) {
          available.push(declared ? formatPlatform(declared) : 'unknown');
          continue;
        }
      }
      return { descriptor: d, bytes: childBytes, manifest, platform: d.platform };
    }
    return undefined;
  };

  const found = await search(desc, rootBytes, 1);
  if (found) return found;
  const offered = [...new Set(available)];
  throw new NotFoundError(
    `no manifest for platform ${formatPlatform(want)} in ${options.name ?? desc.digest}`,
    {
      details: { platform: formatPlatform(want), available: offered },
      hint: `available: ${offered.join(', ') || 'none'}`,
    },
  );
}
