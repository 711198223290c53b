// volumes.* over the Docker API (`/volumes/create`, `/volumes`, `/volumes/{name}`, `DELETE ?force`,
// `/volumes/prune`), which Podman's compatible API answers alike.
import type { Handlers, VolumeDetails } from '../contract.ts';
import type { EngineHttp, HttpRequest } from './http.ts';
import { isObj, type Json, labels, num, obj, str, strings } from './json.ts';

type VolumeHandlers = Pick<
  Handlers,
  'volumes.create' | 'volumes.list' | 'volumes.inspect' | 'volumes.remove' | 'volumes.prune'
>;

/** A volume as the API gives it (`Name`, `Driver`, `Mountpoint`, `CreatedAt`, `Labels`, `Options`, `Scope`). */
export function volumeOf(v: Json): VolumeDetails {
  return {
    name: str(v, 'Name') ?? '',
    driver: str(v, 'Driver') ?? 'local',
    mountpoint: str(v, 'Mountpoint') ?? '',
    createdAt: str(v, 'CreatedAt') ?? '',
    labels: labels(v, 'Labels'),
    options: labels(v, 'Options'),
    scope: str(v, 'Scope') ?? 'local',
    raw: v,
  };
}

/**
 * Whether the API prunes only anonymous volumes unless asked for all (API 1.42 and later: Docker 23);
 * the contract's prune is every unused volume, as podman's and older Docker's.
 */
function prunesAnonymousOnly(prefix: string): boolean {
  const m = /^\/v(\d+)\.(\d+)$/.exec(prefix);
  return m !== null && (Number(m[1]) > 1 || Number(m[2]) >= 42);
}

/** The volume handlers of a Docker-API engine under the API prefix `prefix`. */
export function volumeHandlers(http: EngineHttp, prefix: string): VolumeHandlers {
  return {
    async 'volumes.create'(spec, { signal }) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/volumes/create`,
        json: { Name: spec.name, Driver: 'local', Labels: spec.labels, DriverOpts: spec.driverOpts },
        signal,
        operation: 'volumes.create',
        subject: 'volume',
        target: spec.name,
      };
      const v = await http.json(req);
      if (!isObj(v)) throw http.fail('bad-response', req, { message: 'the create answer is not an object' });
      return volumeOf(v);
    },

    async 'volumes.list'({ signal }) {
      const req: HttpRequest = {
        method: 'GET',
        path: `${prefix}/volumes`,
        signal,
        operation: 'volumes.list',
      };
      const v = obj(await http.json(req));
      const list = v['Volumes'] ?? [];
      if (!Array.isArray(list)) throw http.fail('bad-response', req, { message: 'Volumes is not an array' });
      return list.map((x) => volumeOf(obj(x))).sort((a, b) => a.name.localeCompare(b.name));
    },

    async 'volumes.inspect'(name, { signal }) {
      const req: HttpRequest = {
        method: 'GET',
        path: `${prefix}/volumes/${encodeURIComponent(name)}`,
        signal,
        operation: 'volumes.inspect',
        subject: 'volume',
        target: name,
      };
      const v = await http.json(req);
      if (!isObj(v)) throw http.fail('bad-response', req, { message: 'the volume is not an object' });
      return volumeOf(v);
    },

    async 'volumes.remove'(name, options) {
      await http.ok({
        method: 'DELETE',
        path: `${prefix}/volumes/${encodeURIComponent(name)}`,
        query: { force: options.force ? '1' : undefined },
        signal: options.signal,
        operation: 'volumes.remove',
        subject: 'volume',
        target: name,
      });
    },

    async 'volumes.prune'({ signal }) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/volumes/prune`,
        query: { filters: prunesAnonymousOnly(prefix) ? JSON.stringify({ all: ['true'] }) : undefined },
        signal,
        operation: 'volumes.prune',
      };
      const v = obj(await http.json(req));
      return { removed: strings(v, 'VolumesDeleted'), spaceReclaimed: num(v, 'SpaceReclaimed') ?? 0 };
    },
  };
}
