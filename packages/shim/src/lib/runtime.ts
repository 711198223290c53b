import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  type OcikitError,
  truncate,
} from '@ocikit/errors';
import {
  type Features,
  type LinuxResources,
  type Process,
  parseFeatures,
  parseState,
  type State,
  stringifySpec,
} from '@ocikit/runtime-spec';

/** Which runtime to drive and where it keeps its state. */
export interface RuntimeOptions {
  /** `runc`, `crun`, `youki`, or a path to one of them (default `runc`). */
  binary?: string;
  /** The runtime's state directory (`--root`); default: the runtime's own default. */
  root?: string;
  /**
   * Run crun inside a private mount namespace without the cgroup v2 hierarchy when the host has
   * hybrid cgroups (crun refuses those). Default: detected.
   */
  hybridCgroupWorkaround?: boolean;
}

/** How a runtime command's standard streams are wired. */
export type Stdio = 'inherit' | 'pipe' | 'ignore' | SpawnOptions['stdio'];

/**
 * Receives a process's output chunk by chunk, as it comes (see {@link RunOptions.output}); returns
 * true to go on. `false` says the destination of that stream is gone: its pipe is then closed, and
 * the process's next write there fails (SIGPIPE), as when its reader in a shell pipeline exits.
 */
export type OutputSink = (stream: 'stdout' | 'stderr', chunk: Buffer) => boolean;

/** What a foreground {@link Runtime.run} ended with, as execa's result. */
export interface RunResult {
  /** The process's exit code (128+N when a signal N ended it). */
  exitCode: number;
  /**
   * What it wrote to stdout when `stdio` is `'pipe'` and no `output` takes it, as UTF-8, at most
   * 16 MiB (the rest is dropped); `''` otherwise.
   */
  stdout: string;
  /** As `stdout`, for stderr (the runtime's own messages included). */
  stderr: string;
}

/** The most bytes of each stream a piped run collects. */
const COLLECT_MAX = 16 << 20;

/** Options of {@link Runtime.create}. */
export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** Extra file descriptors passed to the container (fd 3 on). */
  preserveFds?: number;
  noPivot?: boolean;
}

/** Options of {@link Runtime.run}. */
export interface RunOptions {
  bundle: string;
  pidFile?: string;
  stdio?: Stdio;
  noPivot?: boolean;
  /**
   * Forward the signals this process receives to the runtime, which hands them to the container's
   * process (what `podman run --sig-proxy` does, its default): a `kill` of the calling process then
   * stops the container instead of being lost. The runtime gets a session of its own, so a
   * terminal's Ctrl-C reaches it once, through this process, not twice. While it runs, signals no
   * longer end this process (listeners are installed). Default false.
   */
  proxySignals?: boolean;
  /**
   * Streams the process's stdout and stderr (the runtime's own messages included) to this sink as
   * they come, neither inherited nor collected: both are piped; stdin is as `stdio` says.
   */
  output?: OutputSink;
}

/** Options of {@link Runtime.exec}. */
export interface ExecOptions {
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  stdio?: Stdio;
  /** As {@link RunOptions.proxySignals}, for a process run in the foreground (not `detach`). */
  proxySignals?: boolean;
}

/**
 * The signals a foreground run forwards: the terminal's and those users send to stop or nudge a
 * service; SIGWINCH lets the runtime resize a container's terminal. Not SIGTSTP/SIGTTIN/SIGTTOU
 * (job control of this process itself), nor SIGCHLD or SIGPIPE.
 */
const PROXIED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
  'SIGWINCH',
];

/**
 * Hands the signals this process receives to `forward` until the returned function is called, as
 * podman's `--sig-proxy`: SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, and SIGWINCH
 * unless `resize` is false. While it is on, those signals no longer end this process (decision 107).
 *
 * @example
 * ```ts
 * const stop = proxySignals((signal) => {
 *   containers.kill(id, signal).catch(() => {}); // gone already: nothing to tell
 * });
 * try { await containers.wait(id); } finally { stop(); }
 * ```
 */
export function proxySignals(
  forward: (signal: NodeJS.Signals) => void,
  options: { resize?: boolean } = {},
): () => void {
  const signals =
    options.resize === false ? PROXIED_SIGNALS.filter((s) => s !== 'SIGWINCH') : PROXIED_SIGNALS;
  for (const signal of signals) process.on(signal, forward);
  return () => {
    for (const signal of signals) process.off(signal, forward);
  };
}

/** Forwards signals to a runtime process until the returned function is called. */
function proxySignalsTo(child: ChildProcess): () => void {
  return proxySignals((signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

/** True when this host mounts cgroup v1 controllers with the v2 hierarchy beside them (hybrid). */
export function hasHybridCgroups(): boolean {
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    return / \/sys\/fs\/cgroup\/unified .* - cgroup2 /.test(mounts) && / - cgroup cgroup /.test(mounts);
  } catch {
    return false;
  }
}

function findBinary(name: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined;
  for (const dir of (
    process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  ).split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  for (const dir of ['/usr/sbin', '/sbin', '/usr/local/sbin'])
    if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** The stdin part of a stdio setting (a piped stdin is ended at once: nothing is written to it). */
function stdinOf(stdio: Stdio): Extract<SpawnOptions['stdio'], unknown[]>[number] {
  if (stdio === 'inherit') return 'inherit';
  if (Array.isArray(stdio)) return stdio[0] ?? 'ignore';
  return 'ignore';
}

/** The result of one runtime invocation. */
interface Ran {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  logError: string | undefined;
}

/**
 * A typed wrapper of an OCI runtime's command line (runc, crun, youki). Failures become typed
 * errors carrying the runtime's own message, read from its JSON log.
 *
 * @example
 * ```ts
 * const runc = new Runtime({ binary: 'runc', root: '/run/ocikit-runc' });
 * const { exitCode } = await runc.run('demo', { bundle: '/tmp/bundle', stdio: 'inherit' });
 * const { stdout } = await runc.run('demo2', { bundle: '/tmp/bundle', stdio: 'pipe' });
 * ```
 */
export class Runtime {
  /** The runtime's name (`runc`, `crun`, ...). */
  readonly name: string;
  /** The resolved path of its binary. */
  readonly binary: string;
  /** Its `--root`, if set. */
  readonly root: string | undefined;
  readonly #hybrid: boolean;

  constructor(options: RuntimeOptions = {}) {
    const wanted = options.binary ?? 'runc';
    const found = findBinary(wanted);
    if (!found) {
      throw new FailedPreconditionError(
        `the OCI runtime ${JSON.stringify(truncate(wanted, 80))} is not installed`,
        {
          details: { reason: 'runtime-not-installed', runtime: wanted },
          hint: 'install runc or crun (apt-get install runc crun), or name the path of a runtime binary',
        },
      );
    }
    this.binary = found;
    this.name = basename(found);
    this.root = options.root;
    this.#hybrid = options.hybridCgroupWorkaround ?? (this.name === 'crun' && hasHybridCgroups());
  }

  /** The command line that runs `args` (global flags and the hybrid-cgroup wrapper included). */
  commandLine(args: readonly string[], logFile?: string): { file: string; args: string[] } {
    const globals: string[] = [];
    if (this.root !== undefined) globals.push(`--root=${this.root}`);
    if (logFile !== undefined) globals.push(`--log=${logFile}`, '--log-format=json');
    const full = [...globals, ...args];
    if (!this.#hybrid) return { file: this.binary, args: full };
    return {
      file: 'unshare',
      args: [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"',
        this.binary,
        ...full,
      ],
    };
  }

  /**
   * Runs the runtime with its JSON log in a temp dir (where `files` are written first; `args` may
   * name them through the dir it is given). Throws the runtime's message unless `allowFail`.
   */
  async #run(
    argsOrBuild: readonly string[] | ((dir: string) => readonly string[]),
    options: {
      stdio?: Stdio;
      files?: Record<string, string>;
      what: string;
      allowFail?: boolean;
      proxySignals?: boolean;
      output?: OutputSink | undefined;
    },
  ): Promise<Ran> {
    // a few tiny files: synchronous calls cost a fraction of the thread-pool round trips (decision 103)
    const logDir = mkdtempSync(join(tmpdir(), 'ocikit-rt-'));
    const logFile = join(logDir, 'log.json');
    try {
      for (const [name, content] of Object.entries(options.files ?? {}))
        await writeFile(join(logDir, name), content);
      const args = typeof argsOrBuild === 'function' ? argsOrBuild(logDir) : argsOrBuild;
      const { file, args: argv } = this.commandLine(args, logFile);
      const stdio = options.stdio ?? 'pipe';
      // With stdio ignored, stderr still goes to a file (not a pipe a container could hold open).
      const sink = options.output;
      const errFd = stdio === 'ignore' && !sink ? await open(join(logDir, 'stderr'), 'w+') : undefined;
      const ran = await new Promise<Omit<Ran, 'logError'>>((resolve, reject) => {
        const child = spawn(file, argv, {
          stdio: sink
            ? [stdinOf(stdio), 'pipe', 'pipe']
            : stdio === 'pipe'
              ? ['pipe', 'pipe', 'pipe']
              : errFd
                ? ['ignore', 'ignore', errFd.fd]
                : (stdio as SpawnOptions['stdio']),
          // A session of its own when it does not run the user's terminal: signals from the terminal
          // then reach it only through the proxy, and a Ctrl-C meant for a container (proxied) does
          // not kill a `state` or `kill` that happens to be running (decision 107).
          detached: options.proxySignals === true || stdio === 'pipe' || stdio === 'ignore',
        });
        const unproxy = options.proxySignals ? proxySignalsTo(child) : () => {};
        let stdout = '';
        let stderr = '';
        if (sink) {
          child.stdout?.on('data', (d: Buffer) => {
            if (sink('stdout', d) === false) child.stdout?.destroy();
          });
          // the runtime's own last words are kept too, for its error
          child.stderr?.on('data', (d: Buffer) => {
            stderr = (stderr + d.toString('utf8')).slice(-4096);
            if (sink('stderr', d) === false) child.stderr?.destroy();
          });
        } else {
          child.stdout?.setEncoding('utf8').on('data', (d: string) => {
            if (stdout.length < COLLECT_MAX) stdout += d;
          });
          child.stderr?.setEncoding('utf8').on('data', (d: string) => {
            if (stderr.length < COLLECT_MAX) stderr += d;
          });
        }
        child.on('error', (e) => {
          unproxy();
          reject(e);
        });
        child.on('close', (code, signal) => {
          unproxy();
          resolve({ code: code ?? 128, signal, stdout, stderr });
        });
        if (child.stdin) {
          child.stdin.on('error', () => {});
          child.stdin.end();
        }
      });
      if (errFd) {
        ran.stderr = await readFile(join(logDir, 'stderr'), 'utf8').catch(() => '');
        await errFd.close();
      }
      const logError = await lastLogError(logFile);
      const result = { ...ran, logError };
      if (result.code !== 0 && !options.allowFail) throw this.#error(options.what, args[0] ?? '', result);
      return result;
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  }

  #error(what: string, command: string, ran: Ran): OcikitError {
    const said = ran.logError ?? lastLine(ran.stderr) ?? `exit status ${ran.code}`;
    const message = `${this.name} ${command}: ${what}: ${truncate(said, 400)}`;
    const failure = command === 'run' || command === 'exec' ? commandFailure(said) : undefined;
    const details = {
      runtime: this.name,
      command,
      exitCode: ran.code,
      runtimeMessage: truncate(said, 1000),
      ...(failure ? { reason: failure } : {}),
    };
    if (
      (/does not exist|not found|no such container/i.test(said) && !/executable file/.test(said)) ||
      /opening file `[^`]*\/status`: No such file/.test(said) // crun's way of saying so
    ) {
      return new NotFoundError(message, { details });
    }
    if (/already exists/i.test(said)) return new AlreadyExistsError(message, { details });
    if (/invalid|unknown flag|unsupported|bad/i.test(said))
      return new InvalidArgumentError(message, { details });
    return new FailedPreconditionError(message, { details });
  }

  /** `create`: sets the container up, its process waiting for `start`. */
  async create(id: string, options: CreateOptions): Promise<void> {
    const args = ['create', '--bundle', options.bundle];
    if (options.pidFile) args.push('--pid-file', options.pidFile);
    if (options.consoleSocket) args.push('--console-socket', options.consoleSocket);
    if (options.preserveFds) args.push('--preserve-fds', String(options.preserveFds));
    if (options.noPivot) args.push('--no-pivot');
    // No pipes: the container's process inherits create's stdio and would hold them open.
    await this.#run([...args, checkId(id)], { what: `create ${id}`, stdio: 'ignore' });
  }

  /** `start`: runs the user process of a created container. */
  async start(id: string): Promise<void> {
    await this.#run(['start', checkId(id)], { what: `start ${id}` });
  }

  /**
   * `run` in the foreground: stdio as given (default inherited, so a terminal works as it does
   * for `runc run`), or the output streamed to `output`; resolves to the container's exit code
   * (128+N for a signal) with its output when piped, or throws when the runtime itself failed
   * before the process ran.
   */
  async run(id: string, options: RunOptions): Promise<RunResult> {
    const args = ['run', '--bundle', options.bundle];
    if (options.pidFile) args.push('--pid-file', options.pidFile);
    if (options.noPivot) args.push('--no-pivot');
    const ran = await this.#run([...args, checkId(id)], {
      what: `run ${id}`,
      stdio: options.stdio ?? 'inherit',
      allowFail: true,
      proxySignals: options.proxySignals === true,
      output: options.output,
    });
    const exitCode = this.#exitCode(ran, `run ${id}`, 'run');
    const piped = options.output === undefined && (options.stdio ?? 'inherit') === 'pipe';
    return { exitCode, stdout: piped ? ran.stdout : '', stderr: piped ? ran.stderr : '' };
  }

  /** The process's exit code (128+N for signal N), or the runtime's own failure as an error. */
  #exitCode(ran: Ran, what: string, command: string): number {
    if (ran.logError !== undefined && ran.code !== 0) throw this.#error(what, command, ran);
    return ran.signal ? 128 + signalNumber(ran.signal) : ran.code;
  }

  /** `state`, parsed. NotFound when there is no such container. */
  async state(id: string): Promise<State> {
    const ran = await this.#run(['state', checkId(id)], { what: `state of ${id}` });
    const raw = JSON.parse(ran.stdout) as { status?: string };
    // runc and crun report "paused", which the spec's state does not list
    if (raw.status === 'paused')
      return { ...parseState({ ...raw, status: 'running' }), status: 'paused' as State['status'] };
    return parseState(raw);
  }

  /** `list`: every container the runtime knows under its root. */
  async list(): Promise<State[]> {
    const ran = await this.#run(['list', '--format', 'json'], { what: 'list' });
    const parsed: unknown = JSON.parse(ran.stdout.trim() || '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.map((entry: Record<string, unknown>) => ({
      ociVersion: String(entry.ociVersion ?? ''),
      id: String(entry.id),
      status: String(entry.status) as State['status'],
      ...(typeof entry.pid === 'number' && entry.pid > 0 ? { pid: entry.pid } : {}),
      bundle: String(entry.bundle ?? ''),
    }));
  }

  /** `kill`: sends a signal (name or number) to the container's process, or all its processes. */
  async kill(
    id: string,
    signal: string | number = 'SIGTERM',
    options: { all?: boolean } = {},
  ): Promise<void> {
    const args = ['kill'];
    if (options.all) args.push('--all');
    await this.#run([...args, checkId(id), String(signal)], { what: `kill ${id}` });
  }

  /** `delete`: removes a stopped container (any container with `force`). */
  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    await this.#run(['delete', ...(options.force ? ['--force'] : []), checkId(id)], { what: `delete ${id}` });
  }

  /** `pause`: freezes every process of the container. */
  async pause(id: string): Promise<void> {
    await this.#run(['pause', checkId(id)], { what: `pause ${id}` });
  }

  /** `resume`: thaws a paused container. */
  async resume(id: string): Promise<void> {
    await this.#run(['resume', checkId(id)], { what: `resume ${id}` });
  }

  /**
   * `exec`: runs another process in a running container, from a process spec; resolves to its
   * exit code (0 at once when detached).
   */
  async exec(id: string, proc: Process, options: ExecOptions = {}): Promise<number> {
    const flags: string[] = [];
    if (options.detach) flags.push('--detach');
    if (options.pidFile) flags.push('--pid-file', options.pidFile);
    if (options.consoleSocket) flags.push('--console-socket', options.consoleSocket);
    const ran = await this.#run(
      (dir) => ['exec', '--process', join(dir, 'process.json'), ...flags, checkId(id)],
      {
        what: `exec in ${id}`,
        files: { 'process.json': stringifySpec(proc) },
        stdio: options.stdio ?? 'inherit',
        allowFail: true,
        proxySignals: options.proxySignals === true && !options.detach,
      },
    );
    return this.#exitCode(ran, `exec in ${id}`, 'exec');
  }

  /** `ps`: the host pids of the container's processes. */
  async ps(id: string): Promise<number[]> {
    const ran = await this.#run(['ps', '--format', 'json', checkId(id)], { what: `ps of ${id}` });
    const parsed: unknown = JSON.parse(ran.stdout.trim() || '[]');
    return Array.isArray(parsed) ? parsed.filter((p): p is number => typeof p === 'number') : [];
  }

  /** `events --stats`: one snapshot of the container's resource usage, as the runtime reports it. */
  async stats(id: string): Promise<Record<string, unknown>> {
    const ran = await this.#run(['events', '--stats', checkId(id)], { what: `stats of ${id}` });
    const parsed = JSON.parse(ran.stdout.trim().split('\n')[0] ?? '{}') as { data?: Record<string, unknown> };
    return parsed.data ?? {};
  }

  /** `update --resources`: changes the container's cgroup limits. */
  async update(id: string, resources: LinuxResources): Promise<void> {
    // a file, not stdin: crun opens /dev/stdin, which fails on the socket Node gives a child
    await this.#run((dir) => ['update', '--resources', join(dir, 'resources.json'), checkId(id)], {
      what: `update of ${id}`,
      files: { 'resources.json': JSON.stringify(resources) },
    });
  }

  /** `features`, parsed; FailedPrecondition for runtimes too old to have it. */
  async features(): Promise<Features> {
    const ran = await this.#run(['features'], { what: 'features', allowFail: true });
    if (ran.code !== 0) {
      throw new FailedPreconditionError(
        `${this.name} does not support "features" (${truncate(lastLine(ran.stderr) ?? '', 120)})`,
        {
          details: { runtime: this.name },
        },
      );
    }
    return parseFeatures(JSON.parse(ran.stdout));
  }
}

/** Container ids: what runc accepts (letters, digits, `_.-`, not starting with a dot). */
export function checkId(id: string): string {
  if (!/^[\w+-][\w+.-]{0,1023}$/.test(id)) {
    throw new InvalidArgumentError(`invalid container id ${JSON.stringify(truncate(id, 80))}`);
  }
  return id;
}

/** The last error message in a runtime's JSON log file (`--log-format=json`), if any. */
export async function lastLogError(file: string): Promise<string | undefined> {
  let text: string;
  try {
    // a few lines at most (errors and warnings only): one synchronous read (decision 103)
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let found: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && typeof entry.msg === 'string')
        found = entry.msg;
    } catch {
      // a non-JSON line (crun writes some plain text): keep looking
    }
  }
  return found;
}

/** Exit codes of a command that could not be started, as Docker's and podman's (126, 127). */
export const START_FAILURE_CODES: Readonly<Record<string, number>> = {
  'command-not-found': 127,
  'command-not-executable': 126,
};

/**
 * Why a `run` or `exec` could not start the container's command, read from the runtime's own words
 * (runc: `exec: "x": executable file not found in $PATH`, `… permission denied`; crun: `executable
 * file \`x\` not found …: No such file or directory`, `open executable: Permission denied`).
 */
export function commandFailure(said: string): 'command-not-found' | 'command-not-executable' | undefined {
  if (/executable file not found|no such file or directory/i.test(said)) return 'command-not-found';
  if (/permission denied/i.test(said)) return 'command-not-executable';
  return undefined;
}

function lastLine(text: string): string | undefined {
  const lines = text.trim().split('\n').filter(Boolean);
  return lines.at(-1);
}

/** The number of a signal name (`SIGKILL` → 9); numbers pass through. */
export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number') return signal;
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  const n = (constants.signals as Record<string, number | undefined>)[name];
  if (n === undefined)
    throw new InvalidArgumentError(`unknown signal ${JSON.stringify(truncate(signal, 20))}`);
  return n;
}
