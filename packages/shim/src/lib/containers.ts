import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
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
import { attachDirFor, ensureOwnDirectory } from './attach-dir.ts';
import {
  checkId,
  hasHybridCgroups,
  lastLogError,
  Runtime,
  type RuntimeOptions,
  type Stdio,
  signalNumber,
} from './runtime.ts';

/**
 * A container id: 32 random bytes as hex, as Docker's. Read from /dev/urandom rather than through
 * node:crypto, which costs `run` ~8 ms to load (decision 105).
 */
function newId(): string {
  const buf = Buffer.alloc(32);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < buf.length; ) got += readSync(fd, buf, got, buf.length - got, null);
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}

/** Where a container is in its life. `configured`: its bundle is being prepared, not yet created. */
export type ContainerStatus = 'configured' | 'created' | 'running' | 'paused' | 'exited';

/** What ocikit keeps about a container, in `ROOT/containers/<id>/container.json`. */
export interface ContainerRecord {
  id: string;
  name: string;
  /** The image reference it was made from. */
  image: string;
  /** The command it runs (entrypoint and arguments). */
  command: string[];
  /** Its OCI bundle directory (`config.json`, `rootfs/`). */
  bundle: string;
  /** The runtime binary. */
  runtime: string;
  /** The runtime's state directory (`--root`). */
  runtimeRoot: string;
  tty: boolean;
  interactive: boolean;
  status: ContainerStatus;
  /** Host pid of the container's process, once created. */
  pid?: number;
  /** Pid of its monitor (conmon) for detached containers. */
  monitorPid?: number;
  /** Pid of the ocikit process running it in the foreground. */
  ownerPid?: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Exit code (128+N when killed by signal N); absent while it runs, or when it could not be known. */
  exitCode?: number;
  /** Its log file (stdout and stderr with timestamps), for detached containers. */
  logPath: string;
  /** The directory holding the link to its attach socket (detached containers; this user's alone). */
  attachDir?: string;
  /** Remove the container when it exits. */
  autoRemove: boolean;
  /** The signal `stop` sends first (default SIGTERM). */
  stopSignal: string;
  /** Free-form labels. */
  labels: Record<string, string>;
}

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
  labels?: Record<string, string>;
}

/** One log line of a container. */
export interface LogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text, without its line break (a partial line has `partial: true`). */
  text: string;
  partial: boolean;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

function findConmon(explicit?: string): string | undefined {
  const candidates = explicit
    ? [explicit]
    : [
        ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'conmon')),
        '/usr/bin/conmon',
        '/usr/libexec/podman/conmon',
        '/usr/local/libexec/podman/conmon',
      ];
  return candidates.find((c) => c && existsSync(c));
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a pid file, or undefined. */
function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILL to a process group (and its leader), if there is one. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 1) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone, or not a group leader
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  constructor(options: ContainersOptions) {
    this.#root = options.root;
    this.dir = join(options.root, 'containers');
    this.#options = options;
  }

  #recordDir(id: string): string {
    return join(this.dir, checkId(id));
  }

  /** The runtime a record uses. */
  runtimeFor(record: Pick<ContainerRecord, 'runtime' | 'runtimeRoot'>): Runtime {
    return new Runtime({ binary: record.runtime, root: record.runtimeRoot });
  }

  /** Allocates an id and a directory, checks the name is free, and writes a `configured` record. */
  async prepare(options: PrepareOptions): Promise<ContainerRecord> {
    const id = newId();
    const name = options.name ?? `ocikit_${id.slice(0, 12)}`;
    if (!NAME.test(name)) {
      throw new InvalidArgumentError(`invalid container name ${JSON.stringify(truncate(name, 80))}`, {
        hint: 'use letters, digits, "_", "." and "-", starting with a letter or digit',
      });
    }
    const runtime = new Runtime({ binary: options.runtime?.binary ?? 'runc' });
    mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    // a generated name carries the new random id: only a chosen one can collide
    for (const other of options.name === undefined ? [] : await this.#readAll()) {
      if (other.name === name) {
        throw new AlreadyExistsError(`a container named ${name} exists already (${other.id.slice(0, 12)})`, {
          hint: `remove it with 'ocikit rm ${name}', or choose another --name`,
        });
      }
    }
    const dir = this.#recordDir(id);
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
    const file = join(this.#recordDir(record.id), 'container.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmp, file);
  }

  async #read(id: string): Promise<ContainerRecord | undefined> {
    try {
      return JSON.parse(readFileSync(join(this.#recordDir(id), 'container.json'), 'utf8')) as ContainerRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (e instanceof SyntaxError) return undefined; // a record torn by a crash mid-write: ignored
      throw e;
    }
  }

  async #readAll(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const id of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      const record = await this.#read(id);
      if (record) out.push(record);
    }
    return out;
  }

  /** Finds a container by id, unique id prefix, or name; reconciled. NotFound otherwise. */
  async get(ref: string): Promise<ContainerRecord> {
    // a full id names its directory: no need to read every record
    const direct = /^[0-9a-f]{64}$/.test(ref) ? await this.#read(ref) : undefined;
    if (direct) return this.refresh(direct);
    const all = await this.#readAll();
    const matches = all.filter((r) => r.id === ref || r.name === ref);
    const byPrefix = matches.length > 0 || ref.length < 3 ? matches : all.filter((r) => r.id.startsWith(ref));
    if (byPrefix.length === 0) {
      throw new NotFoundError(`no container ${JSON.stringify(truncate(ref, 80))}`, {
        hint: "see 'ocikit ps -a'",
      });
    }
    if (byPrefix.length > 1)
      throw new InvalidArgumentError(`${JSON.stringify(ref)} names ${byPrefix.length} containers`);
    return this.refresh(byPrefix[0] as ContainerRecord);
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
    for (const r of await this.#readAll()) out.push(await this.refresh(r));
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
    const exit = await this.#exitFile(record);
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
          const again = await this.#exitFile(record);
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

  async #exitFile(record: ContainerRecord): Promise<{ code: number; at: string } | undefined> {
    const file = join(this.#recordDir(record.id), 'exits', record.id);
    try {
      const text = readFileSync(file, 'utf8');
      const st = statSync(file);
      const code = Number(text.trim());
      return Number.isInteger(code) ? { code, at: st.mtime.toISOString() } : undefined;
    } catch {
      return undefined;
    }
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
    const { signal } = options;
    throwIfAborted(signal);
    const record = await this.get(ref);
    if (record.status !== 'configured') {
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not being configured`);
    }
    const conmon = findConmon(this.#options.conmon);
    if (!conmon) {
      throw new FailedPreconditionError('conmon is not installed; detached containers need it', {
        hint: 'apt-get install conmon',
      });
    }
    const dir = this.#recordDir(record.id);
    const attachDir = attachDirFor(this.#root);
    ensureOwnDirectory(attachDir);
    await mkdir(join(dir, 'exits'), { recursive: true });
    await mkdir(record.runtimeRoot, { recursive: true });
    const runtimeBinary = await this.#runtimeForMonitor(record);
    const args = [
      '--api-version',
      '1',
      '-c',
      record.id,
      '-u',
      record.id.slice(0, 12),
      '-n',
      record.name,
      '-r',
      runtimeBinary,
      '-b',
      record.bundle,
      '-p',
      join(dir, 'pid'),
      '-l',
      `k8s-file:${record.logPath}`,
      '--log-size-max',
      String(this.#options.logSizeMax ?? 10 << 20),
      '--exit-dir',
      join(dir, 'exits'),
      '--socket-dir-path',
      attachDir,
      '--conmon-pidfile',
      join(dir, 'conmon.pid'),
      '--runtime-arg',
      `--root=${record.runtimeRoot}`,
      '--log-level',
      'error',
    ];
    if (record.tty) args.push('-t');
    if (record.interactive) args.push('-i');
    if (options.exitCommand && options.exitCommand.length > 0) {
      const [cmd, ...rest] = options.exitCommand;
      args.push('--exit-command', cmd as string);
      for (const a of rest) args.push('--exit-command-arg', a);
    }
    const runtimeLog = join(dir, 'runtime.log');
    args.push('--runtime-arg', `--log=${runtimeLog}`, '--runtime-arg', '--log-format=json');
    // conmon reports on the sync pipe (fd 3) once the runtime has created the container:
    // {"data": PID}, or {"data": -1, "message": ...}; nothing at all when it failed early.
    throwIfAborted(signal);
    const synced = await new Promise<{ pid?: number; message?: string; aborted?: true }>(
      (resolve, reject) => {
        const child = spawn(conmon, args, {
          stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
          env: { ...process.env, _OCI_SYNCPIPE: '3' },
          detached: true,
        });
        const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
        let text = '';
        const timer = setTimeout(() => finish({ message: 'conmon did not report within 60 s' }), 60_000);
        const finish = (r: { pid?: number; message?: string; aborted?: true }) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          pipe.destroy();
          child.unref();
          resolve(r);
        };
        // Aborted: kill conmon and what it started (the runtime, its hooks). conmon puts itself in the
        // background: its group may be the one it was started in or one of its own.
        const onAbort = () => {
          const monitor = readPid(join(dir, 'conmon.pid'));
          for (const group of [child.pid, monitor]) killGroup(group);
          finish({ aborted: true });
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        child.on('error', reject);
        pipe.setEncoding('utf8');
        pipe.on('data', (d: string) => {
          text += d;
          const line = text.split('\n')[0];
          if (!text.includes('\n') || line === undefined) return;
          try {
            const msg = JSON.parse(line) as { data?: number; message?: string };
            if (typeof msg.data === 'number' && msg.data > 0) finish({ pid: msg.data });
            else finish({ message: msg.message ?? 'the runtime failed' });
          } catch {
            finish({ message: truncate(line, 200) });
          }
        });
        pipe.on('end', () => finish({}));
      },
    );
    if (synced.aborted) {
      await this.#undoCreate(record, dir, attachDir);
      throwIfAborted(signal);
    }
    if (synced.pid === undefined) {
      const said = (await lastLogError(runtimeLog)) ?? synced.message ?? 'the runtime failed to create it';
      await this.runtimeFor(record)
        .delete(record.id, { force: true })
        .catch(() => {});
      throw new FailedPreconditionError(`cannot create container ${record.name}: ${truncate(said, 400)}`, {
        details: { id: record.id, runtimeMessage: truncate(said, 1000) },
      });
    }
    const pidText = String(synced.pid);
    const monitor = Number((await readFile(join(dir, 'conmon.pid'), 'utf8').catch(() => '')).trim());
    const next: ContainerRecord = {
      ...record,
      status: 'created',
      pid: Number(pidText.trim()),
      attachDir,
      ...(monitor > 0 ? { monitorPid: monitor } : {}),
    };
    await this.save(next);
    return next;
  }

  /** Removes what an interrupted create left: the monitor, the runtime's container, the monitor's files. */
  async #undoCreate(record: ContainerRecord, dir: string, attachDir: string): Promise<void> {
    const monitor = readPid(join(dir, 'conmon.pid'));
    killGroup(monitor);
    for (let i = 0; i < 40 && isAlive(monitor); i++) await sleep(25);
    await this.runtimeFor(record)
      .delete(record.id, { force: true })
      .catch(() => {});
    // a create killed before it wrote its state leaves a directory `delete` does not know
    rmSync(join(record.runtimeRoot, record.id), { recursive: true, force: true });
    rmSync(join(attachDir, record.id.slice(0, 12)), { force: true });
    for (const name of ['exits', 'pid', 'conmon.pid', 'runtime.log'])
      rmSync(join(dir, name), { recursive: true, force: true });
  }

  /** For crun on hybrid-cgroup hosts, conmon gets a wrapper that runs crun without the v2 hierarchy. */
  async #runtimeForMonitor(record: ContainerRecord): Promise<string> {
    if (!record.runtime.endsWith('/crun') || !hasHybridCgroups()) return record.runtime;
    const wrapper = join(this.#root, 'runtime', 'crun-hybrid');
    const script = `#!/bin/sh\n# crun refuses hybrid cgroups: run it in a mount namespace without the v2 hierarchy (decision 101)\nexec unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' ${record.runtime} "$@"\n`;
    if ((await readFile(wrapper, 'utf8').catch(() => '')) !== script) {
      await mkdir(join(this.#root, 'runtime'), { recursive: true });
      await writeFile(`${wrapper}.tmp`, script, { mode: 0o755 });
      await rename(`${wrapper}.tmp`, wrapper);
    }
    return wrapper;
  }

  /** Starts a created container's process. */
  async start(ref: string): Promise<ContainerRecord> {
    const record = await this.get(ref);
    if (record.status !== 'created') {
      throw new FailedPreconditionError(
        `container ${record.name} is ${record.status}; only a created container can start`,
      );
    }
    await this.runtimeFor(record).start(record.id);
    const next: ContainerRecord = { ...record, status: 'running', startedAt: new Date().toISOString() };
    await this.save(next);
    return next;
  }

  /**
   * Runs a configured container in the foreground with `runtime run`: stdio as given (inherited:
   * a terminal works as with `runc run`), the record kept up to date; resolves to its exit code.
   * With `proxySignals`, signals sent to this process go to the container (see `RunOptions.proxySignals`).
   */
  async runForeground(ref: string, options: { stdio?: Stdio; proxySignals?: boolean } = {}): Promise<number> {
    const record = await this.get(ref);
    if (record.status !== 'configured') {
      throw new FailedPreconditionError(`container ${record.name} is ${record.status}, not being configured`);
    }
    const dir = this.#recordDir(record.id);
    mkdirSync(record.runtimeRoot, { recursive: true });
    const runtime = this.runtimeFor(record);
    const running: ContainerRecord = {
      ...record,
      status: 'running',
      startedAt: new Date().toISOString(),
      ownerPid: process.pid,
    };
    await this.save(running);
    const pidFile = join(dir, 'pid');
    // Record the pid as soon as the runtime writes it, so a crash of this process leaves a record the
    // next command can check; once the runtime has returned there is nothing left to watch for.
    let finished = false;
    let wake = () => {};
    const watcher = (async () => {
      for (let i = 0; i < 200 && !finished; i++) {
        let text: string | undefined;
        try {
          text = readFileSync(pidFile, 'utf8');
        } catch {
          // not written yet
        }
        if (text?.trim()) {
          const current = await this.#read(record.id);
          if (current?.status === 'running') await this.save({ ...current, pid: Number(text.trim()) });
          return;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 25);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
    const stopWatching = () => {
      finished = true;
      wake();
      return watcher;
    };
    let code: number;
    try {
      code = await runtime.run(record.id, {
        bundle: record.bundle,
        pidFile,
        stdio: options.stdio ?? 'inherit',
        proxySignals: options.proxySignals === true,
      });
    } catch (e) {
      await stopWatching();
      await this.save({
        ...((await this.#read(record.id)) ?? running),
        status: 'exited',
        finishedAt: new Date().toISOString(),
      });
      throw e;
    }
    await stopWatching();
    writeExitFile(join(dir, 'exits'), record.id, code);
    const done: ContainerRecord = {
      ...((await this.#read(record.id)) ?? running),
      status: 'exited',
      exitCode: code,
      finishedAt: new Date().toISOString(),
    };
    await this.save(done);
    return code;
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
   * The container's log lines (detached containers): the last `tail`, then, with `follow`, new
   * lines as they come until it exits.
   */
  async *logs(
    ref: string,
    options: { follow?: boolean; tail?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<LogLine> {
    const record = await this.get(ref);
    let position = 0;
    let carry = '';
    let first = true;
    for (;;) {
      throwIfAborted(options.signal);
      const fh = await open(record.logPath, 'r').catch(() => undefined);
      const lines: LogLine[] = [];
      if (fh) {
        try {
          const { size } = await fh.stat();
          if (size < position) position = 0; // rotated by conmon's size cap
          if (size > position) {
            const buf = Buffer.alloc(size - position);
            await fh.read(buf, 0, buf.length, position);
            position = size;
            const text = carry + buf.toString('utf8');
            const parts = text.split('\n');
            carry = parts.pop() ?? '';
            for (const raw of parts) {
              const parsed = parseLogLine(raw);
              if (parsed) lines.push(parsed);
            }
          }
        } finally {
          await fh.close();
        }
      }
      if (first && options.tail !== undefined) yield* lines.slice(Math.max(0, lines.length - options.tail));
      else yield* lines;
      first = false;
      if (!options.follow) return;
      // Done once the monitor has written the exit code or is gone: two cheap looks, where a full
      // refresh would start `runtime state` ten times a second for as long as the log is followed.
      // A container with no monitor (run in the foreground) keeps no log to follow.
      const over =
        record.monitorPid === undefined ||
        !isAlive(record.monitorPid) ||
        (await this.#exitFile(record)) !== undefined;
      if (over) {
        if (lines.length === 0) return;
        continue;
      }
      await sleep(100);
    }
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

  /** Sends the stop signal, waits up to `timeout` seconds, then SIGKILL; resolves to the exit code. */
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
    const deadline = Date.now() + (options.timeout ?? 10) * 1000;
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
        hint: `stop it first, or use 'ocikit rm -f ${record.name}'`,
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
    rmSync(this.#recordDir(record.id), { recursive: true, force: true });
    return record;
  }
}

function writeExitFile(dir: string, id: string, code: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${id}.tmp`), String(code));
  renameSync(join(dir, `${id}.tmp`), join(dir, id));
}

/** Parses one line of conmon's k8s-file log format: `TIME STREAM P|F TEXT`. */
export function parseLogLine(raw: string): LogLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/.exec(raw);
  if (!m) return undefined;
  return {
    time: m[1] as string,
    stream: m[2] as 'stdout' | 'stderr',
    partial: m[3] === 'P',
    text: m[4] ?? '',
  };
}
