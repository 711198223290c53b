// Where to pull an image from, as podman decides it with registries.conf: short names resolved
// (alias, then each unqualified-search registry), each candidate through its registry's mirrors,
// then the registry itself; the first that has the image wins.
import { isAborted, isNotFound, NotFoundError } from '@ocikit/errors';
import { parseReference } from '@ocikit/reference';
import type { RegistriesConf } from './registries-conf.ts';
import { openRepository, type Repository } from './repository.ts';
import type { Transport } from './transport.ts';

/** Where {@link findPullSource} found an image. */
export interface FoundPullSource {
  /** The repository to pull from: a mirror's, or the registry's own. */
  readonly repository: Repository;
  /** The tag or digest to pull there. */
  readonly ref: string;
  /** The normalized name asked for (never a mirror's): the name to store the image under. */
  readonly name: string;
  /** True when the repository is a mirror's. */
  readonly mirror: boolean;
}

/** Options of {@link findPullSource}. */
export interface FindPullSourceOptions {
  /** The transport the repositories use. */
  transport: Transport;
  /** Cancels the probes. */
  signal?: AbortSignal | undefined;
  /** Called for each place that failed, with why (for debug output). */
  onMiss?: ((reference: string, error: unknown) => void) | undefined;
}

/**
 * The repository to pull `input` from, as podman picks it with registries.conf: a short name by its
 * alias or the unqualified-search registries (each tried in order), and for each candidate its
 * registry's mirrors first, then the registry itself (its prefix rewritten to its location). With
 * one place to look, no probe is made (the pull reports what goes wrong); else the first place that
 * resolves the reference wins. PermissionDeniedError for a blocked registry, InvalidArgumentError
 * for an ambiguous short name in enforcing mode; when no place has the image, NotFoundError naming
 * every place looked in (or the last error when a place failed otherwise).
 *
 * @example
 * ```ts
 * const conf = await loadRegistriesConf();
 * const { repository, ref, name } = await findPullSource(conf, 'busybox', { transport });
 * ```
 */
export async function findPullSource(
  conf: RegistriesConf,
  input: string,
  options: FindPullSourceOptions,
): Promise<FoundPullSource> {
  const { transport, signal } = options;
  const { candidates } = conf.resolve(input);
  const tried: string[] = [];
  let last: unknown;
  let allMissing = true;
  for (const candidate of candidates) {
    const name = parseReference(candidate.toString()).toString();
    const sources = conf.pullSources(parseReference(name));
    for (const source of sources) {
      const repository = openRepository(source.reference, { transport });
      const ref = source.reference.digest ?? source.reference.tag ?? 'latest';
      const found = { repository, ref, name, mirror: source.mirror };
      if (candidates.length === 1 && sources.length === 1) return found;
      tried.push(source.reference.toString());
      try {
        await repository.resolve(ref, signal ? { signal } : {});
        return found;
      } catch (e) {
        if (isAborted(e) || signal?.aborted) throw e;
        options.onMiss?.(source.reference.toString(), e);
        last = e;
        if (!isNotFound(e)) allMissing = false;
      }
    }
  }
  if (allMissing) {
    throw new NotFoundError(`${input}: no image in any of ${tried.join(', ')}`, {
      cause: last,
      details: { tried },
    });
  }
  throw last;
}
