import {
  chmodSync,
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  isNotFound,
  NotFoundError,
  throwIfAborted,
  truncate,
} from '@ocikit/errors';
import type { Process } from '@ocikit/runtime-spec';
import { ensureOwnDirectory } from './attach-dir.ts';
import { type ForegroundOptions, runInForeground } from './foreground.ts';
import { type LogLine, readLogs } from './logs.ts';
import { createUnderConmon } from './monitor.ts';
import {
  CONTAINER_NAME,
  type ContainerRecord,
  isAlive,
  newId,
  Records,
  runtimeOf,
  sleep,
} from './records.ts';
import { type RunResult, Runtime, type RuntimeOptions, type Stdio, signalNumber } from './runtime.ts';

/**
 * The `details.reason` of the errors {@link Containers} throws, for programs to branch on rather
 * than on messages: `no-such-container` (NotFound), `ambiguous` (an id prefix of several
 * containers; InvalidArgument, `details.matches`), `name-in-use` (AlreadyExists), `not-stopped`
 * (FailedPrecondition: removing a live container without `force`). `runForeground`,
 * `createInRuntime` and `exec` failures of the runtime add `command-not-found` and
 * `command-not-executable` when the container's command could not be started (the container is
 * then exited with 127 or 126, the runtime's message its `error`).
 */
export type ContainerErrorReason =
  | 'no-such-container'
  | 'ambiguous'
  | 'name-in-use'
  | 'not-stopped'
  | 'command-not-found'
  | 'command-not-executable';

/** Options of {@link Containers}. */
export interface ContainersOptions {
  /** The state root; records live in `ROOT/containers`, runtime state in `ROOT/runtime/<name>`. */
  root: string;
  /** The conmon binary (default `conmon` on PATH or in /usr/bin, /usr/libexec/podman). */
  conmon?: string;
  /** The most bytes a container's log file keeps (default 10 MiB). */
  logSizeMax?: number;
}

/** What {@link Containers.prepare} needs. */
export interface PrepareOptions {
  name?: string;
  image: string;
  command: string[];
  tty?: boolean;
  interactive?: boolean;
  /** The runtime to use (default runc). */
  runtime?: Pick<RuntimeOptions, 'binary'>;
  autoRemove?: boolean;
  stopSignal?: string;
  /** Seconds {@link Containers.stop} waits before SIGKILL when it is given no timeout (default 10). */
  stopTimeout?: number;
  labels?: Record<string, string>;
}

/**
 * Containers under a state root: records, bundles, logs and exit codes, supervised by conmon when
 * detached (decision 100) and by this process when in the foreground. Every read reconciles a
 * record with the runtime and the monitor's exit file, so a crash of ocikit never wedges one.
 *
 * @example
 * ```ts
 * const containers = new Containers({ root: '/var/lib/ocikit' });
 * const rec = await containers.prepare({ image: 'busybox', command: ['sh', '-c', 'echo hi'] });
 * // … write rec.bundle/rootfs and rec.bundle/config.json …
 * await containers.createInRuntime(rec.id);
 * await containers.start(rec.id);
 * console.log(await containers.wait(rec.id)); // 0
 * ```
 */
export class Containers {
  /** `ROOT/containers`. */
  readonly dir: string;
  readonly #root: string;
  readonly #options: ContainersOptions;
  readonly #records: Records;

  constructor(options: ContainersOptions) {
    this.#root = options.root;
    this.dir = join(options.root, 'containers');
    this.#options = options;
    this.#records = new Records(this.dir);
  }

  /** The runtime a record uses. */
  runtimeFor(record: Pick<ContainerRecord, 'runtime' | 'runtimeRoot'>): Runtime {
    return runtimeOf(record);
  }

  /** Allocates an id and a directory, checks the name is free, and writes a `configured` record. */
  async prepare(options: PrepareOptions): Promise<ContainerRecord> {
    const id = newId();
    const name = options.name ?? `ocikit_${id.slice(0, 12)}`;
    if (!CONTAINER_NAME.test(name)) {
      throw new InvalidArgumentError(`invalid container name ${JSON.stringify(truncate(name, 80))}`, {
        hint: 'use letters, digits, "_", "." and "-", starting with a letter or digit',
      });
    }
    const runtime = new Runtime({ binary: options.runtime?.binary ?? 'runc' });
    mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    // a generated name carries the new random id: only a chosen one can collide
    for (const other of options.name === undefined ? [] : await this.#records.readAll()) {
      if (other.name === name) {
        throw new AlreadyExistsError(`a container named ${name} exists already (${other.id.slice(0, 12)})`, {
          details: { reason: 'name-in-use', name, id: other.id },
          hint: 'remove that container, or choose another name',
        });
      }
    }
    const dir = this.#records.recordDir(id);
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle, { recursive: true });
    // runc needs every directory up to the rootfs to be traversable
    chmodSync(dir, 0o755);
    chmodSync(bundle, 0o755);
    const record: ContainerRecord = {
      id,
      name,
      image: options.image,
      command: options.command,
      bundle,
      runtime: runtime.binary,
      runtimeRoot: join(this.#root, 'runtime', runtime.name),
      tty: options.tty ?? false,
      interactive: options.interactive ?? false,
      status: 'configured',
      createdAt: new Date().toISOString(),
      logPath: join(dir, 'ctr.log'),
      autoRemove: options.autoRemove ?? false,
      stopSignal: options.stopSignal ?? 'SIGTERM',
      ...(options.stopTimeout !== undefined ? { stopTimeout: options.stopTimeout } : {}),
      labels: options.labels ?? {},
    };
    await this.save(record);
    return record;
  }

  /**
   * Writes a record atomically. Records are small files read and written many times per command:
   * synchronous calls cost a fraction of the thread-pool round trips (decision 103).
   */
  async save(record: ContainerRecord): Promise<void> {
    await this.#records.save(record);
  }

  /**
   * Finds a container by id, unique id prefix (3 characters or more), or name; reconciled.
   * NotFoundError (`details.reason` `no-such-container`) when none matches; InvalidArgumentError
   * (`ambiguous`, with `details.matches`) when a prefix starts several ids.
   */
  async get(ref: string): Promise<ContainerRecord> {
    return this.refresh(await this.#find(ref));
  }

  /** The record `ref` names, as stored (not reconciled); the errors of {@link get}. */
  async #find(ref: string): Promise<ContainerRecord> {
    // a full id names its directory: no need to read every record
    const direct = /^[0-9a-f]{64}$/.test(ref) ? await this.#records.read(ref) : undefined;
    if (direct) return direct;
    const all = await this.#records.readAll();
    const matches = all.filter((r) => r.id === ref || r.name === ref);
    const byPrefix = matches.length > 0 || ref.length < 3 ? matches : all.filter((r) => r.id.startsWith(ref));
    if (byPrefix.length === 0) {
      throw new NotFoundError(`no container ${JSON.stringify(truncate(ref, 80))}`, {
        details: { reason: 'no-such-container', ref: truncate(ref, 200) },
      });
    }
    if (byPrefix.length > 1) {
      throw new InvalidArgumentError(
        `${JSON.stringify(truncate(ref, 80))} is the start of ${byPrefix.length} container ids`,
        {
          details: { reason: 'ambiguous', ref: truncate(ref, 200), matches: byPrefix.length },
          hint: 'give more of the id, or the name',
        },
      );
    }
    return byPrefix[0] as ContainerRecord;
  }

  /**
   * Whether a record is an exited `autoRemove` container that nobody is left to remove: the ocikit
   * that ran it in the foreground and its monitor are both gone (killed before they could). The
   * caller should remove it, as podman's conmon does with its exit command.
   */
  abandoned(record: ContainerRecord): boolean {
    return (
      record.autoRemove &&
      record.status === 'exited' &&
      !isAlive(record.ownerPid) &&
      !isAlive(record.monitorPid)
    );
  }

  /** Every container, reconciled, newest first. */
  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const r of await this.#records.readAll()) out.push(await this.refresh(r));
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Brings a record in line with reality: the monitor's exit file, else the runtime's state; a
   * container whose process and monitor are gone is marked exited (code unknown) rather than left running.
   */
  async refresh(record: ContainerRecord): Promise<ContainerRecord> {
    if (record.status === 'exited') return record;
    if (record.status === 'configured') {
      // A record whose preparation was interrupted (no runtime container, preparer gone) stays configured;
      // `rm` removes it.
      return record;
    }
    const exit = await this.#records.exitFile(record);
    let next: ContainerRecord = record;
    if (exit !== undefined) {
      next = { ...record, status: 'exited', exitCode: exit.code, finishedAt: exit.at };
    } else {
      let state: Awaited<ReturnType<Runtime['state']>> | undefined;
      try {
        state = await this.runtimeFor(record).state(record.id);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (state === undefined && record.pid === undefined && isAlive(record.ownerPid)) {
        // a foreground run still starting: its owner will record the pid and the exit
        return record;
      }
      if (state === undefined || state.status === 'stopped') {
        if (isAlive(record.monitorPid)) {
          // the monitor is writing the exit file right now
          await sleep(100);
          const again = await this.#records.exitFile(record);
          if (again) next = { ...record, status: 'exited', exitCode: again.code, finishedAt: again.at };
          else return record;
        } else if (!isAlive(record.pid) || state?.status === 'stopped') {
          const { exitCode: _unknown, ...rest } = record;
          next = { ...rest, status: 'exited', finishedAt: new Date().toISOString() };
        }
      } else if ((state.status as string) === 'paused') next = { ...record, status: 'paused' };
      else if (state.status === 'running')
        next = { ...record, status: 'running', ...(state.pid ? { pid: state.pid } : {}) };
      else if (state.status === 'created') next = { ...record, status: 'created' };
    }
    if (next !== record) await this.save(next);
    return next;
  }

  /**
   * Creates the container in the runtime under conmon, which stays as its monitor: it outlives
   * this process, reaps the container, keeps its logs and writes its exit code.
   * `exitCommand` runs when the container exits (e.g. `ocikit rm` for `--rm`). When `signal` fires
   * first, the monitor and the runtime are killed, what they made is removed, the record stays
   * `configured`, and an AbortedError is thrown.
   */
  async createInRuntime(
    ref: string,
    options: { exitCommand?: string[]; signal?: AbortSignal } = {},
  ): Promise<ContainerRecord> {
    throwIfAborted(options.signal);
    const record = await this.get(ref);
    if (record.status !== 'configured') {
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not being configured`);
    }
    return createUnderConmon(this.#records, record, {
      root: this.#root,
      conmon: this.#options.conmon,
      logSizeMax: this.#options.logSizeMax,
      exitCommand: options.exitCommand,
      signal: options.signal,
    });
  }

  /** Starts a created container's process. */
  async start(ref: string): Promise<ContainerRecord> {
    const found = await this.#find(ref);
    // A record that says created is started without asking the runtime for its state first (a
    // `runtime state` process on every start): the runtime's start refuses a container that is not
    // created, and the record is reconciled then.
    const record = found.status === 'created' ? found : await this.refresh(found);
    const notCreated = (r: ContainerRecord) =>
      new FailedPreconditionError(`container ${r.name} is ${r.status}; only a created container can start`);
    if (record.status !== 'created') throw notCreated(record);
    try {
      await this.runtimeFor(record).start(record.id);
    } catch (e) {
      const now = await this.refresh(record).catch(() => record);
      if (now.status !== 'created') throw notCreated(now);
      throw e;
    }
    const next: ContainerRecord = { ...record, status: 'running', startedAt: new Date().toISOString() };
    await this.save(next);
    return next;
  }

  /**
   * Runs a configured container in the foreground with `runtime run`: stdio as given (inherited:
   * a terminal works as with `runc run`), or its output streamed to `output`; the record kept up
   * to date and its output logged as a detached container's is (see {@link ForegroundOptions.log}).
   * Resolves to its exit code, with its output when `stdio` is `'pipe'`. A command that cannot
   * start throws (`command-not-found`, `command-not-executable`) and leaves the container exited
   * with 127 or 126 and the reason as its `error`.
   * With `proxySignals`, signals sent to this process go to the container (see `RunOptions.proxySignals`).
   *
   * @example
   * ```ts
   * const { exitCode, stdout } = await containers.runForeground(rec.id, { stdio: 'pipe' });
   * ```
   */
  async runForeground(ref: string, options: ForegroundOptions = {}): Promise<RunResult> {
    const record = await this.get(ref);
    if (record.status !== 'configured') {
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not being configured`);
    }
    return runInForeground(this.#records, record, {
      ...(this.#options.logSizeMax !== undefined ? { logSizeMax: this.#options.logSizeMax } : {}),
      ...options,
    });
  }

  /** Waits until the container exits and resolves to its exit code (undefined when it could not be known). */
  async wait(
    ref: string,
    options: { signal?: AbortSignal; pollMs?: number } = {},
  ): Promise<number | undefined> {
    for (;;) {
      throwIfAborted(options.signal);
      const record = await this.get(ref);
      if (record.status === 'exited') return record.exitCode;
      if (record.status === 'configured') {
        throw new FailedPreconditionError(`container ${record.name} was never created`);
      }
      await sleep(options.pollMs ?? 100);
    }
  }

  /**
   * The container's log lines (kept for detached and foreground containers, see
   * {@link ContainerRecord.logPath}): the last `tail`, then, with `follow`, new lines as they come
   * until it exits.
   */
  async *logs(
    ref: string,
    options: { follow?: boolean; tail?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<LogLine> {
    yield* readLogs(this.#records, await this.get(ref), options);
  }

  /** Sends a signal to the container's process (all its processes with `all`). */
  async kill(
    ref: string,
    signal: string | number = 'SIGKILL',
    options: { all?: boolean } = {},
  ): Promise<void> {
    const record = await this.get(ref);
    if (record.status !== 'running' && record.status !== 'paused' && record.status !== 'created') {
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not running`);
    }
    signalNumber(signal);
    await this.runtimeFor(record).kill(record.id, signal, options);
  }

  /**
   * Sends the stop signal, waits up to `timeout` seconds (the record's `stopTimeout` when not given,
   * else 10), then SIGKILL; resolves to the exit code.
   */
  async stop(
    ref: string,
    options: { timeout?: number; signal?: AbortSignal } = {},
  ): Promise<number | undefined> {
    const record = await this.get(ref);
    if (record.status === 'exited' || record.status === 'configured') return record.exitCode;
    const runtime = this.runtimeFor(record);
    if (record.status === 'paused') await runtime.resume(record.id).catch(() => {});
    await runtime.kill(record.id, record.stopSignal).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    const deadline = Date.now() + (options.timeout ?? record.stopTimeout ?? 10) * 1000;
    while (Date.now() < deadline) {
      const now = await this.get(record.id);
      if (now.status === 'exited') return now.exitCode;
      await sleep(100);
    }
    await runtime.kill(record.id, 'SIGKILL', { all: true }).catch(() => {});
    return this.wait(record.id, options.signal ? { signal: options.signal } : {});
  }

  /** Freezes the container. */
  async pause(ref: string): Promise<ContainerRecord> {
    const record = await this.get(ref);
    if (record.status !== 'running')
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not running`);
    await this.runtimeFor(record).pause(record.id);
    const next: ContainerRecord = { ...record, status: 'paused' };
    await this.save(next);
    return next;
  }

  /** Thaws a paused container. */
  async unpause(ref: string): Promise<ContainerRecord> {
    const record = await this.get(ref);
    if (record.status !== 'paused')
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not paused`);
    await this.runtimeFor(record).resume(record.id);
    const next: ContainerRecord = { ...record, status: 'running' };
    await this.save(next);
    return next;
  }

  /**
   * Runs another process in a running container; resolves to its exit code. What `proc` leaves
   * out (env, cwd, user, capabilities, rlimits) comes from the container's own process; `env`
   * entries are added to the container's. With `proxySignals`, signals sent to this process go to
   * the exec'd process (see `RunOptions.proxySignals`).
   */
  async exec(
    ref: string,
    proc: Partial<Process> & { args: string[] },
    options: { stdio?: Stdio; proxySignals?: boolean } = {},
  ): Promise<number> {
    const record = await this.get(ref);
    if (record.status !== 'running')
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not running`);
    const spec = JSON.parse(await readFile(join(record.bundle, 'config.json'), 'utf8')) as {
      process?: Process;
    };
    const base: Process = spec.process ?? { cwd: '/', user: { uid: 0, gid: 0 } };
    const env = new Map((base.env ?? []).map((e) => [e.split('=')[0] ?? e, e]));
    for (const e of proc.env ?? []) env.set(e.split('=')[0] ?? e, e);
    const full: Process = { ...base, ...proc, env: [...env.values()], terminal: proc.terminal ?? false };
    return this.runtimeFor(record).exec(record.id, full, {
      stdio: options.stdio ?? 'inherit',
      proxySignals: options.proxySignals === true,
    });
  }

  /** The process ids inside a running container. */
  async top(ref: string): Promise<number[]> {
    const record = await this.get(ref);
    if (record.status !== 'running' && record.status !== 'paused') {
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not running`);
    }
    return this.runtimeFor(record).ps(record.id);
  }

  /**
   * Resizes the terminal of a running detached `-t` container (what a client does when its own
   * window changes): a line on conmon's control FIFO in the bundle, which sets the size of the
   * container's pty. Does nothing when the monitor is gone (nobody reads the FIFO).
   */
  async resize(ref: string, size: { rows: number; columns: number }): Promise<void> {
    const record = await this.get(ref);
    if (!record.tty) throw new FailedPreconditionError(`container ${record.name} has no terminal`);
    const rows = Math.trunc(size.rows);
    const columns = Math.trunc(size.columns);
    if (!(rows > 0 && rows <= 1000 && columns > 0 && columns <= 1000)) {
      throw new InvalidArgumentError(
        `a terminal of ${size.rows}x${size.columns}: rows and columns must be 1-1000`,
      );
    }
    let fd: number;
    try {
      // non-blocking: opening a FIFO nobody reads would otherwise wait forever
      fd = openSync(join(record.bundle, 'ctl'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENXIO' || code === 'ENOENT') return;
      throw e;
    }
    try {
      // conmon's control message: type 1 (resize), height, width
      writeSync(fd, `1 ${rows} ${columns}\n`);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The attach socket conmon serves for a detached container (SOCK_SEQPACKET: each packet from it
   * starts with a stream byte, 2 stdout, 3 stderr; bytes written to it go to the container's stdin).
   */
  async attachSocket(ref: string): Promise<string> {
    const record = await this.get(ref);
    const path = record.attachDir && join(record.attachDir, record.id.slice(0, 12), 'attach');
    if (record.attachDir) ensureOwnDirectory(record.attachDir);
    if (record.status !== 'running' || !path || !existsSync(path)) {
      throw new FailedPreconditionError(
        `container ${record.name} is ${record.status}; only a running detached container can be attached to`,
      );
    }
    return path;
  }

  /** Removes a container: its runtime state, record, bundle and logs. A running one only with `force` (killed first). */
  async remove(ref: string, options: { force?: boolean } = {}): Promise<ContainerRecord> {
    const record = await this.get(ref);
    if (
      (record.status === 'running' || record.status === 'paused' || record.status === 'created') &&
      !options.force
    ) {
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}`, {
        details: { reason: 'not-stopped', name: record.name, status: record.status },
        hint: 'stop it first, or remove it with force (killing it)',
      });
    }
    // the runtime keeps state only while it knows the container (`runc run` deletes it at exit)
    if (existsSync(join(record.runtimeRoot, record.id))) {
      await this.runtimeFor(record)
        .delete(record.id, { force: true })
        .catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
    }
    if (isAlive(record.monitorPid) && options.force) {
      // conmon exits once the container is gone; give it a moment to write the exit file
      for (let i = 0; i < 20 && isAlive(record.monitorPid); i++) await sleep(50);
    }
    // conmon unlinks its socket link when it exits; one it could not (killed) goes here
    if (record.attachDir) rmSync(join(record.attachDir, record.id.slice(0, 12)), { force: true });
    // conmon's last writes and the exit command it starts as it ends (the `die` marker, a refreshed
    // record) can still be under way: the directory is moved aside before it is deleted
    this.#records.removeDir(record.id);
    return record;
  }
}
