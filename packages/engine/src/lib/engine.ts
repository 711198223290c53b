import { isOcikitError, type OcikitError } from '@ocikit/errors';
import type {
  Attachment,
  AttachOptions,
  CallOptions,
  CommitSpec,
  CommittedImage,
  Connection,
  ConnectOptions,
  ConsoleSize,
  ContainerDetails,
  ContainerListOptions,
  ContainerPruneOptions,
  ContainerSpec,
  ContainerSummary,
  ContainersPruned,
  CreatedContainer,
  CreateOptions,
  Driver,
  EngineEvent,
  EngineInfo,
  EngineVersion,
  EventsOptions,
  ExecOptions,
  ExecProcess,
  ExecSpec,
  Handlers,
  HistoryEntry,
  ImageDetails,
  ImageListOptions,
  ImagePruneOptions,
  ImageRemoved,
  ImageRemoveOptions,
  ImageSummary,
  ImagesPruned,
  LoadOptions,
  LogsOptions,
  NetworkConnectSpec,
  NetworkDetails,
  NetworkDisconnectOptions,
  NetworkSpec,
  NetworksPruned,
  Operation,
  OutputChunk,
  PulledImage,
  PullOptions,
  PushedImage,
  PushOptions,
  RemoveOptions,
  RunOptions,
  RunResult,
  StopOptions,
  VolumeDetails,
  VolumeRemoveOptions,
  VolumeSpec,
  VolumesPruned,
  WaitOptions,
} from './contract.ts';
import { engineError } from './errors.ts';

/** Options of {@link Engine.connect}. */
export interface EngineOptions extends ConnectOptions {
  /**
   * Milliseconds a quick operation (ping, inspect, list, start, kill, remove, …) may take before it
   * fails with reason `timeout` (default 60 000). Long operations (pull, push, create, wait, logs,
   * attach, exec, events, save, load, run) are bounded only by the caller's signal.
   */
  timeout?: number | undefined;
}

/**
 * A client of one container engine, through a {@link Driver}. Every operation takes an
 * `AbortSignal`; quick ones also have a timeout; every failure is an ocikit error whose `details`
 * name the engine, the operation and a standard `reason` (see `EngineErrorReason`). An operation
 * the driver leaves out fails with `UnimplementedError`.
 *
 * @example
 * ```ts
 * import { Engine, dockerDriver } from '@ocikit/engine';
 * const engine = await Engine.connect(dockerDriver, 'unix:///var/run/docker.sock');
 * const { id } = await engine.containers.create({ image: 'busybox', cmd: ['echo', 'hi'] });
 * await engine.containers.start(id);
 * console.log(await engine.containers.wait(id)); // 0
 * await engine.containers.remove(id);
 * await engine.close();
 * ```
 */
export class Engine {
  /** The driver's name (`docker`, `podman`, `local`, …). */
  readonly engine: string;
  /** The address it connected to. */
  readonly address: string;
  readonly #connection: Connection;
  readonly #timeout: number;

  /** Use {@link Engine.connect}; this wraps a connection a driver made. */
  constructor(
    engine: string,
    address: string,
    connection: Connection,
    options: { timeout?: number | undefined } = {},
  ) {
    this.engine = engine;
    this.address = address;
    this.#connection = connection;
    this.#timeout = options.timeout ?? 60_000;
  }

  /** Connects to the engine at `address` through `driver`. */
  static async connect(driver: Driver, address: string, options: EngineOptions = {}): Promise<Engine> {
    let connection: Connection;
    try {
      connection = await driver.connect(address, options);
    } catch (e) {
      throw normalize(e, driver.name, 'connect', options.signal);
    }
    return new Engine(driver.name, address, connection, options);
  }

  /** True when the driver offers `operation`. */
  has(operation: Operation): boolean {
    return typeof this.#connection.handlers[operation] === 'function';
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#connection.close();
  }

  #handler<K extends Operation>(operation: K): Handlers[K] {
    const h = this.#connection.handlers[operation];
    if (typeof h !== 'function') {
      throw engineError('unimplemented', {
        engine: this.engine,
        operation,
        message: `the ${this.engine} driver does not offer ${operation}`,
      });
    }
    return h.bind(this.#connection.handlers) as Handlers[K];
  }

  /** Runs a quick operation: the caller's signal and the timeout, errors made standard. */
  async #quick<K extends Operation, O extends CallOptions, R>(
    operation: K,
    options: O | undefined,
    run: (handler: Handlers[K], options: O) => Promise<R>,
  ): Promise<R> {
    return this.#long(operation, withTimeout(options, this.#timeout), run);
  }

  /** Runs a long operation: the caller's signal only, errors made standard. */
  async #long<K extends Operation, O extends CallOptions, R>(
    operation: K,
    options: O | undefined,
    run: (handler: Handlers[K], options: O) => Promise<R>,
  ): Promise<R> {
    const handler = this.#handler(operation);
    const opts = (options ?? {}) as O;
    try {
      return await run(handler, opts);
    } catch (e) {
      throw normalize(e, this.engine, operation, opts.signal);
    }
  }

  /** Wraps a stream operation: iteration errors made standard. */
  #stream<K extends Operation, O extends CallOptions, T>(
    operation: K,
    options: O | undefined,
    run: (handler: Handlers[K], options: O) => AsyncIterable<T>,
  ): AsyncIterable<T> {
    const handler = this.#handler(operation);
    const opts = (options ?? {}) as O;
    const engine = this.engine;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* run(handler, opts);
        } catch (e) {
          throw normalize(e, engine, operation, opts.signal);
        }
      },
    };
  }

  /** Engine-wide operations. */
  readonly system = {
    /** Resolves when the engine answers. */
    ping: (options?: CallOptions): Promise<void> => this.#quick('system.ping', options, (h, o) => h(o)),
    /** The engine's version. */
    version: (options?: CallOptions): Promise<EngineVersion> =>
      this.#quick('system.version', options, (h, o) => h(o)),
    /** The engine's state. */
    info: (options?: CallOptions): Promise<EngineInfo> => this.#quick('system.info', options, (h, o) => h(o)),
    /** Events as they happen, until `until` or the signal. */
    events: (options?: EventsOptions): AsyncIterable<EngineEvent> =>
      this.#stream('system.events', options, (h, o) => h(o)),
  };

  /** Image operations. */
  readonly images = {
    /** Pulls `ref` into the engine. */
    pull: (ref: string, options?: PullOptions): Promise<PulledImage> =>
      this.#long('images.pull', options, (h, o) => h(ref, o)),
    /** Lists images. */
    list: (options?: ImageListOptions): Promise<ImageSummary[]> =>
      this.#quick('images.list', options, (h, o) => h(o)),
    /** One image, by name or id. */
    inspect: (ref: string, options?: CallOptions): Promise<ImageDetails> =>
      this.#quick('images.inspect', options, (h, o) => h(ref, o)),
    /** Untags or deletes an image. */
    remove: (ref: string, options?: ImageRemoveOptions): Promise<ImageRemoved[]> =>
      this.#quick('images.remove', options, (h, o) => h(ref, o)),
    /** Removes dangling images no container uses; with `all`, every image no container uses. */
    prune: (options?: ImagePruneOptions): Promise<ImagesPruned> =>
      this.#quick('images.prune', options, (h, o) => h(o)),
    /** Gives `source` the name `target`. */
    tag: (source: string, target: string, options?: CallOptions): Promise<void> =>
      this.#quick('images.tag', options, (h, o) => h(source, target, o)),
    /** Pushes `ref` to its registry. */
    push: (ref: string, options?: PushOptions): Promise<PushedImage> =>
      this.#long('images.push', options, (h, o) => h(ref, o)),
    /** The steps that made an image, newest first (`docker history`). */
    history: (ref: string, options?: CallOptions): Promise<HistoryEntry[]> =>
      this.#quick('images.history', options, (h, o) => h(ref, o)),
    /** Images as a docker-archive stream (`docker save`). */
    save: (refs: string[], options?: CallOptions): AsyncIterable<Uint8Array> =>
      this.#stream('images.save', options, (h, o) => h(refs, o)),
    /** Loads a docker-archive stream (`docker load`); gives what it loaded. */
    load: (archive: AsyncIterable<Uint8Array>, options?: LoadOptions): Promise<string[]> =>
      this.#long('images.load', options, (h, o) => h(archive, o)),
  };

  /** Volume operations. */
  readonly volumes = {
    /** Makes a volume (named by the engine when `spec.name` is absent). */
    create: (spec: VolumeSpec = {}, options?: CallOptions): Promise<VolumeDetails> =>
      this.#quick('volumes.create', options, (h, o) => h(spec, o)),
    /** Lists volumes. */
    list: (options?: CallOptions): Promise<VolumeDetails[]> =>
      this.#quick('volumes.list', options, (h, o) => h(o)),
    /** One volume, by name. */
    inspect: (name: string, options?: CallOptions): Promise<VolumeDetails> =>
      this.#quick('volumes.inspect', options, (h, o) => h(name, o)),
    /** Removes a volume (`volume-in-use` when a container uses it). */
    remove: (name: string, options?: VolumeRemoveOptions): Promise<void> =>
      this.#quick('volumes.remove', options, (h, o) => h(name, o)),
    /** Removes every volume no container uses. */
    prune: (options?: CallOptions): Promise<VolumesPruned> =>
      this.#quick('volumes.prune', options, (h, o) => h(o)),
  };

  /** Network operations. */
  readonly networks = {
    /** Makes a network. */
    create: (spec: NetworkSpec, options?: CallOptions): Promise<NetworkDetails> =>
      this.#quick('networks.create', options, (h, o) => h(spec, o)),
    /** Lists networks. */
    list: (options?: CallOptions): Promise<NetworkDetails[]> =>
      this.#quick('networks.list', options, (h, o) => h(o)),
    /** One network, by name or id. */
    inspect: (name: string, options?: CallOptions): Promise<NetworkDetails> =>
      this.#quick('networks.inspect', options, (h, o) => h(name, o)),
    /** Removes a network (`network-in-use` when a container uses it). */
    remove: (name: string, options?: CallOptions): Promise<void> =>
      this.#quick('networks.remove', options, (h, o) => h(name, o)),
    /** Removes every user network no container uses. */
    prune: (options?: CallOptions): Promise<NetworksPruned> =>
      this.#quick('networks.prune', options, (h, o) => h(o)),
    /** Attaches `container` to network `name`. */
    connect: (
      name: string,
      container: string,
      spec: NetworkConnectSpec = {},
      options?: CallOptions,
    ): Promise<void> => this.#quick('networks.connect', options, (h, o) => h(name, container, spec, o)),
    /** Detaches `container` from network `name`. */
    disconnect: (name: string, container: string, options?: NetworkDisconnectOptions): Promise<void> =>
      this.#quick('networks.disconnect', options, (h, o) => h(name, container, o)),
  };

  /** Container operations. */
  readonly containers = {
    /** Makes an image of its changes (`docker commit`). */
    commit: (id: string, spec: CommitSpec = {}, options?: CallOptions): Promise<CommittedImage> =>
      this.#long('containers.commit', options, (h, o) => h(id, spec, o)),
    /** Makes a container (pulling a missing image, as the docker CLI does, unless `pull: 'never'`). */
    create: (spec: ContainerSpec, options?: CreateOptions): Promise<CreatedContainer> =>
      this.#long('containers.create', options, (h, o) => h(spec, o)),
    /** Starts it. */
    start: (id: string, options?: CallOptions): Promise<void> =>
      this.#quick('containers.start', options, (h, o) => h(id, o)),
    /** Waits for it to exit; gives its exit code. */
    wait: (id: string, options?: WaitOptions): Promise<number> =>
      this.#long('containers.wait', options, (h, o) => h(id, o)),
    /** Its output; with `follow`, until it exits. */
    logs: (id: string, options?: LogsOptions): AsyncIterable<OutputChunk> =>
      this.#stream('containers.logs', options, (h, o) => h(id, o)),
    /** Connects to its stdio. */
    attach: (id: string, options?: AttachOptions): Promise<Attachment> =>
      this.#long('containers.attach', options, (h, o) => h(id, o)),
    /** Runs a command in it. */
    exec: (id: string, spec: ExecSpec, options?: ExecOptions): Promise<ExecProcess> =>
      this.#long('containers.exec', options, (h, o) => h(id, spec, o)),
    /** One container. */
    inspect: (id: string, options?: CallOptions): Promise<ContainerDetails> =>
      this.#quick('containers.inspect', options, (h, o) => h(id, o)),
    /** Lists containers (running ones, or `all`). */
    list: (options?: ContainerListOptions): Promise<ContainerSummary[]> =>
      this.#quick('containers.list', options, (h, o) => h(o)),
    /** Its stop signal, then SIGKILL after `timeout` seconds. */
    stop: (id: string, options?: StopOptions): Promise<void> =>
      this.#long('containers.stop', options, (h, o) => h(id, o)),
    /** Sends it a signal, by name (`SIGTERM`, `TERM`) or number; SIGKILL by default. */
    kill: (id: string, signal: string | number = 'SIGKILL', options?: CallOptions): Promise<void> =>
      this.#quick('containers.kill', options, (h, o) => h(id, signal, o)),
    /** Freezes it. */
    pause: (id: string, options?: CallOptions): Promise<void> =>
      this.#quick('containers.pause', options, (h, o) => h(id, o)),
    /** Thaws it. */
    unpause: (id: string, options?: CallOptions): Promise<void> =>
      this.#quick('containers.unpause', options, (h, o) => h(id, o)),
    /** Removes it. */
    remove: (id: string, options?: RemoveOptions): Promise<void> =>
      this.#quick('containers.remove', options, (h, o) => h(id, o)),
    /** Removes every container that is not running or paused: exited, and created but never started. */
    prune: (options?: ContainerPruneOptions): Promise<ContainersPruned> =>
      this.#quick('containers.prune', options, (h, o) => h(o)),
    /** Sets its terminal size. */
    resize: (id: string, size: ConsoleSize, options?: CallOptions): Promise<void> =>
      this.#quick('containers.resize', options, (h, o) => h(id, size, o)),
    /**
     * Runs a container in the foreground: create, start, relay its output, wait, remove under
     * `autoRemove`; gives its exit code. Uses the driver's one-step run when it has one.
     */
    run: (spec: ContainerSpec, options?: RunOptions): Promise<RunResult> => {
      if (this.has('containers.run')) return this.#long('containers.run', options, (h, o) => h(spec, o));
      return this.#composedRun(spec, options ?? {});
    },
  };

  /** `containers.run` from the steps, for drivers without a one-step run. */
  async #composedRun(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    const { signal } = options;
    const { id } = await this.containers.create(spec, options);
    let started = false;
    try {
      const attachment = await this.containers.attach(id, {
        stdin: spec.openStdin === true && !!options.stdin,
        signal,
      });
      const relay = (async () => {
        for await (const chunk of attachment.output) options.onOutput?.(chunk);
      })();
      const feed = options.stdin
        ? (async () => {
            for await (const data of options.stdin ?? []) await attachment.write(data);
            await attachment.closeStdin();
          })()
        : Promise.resolve();
      await this.containers.start(id, { signal });
      started = true;
      const exitCode = await this.containers.wait(id, { signal });
      await relay;
      attachment.close();
      await feed.catch(() => {});
      if (spec.autoRemove) await this.containers.remove(id, { force: true }).catch(() => {});
      return { id, exitCode };
    } catch (e) {
      // a failed run leaves nothing behind
      if (!started || spec.autoRemove) await this.containers.remove(id, { force: true }).catch(() => {});
      throw e;
    }
  }
}

function withTimeout<O extends CallOptions>(options: O | undefined, ms: number): O {
  const timeout = AbortSignal.timeout(ms);
  const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  return { ...(options ?? ({} as O)), signal };
}

/** Every failure as a standard engine error naming the engine and the operation. */
function normalize(
  e: unknown,
  engine: string,
  operation: Operation | 'connect',
  signal: AbortSignal | undefined,
): OcikitError {
  // a standard engine error stands; any other failure once the signal fired is the abort (or the
  // timeout) itself, whatever the driver's library threw for it
  if (isOcikitError(e) && (typeof e.details['engine'] === 'string' || !signal?.aborted)) return e;
  const err = e as { name?: string; message?: string } | undefined;
  if (signal?.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    if (reason?.name === 'TimeoutError')
      return engineError('timeout', { engine, operation, message: 'timed out', cause: e });
    return engineError('aborted', { engine, operation, message: 'aborted', cause: e });
  }
  return engineError('engine-error', {
    engine,
    operation,
    message: err?.message ?? String(e),
    cause: e,
  });
}
