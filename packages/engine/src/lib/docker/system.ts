// system.ping / version / info / events over the Docker API.
import type { EngineEvent, EngineInfo, EngineVersion, EventsOptions, Handlers } from '../contract.ts';
import type { EngineHttp } from './http.ts';
import { isObj, labels, nonEmpty, num, obj, str } from './json.ts';

/** The system handlers of a Docker-API engine whose API lives under `prefix` (`/v1.41`). */
export function systemHandlers(
  http: EngineHttp,
  prefix: string,
): Pick<Handlers, 'system.ping' | 'system.version' | 'system.info' | 'system.events'> {
  return {
    async 'system.ping'({ signal }) {
      await http.ok({ method: 'GET', path: `${prefix}/_ping`, signal, operation: 'system.ping' });
    },

    async 'system.version'({ signal }) {
      const req = { method: 'GET', path: `${prefix}/version`, signal, operation: 'system.version' } as const;
      const v = await http.json(req);
      if (!isObj(v) || typeof v['Version'] !== 'string') {
        throw http.fail('bad-response', req, { message: 'the version answer has no Version' });
      }
      return versionOf(v);
    },

    async 'system.info'({ signal }) {
      const req = { method: 'GET', path: `${prefix}/info`, signal, operation: 'system.info' } as const;
      const v = await http.json(req);
      if (!isObj(v)) throw http.fail('bad-response', req, { message: 'the info answer is not an object' });
      return infoOf(v);
    },

    'system.events'(options: EventsOptions) {
      return events(http, prefix, options);
    },
  };
}

/** Docker's `/version` answer in the contract's terms. */
export function versionOf(v: Record<string, unknown>): EngineVersion {
  const components = Array.isArray(v['Components']) ? v['Components'].map(obj) : [];
  const podman = components.find((c) => str(c, 'Name') === 'Podman Engine');
  const name = podman ? 'Podman Engine' : (nonEmpty(obj(v['Platform']), 'Name') ?? 'Docker Engine');
  return {
    name,
    version: str(v, 'Version') ?? '',
    apiVersion: nonEmpty(v, 'ApiVersion'),
    os: str(v, 'Os') ?? '',
    arch: str(v, 'Arch') ?? '',
    kernelVersion: nonEmpty(v, 'KernelVersion'),
  };
}

/** Docker's `/info` answer in the contract's terms. */
export function infoOf(v: Record<string, unknown>): EngineInfo {
  return {
    id: nonEmpty(v, 'ID'),
    containers: num(v, 'Containers') ?? 0,
    containersRunning: num(v, 'ContainersRunning') ?? 0,
    containersPaused: num(v, 'ContainersPaused') ?? 0,
    containersStopped: num(v, 'ContainersStopped') ?? 0,
    images: num(v, 'Images') ?? 0,
    storageDriver: nonEmpty(v, 'Driver'),
    root: nonEmpty(v, 'DockerRootDir'),
    defaultRuntime: nonEmpty(v, 'DefaultRuntime'),
    cgroupDriver: nonEmpty(v, 'CgroupDriver'),
    raw: v,
  };
}

/** Seconds since the epoch with fractions, as Docker's `since`/`until` take them. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

const removed = { container: 'destroy', image: 'delete' } as const;

async function* events(
  http: EngineHttp,
  prefix: string,
  options: EventsOptions,
): AsyncGenerator<EngineEvent> {
  const { signal } = options;
  const req = {
    method: 'GET',
    path: `${prefix}/events`,
    query: {
      since: options.since === undefined ? undefined : seconds(options.since),
      until: options.until === undefined ? undefined : seconds(options.until),
    },
    signal,
    operation: 'system.events',
  } as const;
  try {
    for await (const line of http.jsonLines(req)) {
      const e = obj(line);
      const actor = obj(e['Actor']);
      const nano = num(e, 'timeNano');
      const type = str(e, 'Type') ?? str(e, 'type') ?? '';
      const action = str(e, 'Action') ?? str(e, 'status') ?? '';
      yield {
        type,
        // podman's compatible API passes its own word for a removal through; Docker's is destroy/delete
        action: action === 'remove' && (type === 'container' || type === 'image') ? removed[type] : action,
        id: str(actor, 'ID') ?? str(e, 'id') ?? '',
        time: nano !== undefined ? Math.floor(nano / 1e6) : (num(e, 'time') ?? 0) * 1000,
        attributes: labels(actor, 'Attributes'),
      };
    }
  } catch (e) {
    // the signal ends the stream: that is how a follower stops
    if (signal?.aborted) return;
    throw e;
  }
}
