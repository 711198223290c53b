// containers.prune and images.prune over the Docker API (`POST /containers/prune`, `POST
// /images/prune`), which Podman's compatible API answers alike.
import type { Handlers, PruneFilters } from '../contract.ts';
import type { EngineHttp, HttpRequest } from './http.ts';
import { imageRemovedOf } from './images.ts';
import { num, obj, strings } from './json.ts';

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

    async 'images.prune'({ all, filters, signal }) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/images/prune`,
        // every unused image, not only untagged ones: Docker's `dangling=false` (its CLI's `-a`)
        query: { filters: pruneFiltersQuery(filters, all ? { dangling: ['false'] } : {}) },
        signal,
        operation: 'images.prune',
      };
      const v = obj(await http.json(req));
      const lines = v['ImagesDeleted'];
      if (lines !== null && lines !== undefined && !Array.isArray(lines))
        throw http.fail('bad-response', req, { message: 'ImagesDeleted is not an array' });
      return { removed: (lines ?? []).map(imageRemovedOf), spaceReclaimed: num(v, 'SpaceReclaimed') ?? 0 };
    },
  };
}
