// containers.prune and images.prune over the Docker API (`POST /containers/prune`, `POST
// /images/prune`), which Podman's compatible API answers alike but for `images.prune` with `all`:
// podman 4.3 refuses Docker's `dangling=false` there, so that one goes to its libpod endpoint on
// the same socket (`POST /libpod/images/prune?all=true`).
import { isOcikitError } from '@ocikit/errors';
import type { Handlers, ImagePruneOptions, ImageRemoved, ImagesPruned, PruneFilters } from '../contract.ts';
import { LIBPOD_PREFIX } from '../podman/prefix.ts';
import type { EngineHttp, HttpRequest } from './http.ts';
import { imageRemovedOf } from './images.ts';
import { num, obj, str, strings } from './json.ts';

/** A prune's `filters` query: `until` in Unix seconds, `label` and `label!` as given, and `extra`. */
export function pruneFiltersQuery(
  filters: PruneFilters | undefined,
  extra: Record<string, string[]> = {},
): string | undefined {
  const out: Record<string, string[]> = { ...extra };
  if (filters?.until !== undefined) out['until'] = [String(Math.floor(filters.until / 1000))];
  if (filters?.labels?.length) out['label'] = [...filters.labels];
  if (filters?.notLabels?.length) out['label!'] = [...filters.notLabels];
  return Object.keys(out).length > 0 ? JSON.stringify(out) : undefined;
}

/**
 * `images.prune` over podman's libpod API under `prefix`: its answer lists the images deleted,
 * `[{Id, Size, Err}]` (no names untagged); one with an `Err` was not removed.
 */
export async function libpodImagesPrune(
  http: EngineHttp,
  prefix: string,
  { all, filters, signal }: ImagePruneOptions,
): Promise<ImagesPruned> {
  const req: HttpRequest = {
    method: 'POST',
    path: `${prefix}/images/prune`,
    query: { all: all ? 'true' : undefined, filters: pruneFiltersQuery(filters) },
    signal,
    operation: 'images.prune',
  };
  const v = await http.json(req);
  if (v !== null && !Array.isArray(v))
    throw http.fail('bad-response', req, { message: 'the prune answer is not an array' });
  const removed: ImageRemoved[] = [];
  let spaceReclaimed = 0;
  for (const line of v ?? []) {
    const o = obj(line);
    const id = str(o, 'Id');
    if (id === undefined || (o['Err'] !== undefined && o['Err'] !== null)) continue;
    removed.push({ deleted: `sha256:${id.replace(/^sha256:/, '')}` });
    spaceReclaimed += num(o, 'Size') ?? 0;
  }
  return { removed, spaceReclaimed };
}

/** Podman 4.3's refusal of `dangling=false` on its compatible `/images/prune`. */
function refusesAll(e: unknown): boolean {
  return (
    isOcikitError(e) && /"dangling" filter more than once/.test(String(e.details['engineMessage'] ?? ''))
  );
}

/** The prune handlers of a Docker-API engine under the API prefix `prefix`. */
export function pruneHandlers(
  http: EngineHttp,
  prefix: string,
): Pick<Handlers, 'containers.prune' | 'images.prune'> {
  return {
    async 'containers.prune'({ filters, signal }) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/containers/prune`,
        query: { filters: pruneFiltersQuery(filters) },
        signal,
        operation: 'containers.prune',
      };
      const v = obj(await http.json(req));
      return { removed: strings(v, 'ContainersDeleted'), spaceReclaimed: num(v, 'SpaceReclaimed') ?? 0 };
    },

    async 'images.prune'(options) {
      const { all, filters, signal } = options;
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/images/prune`,
        // every unused image, not only untagged ones: Docker's `dangling=false` (its CLI's `-a`)
        query: { filters: pruneFiltersQuery(filters, all ? { dangling: ['false'] } : {}) },
        signal,
        operation: 'images.prune',
      };
      let answer: unknown;
      try {
        answer = await http.json(req);
      } catch (e) {
        if (all && refusesAll(e)) return libpodImagesPrune(http, LIBPOD_PREFIX, options);
        throw e;
      }
      const v = obj(answer);
      const lines = v['ImagesDeleted'];
      if (lines !== null && lines !== undefined && !Array.isArray(lines))
        throw http.fail('bad-response', req, { message: 'ImagesDeleted is not an array' });
      return { removed: (lines ?? []).map(imageRemovedOf), spaceReclaimed: num(v, 'SpaceReclaimed') ?? 0 };
    },
  };
}
