// containers.* over the Docker API: create (ContainerSpec → Docker's create body; a missing image
// pulled and the create retried, as the docker CLI does), start, wait, logs (multiplexed frames or
// a terminal's raw bytes), attach and exec (hijacked connections), inspect, list, stop, kill,
// pause, unpause, remove, resize.
import { constants } from 'node:os';
import type {
  Attachment,
  ConsoleSize,
  ContainerDetails,
  ContainerMount,
  ContainerSpec,
  ContainerState,
  ContainerSummary,
  CreatedContainer,
  CreateOptions,
  ExecProcess,
  ExecSpec,
  Handlers,
  LogsOptions,
  OutputChunk,
} from '../contract.ts';
import { demultiplex, raw, timestamped } from './frames.ts';
import type { EngineHttp, HttpRequest } from './http.ts';
import { bool, fromUnix, isObj, type Json, labels, nonEmpty, num, obj, str, strings, time } from './json.ts';
import { containerNetworkOf, networkCreateFields, networkNamesOfList, portsOfList } from './networks.ts';
import { attachmentOf } from './stdio.ts';

type ContainerHandlers = Pick<
  Handlers,
  | 'containers.create'
  | 'containers.start'
  | 'containers.wait'
  | 'containers.logs'
  | 'containers.attach'
  | 'containers.exec'
  | 'containers.inspect'
  | 'containers.list'
  | 'containers.stop'
  | 'containers.kill'
  | 'containers.pause'
  | 'containers.unpause'
  | 'containers.remove'
  | 'containers.resize'
>;

/** What pulling an image takes, for `containers.create` (the image handlers' pull). */
export type PullFn = Handlers['images.pull'];

const states = new Set<ContainerState>([
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
]);

function stateOf(s: string | undefined): ContainerState {
  const lower = (s ?? '').toLowerCase();
  if (states.has(lower as ContainerState)) return lower as ContainerState;
  // podman's own words
  if (lower === 'configured' || lower === 'initialized') return 'created';
  if (lower === 'stopped' || lower === 'stopping') return 'exited';
  return 'dead';
}

// the first name of a number wins (SIGABRT over SIGIOT)
const signalNames = new Map(
  Object.entries(constants.signals)
    .reverse()
    .map(([name, n]) => [String(n), name]),
);

/** A signal as Docker names it (`SIGUSR1`): podman's compatible API gives the number (`10`). */
function signalName(s: string | undefined): string | undefined {
  return s !== undefined && /^\d+$/.test(s) ? (signalNames.get(s) ?? s) : s;
}

/** Docker's container summary (`/containers/json`) in the contract's terms. */
export function containerSummaryOf(v: Json): ContainerSummary {
  const names = strings(v, 'Names');
  return {
    id: str(v, 'Id') ?? '',
    name: (names[0] ?? '').replace(/^\//, ''),
    image: str(v, 'Image') ?? '',
    imageId: nonEmpty(v, 'ImageID'),
    command: str(v, 'Command') ?? '',
    created: fromUnix(num(v, 'Created')) ?? '',
    state: stateOf(str(v, 'State')),
    status: str(v, 'Status') ?? '',
    labels: labels(v, 'Labels'),
    ports: portsOfList(v),
    networks: networkNamesOfList(v),
    mounts: mountsOf(v),
  };
}

/** Docker's container inspect (`/containers/{id}/json`) in the contract's terms. */
export function containerDetailsOf(v: Json): ContainerDetails {
  const state = obj(v['State']);
  const config = obj(v['Config']);
  const host = obj(v['HostConfig']);
  const status = stateOf(str(state, 'Status'));
  const pid = num(state, 'Pid');
  const path = str(v, 'Path');
  return {
    id: str(v, 'Id') ?? '',
    name: (str(v, 'Name') ?? '').replace(/^\//, ''),
    image: str(config, 'Image') ?? str(v, 'ImageName') ?? '',
    imageId: nonEmpty(v, 'Image'),
    created: str(v, 'Created') ?? '',
    state: {
      status,
      running: bool(state, 'Running'),
      paused: bool(state, 'Paused'),
      pid: pid ? pid : undefined,
      exitCode: status === 'exited' || status === 'dead' ? num(state, 'ExitCode') : undefined,
      startedAt: time(state, 'StartedAt'),
      finishedAt: time(state, 'FinishedAt'),
      error: nonEmpty(state, 'Error'),
    },
    config: {
      args: [...(path ? [path] : []), ...strings(v, 'Args')],
      env: strings(config, 'Env'),
      workingDir: nonEmpty(config, 'WorkingDir'),
      user: nonEmpty(config, 'User'),
      tty: bool(config, 'Tty'),
      openStdin: bool(config, 'OpenStdin'),
      hostname: nonEmpty(config, 'Hostname'),
      labels: labels(config, 'Labels'),
      stopSignal: signalName(nonEmpty(config, 'StopSignal')),
      stopTimeout: num(config, 'StopTimeout'),
    },
    autoRemove: bool(host, 'AutoRemove'),
    runtime: nonEmpty(host, 'Runtime'),
    logPath: nonEmpty(v, 'LogPath'),
    mounts: mountsOf(v),
    network: containerNetworkOf(v),
    raw: v,
  };
}

/** Docker's `Mounts` of an inspect or list answer as the contract's. */
function mountsOf(v: Json): ContainerMount[] {
  const list = v['Mounts'];
  if (!Array.isArray(list)) return [];
  return list.map((x) => {
    const m = obj(x);
    const type = str(m, 'Type');
    return {
      type: type === 'volume' || type === 'tmpfs' ? type : 'bind',
      name: nonEmpty(m, 'Name'),
      source: str(m, 'Source') ?? '',
      destination: str(m, 'Destination') ?? '',
      readOnly: m['RW'] === false,
    };
  });
}

/** The body of `POST /containers/create` for a spec (undefined fields left out). */
export function createBody(spec: ContainerSpec): Json {
  const tmpfs: Record<string, string> = {};
  const mounts: Json[] = [];
  for (const m of spec.mounts ?? []) {
    if (m.type === 'tmpfs') tmpfs[m.target] = (m.options ?? []).join(',');
    else
      mounts.push({
        Type: m.type,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly === true,
        VolumeOptions: m.type === 'volume' && m.noCopy ? { NoCopy: true } : undefined,
      });
  }
  const stdin = spec.openStdin === true;
  const net = networkCreateFields(spec);
  return {
    Image: spec.image,
    Cmd: spec.cmd,
    // Docker clears the image's entrypoint for [""], not for [] (the CLI's `--entrypoint ''`)
    Entrypoint: spec.entrypoint && spec.entrypoint.length === 0 ? [''] : spec.entrypoint,
    Env: spec.env,
    WorkingDir: spec.workingDir,
    User: spec.user,
    Hostname: spec.hostname,
    Tty: spec.tty === true,
    // as `docker run -i`: stdin open, attached, and closed for the container when the attach closes it
    OpenStdin: stdin,
    StdinOnce: stdin,
    AttachStdin: stdin,
    AttachStdout: true,
    AttachStderr: true,
    Labels: spec.labels,
    StopSignal: spec.stopSignal,
    StopTimeout: spec.stopTimeout,
    ExposedPorts: net.exposedPorts,
    HostConfig: {
      ...net.hostConfig,
      Mounts: mounts.length > 0 ? mounts : undefined,
      Tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : undefined,
      VolumesFrom: spec.volumesFrom,
      ReadonlyRootfs: spec.readOnlyRootfs,
      CapAdd: spec.capAdd,
      CapDrop: spec.capDrop,
      Memory: spec.memory,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit,
      Ulimits: spec.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
      Sysctls: spec.sysctls,
      ShmSize: spec.shmSize,
      GroupAdd: spec.groupAdd,
      SecurityOpt: spec.securityOpt,
      Privileged: spec.privileged,
      Init: spec.init,
      Devices: spec.devices?.map((d) => ({
        PathOnHost: d.pathOnHost,
        PathInContainer: d.pathInContainer,
        CgroupPermissions: d.cgroupPermissions,
      })),
      AutoRemove: spec.autoRemove,
      Runtime: spec.runtime,
      ConsoleSize: spec.consoleSize ? [spec.consoleSize.rows, spec.consoleSize.columns] : undefined,
    },
    NetworkingConfig: net.networkingConfig,
  };
}

/** `p`, or the signal's reason when it fires first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const reasonOf = (e: unknown): string | undefined => (e as { details?: { reason?: string } }).details?.reason;

/** The container handlers of a Docker-API engine whose API lives under `prefix`. */
export function containerHandlers(http: EngineHttp, prefix: string, pull: PullFn): ContainerHandlers {
  const at = (id: string, rest = '') => `${prefix}/containers/${encodeURIComponent(id)}${rest}`;
  const on = (
    operation: HttpRequest['operation'],
    id: string,
    method: HttpRequest['method'],
    rest: string,
    extra: Partial<HttpRequest> = {},
  ): HttpRequest => ({ method, path: at(id, rest), operation, subject: 'container', target: id, ...extra });

  /** Terminal sizes of tty containers created here and not started yet (see containers.start). */
  const consoleSizes = new Map<string, ConsoleSize>();

  /** AutoRemove containers created here and not started yet. */
  const autoRemoved = new Set<string>();
  /** Exit codes of AutoRemove containers, from a wait sent before their start. */
  const earlyWaits = new Map<string, Promise<number>>();

  /** Sends `wait?condition=next-exit` and resolves once the engine has taken it (its headers). */
  const waitEarly = async (
    id: string,
  ): Promise<{ code: Promise<number>; abort: AbortController } | undefined> => {
    const abort = new AbortController();
    const req = on('containers.wait', id, 'POST', '/wait', {
      signal: abort.signal,
      query: { condition: 'next-exit' },
    });
    const response = http.request(req);
    response.catch(() => {});
    const taken = await Promise.race([
      response.then(
        () => true,
        () => false,
      ),
      new Promise<false>((r) => setTimeout(() => r(false), 2000).unref()),
    ]);
    if (!taken) {
      abort.abort();
      return undefined;
    }
    const code = response.then(async (res) => {
      let v: Json;
      try {
        v = obj(JSON.parse(await res.body.text()));
      } catch (e) {
        throw http.transportError(e, req);
      }
      const c = num(v, 'StatusCode');
      if (c === undefined)
        throw http.fail('bad-response', req, { message: 'the wait answer has no StatusCode' });
      return c;
    });
    code.catch(() => {});
    return { code, abort };
  };

  const inspectRaw = async (
    id: string,
    signal: AbortSignal | undefined,
    operation: HttpRequest['operation'],
  ) => {
    const req = on(operation, id, 'GET', '/json', { signal });
    const v = await http.json(req);
    if (!isObj(v)) throw http.fail('bad-response', req, { message: 'the container answer is not an object' });
    return v;
  };

  const resizeReq =
    (path: string, operation: HttpRequest['operation'], id: string) => async (size: ConsoleSize) => {
      await http.ok({
        method: 'POST',
        path,
        query: { h: size.rows, w: size.columns },
        operation,
        subject: 'container',
        target: id,
        signal: AbortSignal.timeout(10_000),
      });
    };

  const create = async (spec: ContainerSpec, options: CreateOptions): Promise<CreatedContainer> => {
    const { signal } = options;
    const policy = options.pull ?? 'missing';
    const pullIt = () =>
      pull(spec.image, { ...options.pullOptions, platform: spec.platform, policy: 'always', signal });
    if (policy === 'always') await pullIt();
    const req: HttpRequest = {
      method: 'POST',
      path: `${prefix}/containers/create`,
      query: { name: spec.name, platform: spec.platform },
      json: createBody(spec),
      signal,
      operation: 'containers.create',
      subject: 'image',
      target: spec.image,
    };
    const send = async (): Promise<CreatedContainer> => {
      let v: unknown;
      try {
        v = await http.json(req);
      } catch (e) {
        // the engine may have made it before the signal fired: a named one can be found and removed
        if (signal?.aborted && spec.name) {
          await http
            .ok(
              on('containers.remove', spec.name, 'DELETE', '', {
                query: { force: '1', v: '1' },
                signal: AbortSignal.timeout(10_000),
              }),
            )
            .catch(() => {});
        }
        throw e;
      }
      const o = obj(v);
      const id = str(o, 'Id');
      if (!id) throw http.fail('bad-response', req, { message: 'the create answer has no Id' });
      if (spec.autoRemove) {
        if (autoRemoved.size > 1000) autoRemoved.clear();
        autoRemoved.add(id);
      }
      if (spec.tty && spec.consoleSize) {
        if (consoleSizes.size > 1000) consoleSizes.clear();
        consoleSizes.set(id, spec.consoleSize);
      }
      return { id, warnings: strings(o, 'Warnings') };
    };
    try {
      return await send();
    } catch (e) {
      if (policy === 'never' || policy === 'always' || reasonOf(e) !== 'image-not-found') throw e;
    }
    await pullIt();
    return send();
  };

  const logs = async function* (id: string, options: LogsOptions): AsyncGenerator<OutputChunk> {
    const { signal } = options;
    const tty = bool(obj((await inspectRaw(id, signal, 'containers.logs'))['Config']), 'Tty');
    const body = http.bytes(
      on('containers.logs', id, 'GET', '/logs', {
        signal,
        query: {
          follow: options.follow ? '1' : undefined,
          stdout: options.stdout === false ? '0' : '1',
          stderr: options.stderr === false ? '0' : '1',
          tail: options.tail === undefined ? undefined : String(options.tail),
          timestamps: options.timestamps ? '1' : undefined,
        },
      }),
    );
    const chunks = tty ? raw(body) : demultiplex(body);
    yield* options.timestamps ? timestamped(chunks) : chunks;
  };

  return {
    'containers.create': create,

    async 'containers.start'(id, { signal }) {
      // an AutoRemove container may be gone before a wait after the start arrives (and podman then
      // reports 0): register the wait first, as the docker CLI does for --rm
      const early = autoRemoved.has(id) ? await waitEarly(id) : undefined;
      try {
        await http.ok(on('containers.start', id, 'POST', '/start', { signal, accept: [304] }));
      } catch (e) {
        early?.abort.abort();
        throw e;
      }
      if (early) {
        autoRemoved.delete(id);
        earlyWaits.set(id, early.code);
        early.code.then(
          () => setTimeout(() => earlyWaits.delete(id), 60_000).unref(),
          () => earlyWaits.delete(id),
        );
      }
      // engines before API 1.42 ignore the create's ConsoleSize on Linux: size the terminal now, as the CLI
      const size = consoleSizes.get(id);
      if (size) {
        consoleSizes.delete(id);
        await resizeReq(at(id, '/resize'), 'containers.start', id)(size).catch(() => {});
      }
    },

    async 'containers.wait'(id, options) {
      const condition = options.condition ?? 'not-running';
      const early = earlyWaits.get(id);
      if (early && condition !== 'removed') {
        earlyWaits.delete(id);
        return abortable(early, options.signal);
      }
      const waitFor = async (query: string | undefined, signal: AbortSignal | undefined): Promise<number> => {
        const req = on('containers.wait', id, 'POST', '/wait', { signal, query: { condition: query } });
        const code = num(obj(await http.json(req)), 'StatusCode');
        if (code === undefined)
          throw http.fail('bad-response', req, { message: 'the wait answer has no StatusCode' });
        return code;
      };
      if (condition !== 'removed') return waitFor(options.condition, options.signal);
      // podman's compatible API answers 0 for `removed` once the container is gone: the exit code
      // comes from a `next-exit` wait sent alongside (or the one registered at start)
      const side = new AbortController();
      const exit = (
        early ??
        waitFor('next-exit', options.signal ? AbortSignal.any([options.signal, side.signal]) : side.signal)
      ).catch(() => undefined);
      try {
        const removed = await waitFor('removed', options.signal);
        const code = await Promise.race([
          exit,
          new Promise<undefined>((r) => setTimeout(() => r(undefined), 200).unref()),
        ]);
        return code ?? removed;
      } finally {
        side.abort();
      }
    },

    'containers.logs': logs,

    async 'containers.attach'(id, options): Promise<Attachment> {
      const { signal } = options;
      const v = await inspectRaw(id, signal, 'containers.attach');
      const tty = bool(obj(v['Config']), 'Tty');
      const status = stateOf(str(obj(v['State']), 'Status'));
      // as the docker CLI: the engine would hijack the connection and close it at once
      if (status === 'exited' || status === 'dead' || status === 'removing') {
        throw http.fail(
          'container-not-running',
          { operation: 'containers.attach' },
          {
            message: `container ${JSON.stringify(id)} is ${status}: start it before attaching`,
          },
        );
      }
      if (status === 'paused') {
        throw http.fail(
          'container-paused',
          { operation: 'containers.attach' },
          {
            message: `container ${JSON.stringify(id)} is paused: unpause it before attaching`,
          },
        );
      }
      const req = on('containers.attach', id, 'POST', '/attach', {
        signal,
        query: {
          stream: '1',
          stdin: options.stdin ? '1' : '0',
          stdout: '1',
          stderr: '1',
          logs: options.logs ? '1' : undefined,
        },
      });
      const socket = await http.upgrade(req);
      const { ended: _, ...attachment } = attachmentOf(socket, {
        tty,
        resize: resizeReq(at(id, '/resize'), 'containers.resize', id),
        closedError: () =>
          http.fail('container-not-running', req, {
            message: `the attach connection to ${JSON.stringify(id)} is closed`,
          }),
        signal,
      });
      return attachment;
    },

    async 'containers.exec'(id, spec: ExecSpec, options): Promise<ExecProcess> {
      const { signal } = options;
      const createReq = on('containers.exec', id, 'POST', '/exec', {
        signal,
        json: {
          AttachStdin: spec.stdin === true,
          AttachStdout: true,
          AttachStderr: true,
          Tty: spec.tty === true,
          Cmd: spec.cmd,
          Env: spec.env,
          WorkingDir: spec.workingDir,
          User: spec.user,
          Privileged: spec.privileged === true,
          ConsoleSize: spec.consoleSize ? [spec.consoleSize.rows, spec.consoleSize.columns] : undefined,
        },
      });
      const created = obj(await http.json(createReq));
      const execId = str(created, 'Id');
      if (!execId) throw http.fail('bad-response', createReq, { message: 'the exec answer has no Id' });
      const execAt = (rest: string) => `${prefix}/exec/${encodeURIComponent(execId)}${rest}`;
      const startReq: HttpRequest = {
        method: 'POST',
        path: execAt('/start'),
        json: { Detach: false, Tty: spec.tty === true },
        signal,
        operation: 'containers.exec',
        subject: 'exec',
        target: id,
      };
      const socket = await http.upgrade(startReq);
      const resize = resizeReq(execAt('/resize'), 'containers.exec', id);
      const attachment = attachmentOf(socket, {
        tty: spec.tty === true,
        resize,
        closedError: () =>
          http.fail('container-not-running', startReq, { message: 'the exec connection is closed' }),
        signal,
      });
      // engines before API 1.42 take the size only once the process runs
      if (spec.tty && spec.consoleSize) await resize(spec.consoleSize).catch(() => {});
      const exitCode = (async () => {
        await attachment.ended;
        for (let round = 0; ; round++) {
          const v = obj(
            await http.json({
              method: 'GET',
              path: execAt('/json'),
              signal,
              operation: 'containers.exec',
              subject: 'exec',
              target: id,
            }),
          );
          const code = num(v, 'ExitCode');
          if (v['Running'] !== true && code !== undefined) return code;
          await new Promise((r) => setTimeout(r, round < 10 ? 10 : 100));
        }
      })();
      exitCode.catch(() => {});
      const { ended: _, ...rest } = attachment;
      return { ...rest, exitCode, inherited: false };
    },

    async 'containers.inspect'(id, { signal }) {
      return containerDetailsOf(await inspectRaw(id, signal, 'containers.inspect'));
    },

    async 'containers.list'(options) {
      const req: HttpRequest = {
        method: 'GET',
        path: `${prefix}/containers/json`,
        query: { all: options.all ? '1' : undefined, size: options.size ? '1' : undefined },
        signal: options.signal,
        operation: 'containers.list',
      };
      const v = await http.json(req);
      if (!Array.isArray(v))
        throw http.fail('bad-response', req, { message: 'the container list is not an array' });
      return v.map((c) => {
        const summary = containerSummaryOf(obj(c));
        if (!options.size) return summary;
        // dockerd leaves a size of 0 out (omitempty)
        return { ...summary, sizeRw: num(obj(c), 'SizeRw') ?? 0, sizeRootFs: num(obj(c), 'SizeRootFs') ?? 0 };
      });
    },

    async 'containers.stop'(id, options) {
      await http.ok(
        on('containers.stop', id, 'POST', '/stop', {
          signal: options.signal,
          query: { t: options.timeout === undefined ? undefined : String(options.timeout) },
          accept: [304],
        }),
      );
    },

    async 'containers.kill'(id, signal, options) {
      await http.ok(
        on('containers.kill', id, 'POST', '/kill', {
          signal: options.signal,
          query: { signal: String(signal) },
        }),
      );
    },

    async 'containers.pause'(id, { signal }) {
      await http.ok(on('containers.pause', id, 'POST', '/pause', { signal }));
    },

    async 'containers.unpause'(id, { signal }) {
      await http.ok(on('containers.unpause', id, 'POST', '/unpause', { signal }));
    },

    async 'containers.remove'(id, options) {
      const { signal } = options;
      try {
        await http.ok(
          on('containers.remove', id, 'DELETE', '', {
            signal,
            query: { force: options.force ? '1' : undefined, v: options.volumes ? '1' : undefined },
          }),
        );
      } catch (e) {
        // the engine is removing it already (AutoRemove after an exit): done when it is gone
        const said = (e as { details?: { engineMessage?: string } }).details?.engineMessage ?? '';
        if (!/removal of container .* is already in progress/i.test(said)) throw e;
        await http
          .ok(on('containers.remove', id, 'POST', '/wait', { signal, query: { condition: 'removed' } }))
          .catch((waitError: unknown) => {
            if (reasonOf(waitError) !== 'container-not-found') throw waitError;
          });
      }
    },

    async 'containers.resize'(id, size, { signal }) {
      await http.ok(
        on('containers.resize', id, 'POST', '/resize', { signal, query: { h: size.rows, w: size.columns } }),
      );
    },
  };
}
