// system.ping / version / info / events over podman's libpod API.
import type {
  EngineEvent,
  EngineInfo,
  EngineVersion,
  EventsOptions,
  Handlers,
  Operation,
} from '../contract.ts';
import type { EngineHttp } from '../docker/http.ts';
import { isObj, type Json, labels, nonEmpty, num, obj, str } from '../docker/json.ts';
import { systemHandlers } from '../docker/system.ts';

/** The system handlers of a podman service whose libpod API lives under `prefix` (`/v4.0.0/libpod`). */
export function libpodSystemHandlers(
  http: EngineHttp,
  prefix: string,
): Pick<Handlers, 'system.ping' | 'system.version' | 'system.info' | 'system.events'> {
  /** The JSON object at `prefix + path`, which must have `key` (else `bad-response`). */
  const answer = async (path: string, key: string, operation: Operation, signal: AbortSignal | undefined) => {
    const req = { method: 'GET', path: `${prefix}${path}`, signal, operation } as const;
    const v = await http.json(req);
    if (!isObj(v) || v[key] === undefined) {
      throw http.fail('bad-response', req, { message: `the ${path.slice(1)} answer has no ${key}` });
    }
    return v;
  };
  return {
    // libpod's ping answers as Docker's does
    'system.ping': systemHandlers(http, prefix)['system.ping'],
    'system.version': async ({ signal }) =>
      libpodVersionOf(await answer('/version', 'Version', 'system.version', signal)),
    'system.info': async ({ signal }) => libpodInfoOf(await answer('/info', 'store', 'system.info', signal)),
    'system.events': (options: EventsOptions) => libpodEvents(http, prefix, options),
  };
}

/** libpod's `/version` answer in the contract's terms (its API version is libpod's, `4.3.1`). */
export function libpodVersionOf(v: Json): EngineVersion {
  const components = Array.isArray(v['Components']) ? v['Components'].map(obj) : [];
  const engine = components.find((c) => str(c, 'Name') === 'Podman Engine');
  const details = obj(engine?.['Details']);
  return {
    name: 'Podman Engine',
    version: str(v, 'Version') ?? '',
    apiVersion: nonEmpty(details, 'APIVersion') ?? nonEmpty(v, 'ApiVersion'),
    os: str(v, 'Os') ?? '',
    arch: str(v, 'Arch') ?? '',
    kernelVersion: nonEmpty(v, 'KernelVersion'),
  };
}

/** libpod's `/info` answer (`host`, `store`) in the contract's terms. */
export function libpodInfoOf(v: Json): EngineInfo {
  const host = obj(v['host']);
  const store = obj(v['store']);
  const containers = obj(store['containerStore']);
  return {
    containers: num(containers, 'number') ?? 0,
    containersRunning: num(containers, 'running') ?? 0,
    containersPaused: num(containers, 'paused') ?? 0,
    containersStopped: num(containers, 'stopped') ?? 0,
    images: num(obj(store['imageStore']), 'number') ?? 0,
    storageDriver: nonEmpty(store, 'graphDriverName'),
    root: nonEmpty(store, 'graphRoot'),
    defaultRuntime: nonEmpty(obj(host['ociRuntime']), 'name'),
    cgroupDriver: nonEmpty(host, 'cgroupManager'),
    raw: v,
  };
}

/**
 * Docker's word for a podman event action, where they differ: libpod reports a container's end as
 * `died` (and an exec's as `exec_died`) and any removal as `remove`, where Docker (and podman's own
 * compatible API, for some) say `die`, `exec_die`, `destroy` for a container, volume or network, and
 * `delete` for an image.
 */
export function dockerAction(type: string, action: string): string {
  if (action === 'died') return 'die';
  if (action === 'exec_died') return 'exec_die';
  if (action === 'remove' && (type === 'container' || type === 'volume' || type === 'network'))
    return 'destroy';
  if (action === 'remove' && type === 'image') return 'delete';
  return action;
}

/** One libpod event line in the contract's terms. */
function eventOf(line: unknown): EngineEvent {
  const e = obj(line);
  const actor = obj(e['Actor']);
  const nano = num(e, 'timeNano');
  const type = str(e, 'Type') ?? '';
  return {
    type,
    action: dockerAction(type, str(e, 'Action') ?? str(e, 'status') ?? ''),
    id: nonEmpty(actor, 'ID') ?? nonEmpty(e, 'id') ?? labels(actor, 'Attributes')['name'] ?? '',
    time: nano !== undefined ? Math.floor(nano / 1e6) : (num(e, 'time') ?? 0) * 1000,
    attributes: labels(actor, 'Attributes'),
  };
}

/** How long a followed stream may stay quiet once `until` has passed before it is over. */
const QUIET_MS = 500;

/**
 * Events from libpod, always followed (`stream=true`) and never with `until`: podman 4.3's file
 * events backend ends a stream given an `until` that is not in the future at once, having sent only
 * part of the past, and `stream=false` races its reader and sometimes sends nothing. The follower
 * sends the past at once and new events as its reader polls the file (every 250 ms); this side
 * ends the stream at the first event after `until`, or once `until` has passed and nothing has come
 * for {@link QUIET_MS}.
 */
async function* libpodEvents(
  http: EngineHttp,
  prefix: string,
  options: EventsOptions,
): AsyncGenerator<EngineEvent> {
  const { until } = options;
  const stop = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (quiet: number) => {
    if (until === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => stop.abort(), Math.max(until - Date.now(), 0) + quiet);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const req = {
    method: 'GET',
    path: `${prefix}/events`,
    query: {
      stream: true,
      since: options.since === undefined ? undefined : (options.since / 1000).toFixed(3),
    },
    signal,
    operation: 'system.events',
  } as const;
  // a busy service may take a while to send its first line
  arm(QUIET_MS * 4);
  try {
    for await (const line of http.jsonLines(req)) {
      arm(QUIET_MS);
      const event = eventOf(line);
      if (until !== undefined && event.time > until) return;
      if (options.since !== undefined && event.time < options.since) continue;
      yield event;
    }
  } catch (e) {
    // the caller's signal, or the end of the window, ends a followed stream
    if (signal.aborted) return;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
