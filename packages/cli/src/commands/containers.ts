// The container commands, clients of the engine (issue 14): `ctx.engine()` — the local engine, or
// dockerd/podman with --host — does the work; these read flags, wire the terminal and print.
import {
  type ContainerSpec,
  type ContainerState,
  type CreateOptions,
  DEFAULT_DETACH_KEYS,
  type Engine,
  type OutputChunk,
  PROXIED_SIGNALS,
  type ProgressEvent,
  parseDetachKeys,
  type RelayInput,
  relayStdio,
} from '@ocikit/engine';
import {
  InvalidArgumentError,
  isFailedPrecondition,
  isInvalidArgument,
  isNotFound,
  isOcikitError,
} from '@ocikit/errors';
import { type Context, defineCommand, expectPositionals } from '../lib/command.ts';
import { printFormatted } from '../lib/format.ts';
import { reportError } from '../lib/hints.ts';
import { filterContainers, parseContainerFilters, selecting } from '../lib/list-filters.ts';
import { printJson, println } from '../lib/output.ts';
import {
  consoleSizeOfTerminal,
  type RunValues,
  runFlags,
  runFlagsHelp,
  runRequest,
} from '../lib/run-spec.ts';
import { psFields, psItem, psTable } from '../lib/views.ts';

/**
 * Where a container's output goes: the command's own streams. Once one of them fails (EPIPE: its
 * reader went away) its chunks are refused (`false`), so the container gets SIGPIPE as in a shell
 * pipeline, and the error does not end ocikit.
 */
function outputTo(ctx: Context): (chunk: OutputChunk) => boolean {
  const broken = { stdout: false, stderr: false };
  for (const name of ['stdout', 'stderr'] as const) ctx[name].on('error', () => (broken[name] = true));
  return (chunk) => {
    if (broken[chunk.stream]) return false;
    ctx[chunk.stream].write(chunk.data);
    return true;
  };
}

/** The exit code an engine error stands for (`details.exitCode`: a command that could not be started, 126/127). */
function exitCodeOf(e: unknown): number | undefined {
  const code = isOcikitError(e) ? e.details.exitCode : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** Passes the signals ocikit receives on to container `id` until the returned function is called. */
function proxyToContainer(engine: Engine, id: string): () => void {
  const forward = (signal: NodeJS.Signals) => {
    engine.containers.kill(id, signal).catch(() => {}); // exited meanwhile: nothing to tell
  };
  for (const signal of PROXIED_SIGNALS) process.on(signal, forward);
  return () => {
    for (const signal of PROXIED_SIGNALS) process.off(signal, forward);
  };
}

/**
 * The engine of `run`/`create`: with the local engine's registry settings when a registry flag (or
 * --debug) is given. The registry module loads only then, or when a pull reports progress: a run
 * of a stored image never loads it.
 */
async function runEngine(ctx: Context, values: RunValues): Promise<Engine> {
  if (
    !values['plain-http'] &&
    !values.insecure &&
    values['ca-file'] === undefined &&
    values['signature-policy'] === undefined &&
    !ctx.debug
  )
    return ctx.engine();
  const { engineRegistry } = await import('../lib/registry.ts');
  return ctx.engine({ registry: engineRegistry(ctx, values) });
}

/**
 * Progress of a pull `run`/`create` makes, as `ocikit pull` shows it (bars on a terminal, the
 * summary line at the end), its module loaded on the first event.
 */
function pullProgress(ctx: Context): (e: ProgressEvent) => void {
  const queue: ProgressEvent[] = [];
  let sink: ((e: ProgressEvent) => void) | undefined;
  return (e) => {
    if (sink) return sink(e);
    queue.push(e);
    if (queue.length > 1) return;
    import('../lib/registry.ts').then(
      ({ engineProgress }) => {
        const progress = engineProgress(ctx);
        sink = (event) => {
          progress.onProgress(event);
          // the pull's last word (`Status: Downloaded newer image for …`)
          if (event.status.startsWith('Status:')) progress.end('pulled');
        };
        for (const queued of queue.splice(0)) sink(queued);
      },
      () => {},
    );
  };
}

/** `ocikit run IMAGE [CMD…]`. */
export const runCommand = defineCommand({
  name: 'run',
  summary: 'Run a command in a new container',
  usage: 'ocikit run [flags] IMAGE [CMD...]',
  description:
    'Pulls the image when missing, makes a container (a writable snapshot over the image, config from the image ' +
    'and the flags) and runs it with runc (or --runtime crun): in the foreground, streaming stdio and exiting with ' +
    "the container's code, or detached with -d (printing its id). Exit codes as Docker's: 125 when ocikit fails, " +
    '126/127 when the command cannot be run or found.',
  options: { ...runFlags, detach: { type: 'boolean', short: 'd' } },
  help: { ...runFlagsHelp, detach: 'run in the background and print the container id' },
  stopAtFirstPositional: true,
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const { spec, pull } = await runRequest(values, positionals, ctx.env);
    const engine = await runEngine(ctx, values);
    const pullOptions = { onProgress: pullProgress(ctx), ...(values.insecure ? { tlsVerify: false } : {}) };
    if (values.detach) {
      let id: string;
      try {
        ({ id } = await engine.containers.create(spec, { pull, pullOptions, signal: ctx.signal }));
        await engine.containers.start(id, { signal: ctx.signal });
      } catch (e) {
        // the command could not be started: the container is exited with the reason (or removed
        // under --rm); the code as podman's
        const code = exitCodeOf(e);
        if (code === undefined) throw e;
        ctx.stderr.write(`ocikit: ${(e as Error).message}\n`);
        return code;
      }
      println(ctx, id);
      return 0;
    }
    // an engine that runs containers out of our reach (dockerd, podman): attached, as the docker CLI
    if (engine.engine !== 'local') return runAttached(ctx, engine, spec, { pull, pullOptions });
    // the container's stdio straight to ocikit's own streams when nothing needs the output on its
    // way (a --rm run keeps no log; a terminal is the user's), else through ocikit to the streams
    // `main` was given, and into the container's log (decision 110)
    const own = ctx.stdout === process.stdout && ctx.stderr === process.stderr;
    const { exitCode } = await engine.containers.run(spec, {
      pull,
      pullOptions,
      inheritStdio: own && (values.tty === true || values.rm === true),
      onOutput: outputTo(ctx),
      ...(values.interactive ? { stdin: ctx.stdin as AsyncIterable<Uint8Array> } : {}),
      // as podman run (--sig-proxy): a signal sent to ocikit goes to the container
      proxySignals: true,
      signal: ctx.signal,
    });
    return exitCode;
  },
});

/**
 * A foreground run on an engine out of our reach: create, attach, start, and our stdio relayed
 * (a terminal raw and sized as ours, signals passed on) until it exits, as `docker run` does; the
 * container's exit code. Its removal under --rm is the engine's (waited for).
 */
async function runAttached(
  ctx: Context,
  engine: Engine,
  spec: ContainerSpec,
  options: CreateOptions,
): Promise<number> {
  const { id } = await engine.containers.create(spec, { ...options, signal: ctx.signal });
  try {
    const attachment = await engine.containers.attach(id, { stdin: spec.openStdin === true });
    // waiting from before the start: an autoRemove container may be gone as soon as it exits
    const exited = engine.containers.wait(id, { condition: spec.autoRemove ? 'removed' : 'next-exit' });
    exited.catch(() => {});
    await engine.containers.start(id, { signal: ctx.signal });
    await relayStdio(
      attachment,
      {
        ...(spec.openStdin ? { stdin: ctx.stdin as RelayInput } : {}),
        stdout: ctx.stdout,
        stderr: ctx.stderr,
      },
      {
        tty: spec.tty === true,
        detachKeys: '',
        onSignal: (signal) => {
          engine.containers.kill(id, signal).catch(() => {}); // exited meanwhile
        },
      },
    );
    const code = await exited;
    return code < 0 ? 125 : code;
  } catch (e) {
    if (spec.autoRemove) await engine.containers.remove(id, { force: true }).catch(() => {});
    throw e;
  }
}

/** `ocikit create IMAGE [CMD…]`. */
export const createCommand = defineCommand({
  name: 'create',
  summary: 'Create a container without starting it',
  usage: 'ocikit create [flags] IMAGE [CMD...]',
  description: "Prints the container id; 'ocikit start' runs it.",
  options: runFlags,
  help: runFlagsHelp,
  stopAtFirstPositional: true,
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const { spec, pull } = await runRequest(values, positionals, ctx.env);
    const engine = await runEngine(ctx, values);
    const { id } = await engine.containers.create(spec, {
      pull,
      pullOptions: { onProgress: pullProgress(ctx), ...(values.insecure ? { tlsVerify: false } : {}) },
      signal: ctx.signal,
    });
    println(ctx, id);
    return 0;
  },
});

/** `ocikit start [-a] CONTAINER`. */
export const startCommand = defineCommand({
  name: 'start',
  summary: 'Start a created container',
  usage: 'ocikit start [-a] CONTAINER',
  options: { attach: { type: 'boolean', short: 'a' } },
  help: { attach: 'follow its output and exit with its code' },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    expectPositionals(startCommand, positionals, 1);
    const engine = await ctx.engine();
    const container = await engine.containers.inspect(positionals[0] ?? '', { signal: ctx.signal });
    await engine.containers.start(container.id, { signal: ctx.signal });
    if (!values.attach) {
      println(ctx, container.name);
      return 0;
    }
    // as podman start --attach: signals go to the container, whose output follows until it exits
    const stopProxy = proxyToContainer(engine, container.id);
    try {
      // not ctx.signal: a Ctrl-C is the container's (proxied) while `start -a` follows it
      await printLogs(ctx, engine.containers.logs(container.id, { follow: true }), false);
      return await waitCode(engine, container.id);
    } finally {
      stopProxy();
    }
  },
});

/** A container's exit code, 125 when the engine could not know it. */
async function waitCode(engine: Engine, id: string, signal?: AbortSignal): Promise<number> {
  const code = await engine.containers.wait(id, signal ? { signal } : {});
  return code < 0 ? 125 : code;
}

async function printLogs(ctx: Context, logs: AsyncIterable<OutputChunk>, timestamps: boolean): Promise<void> {
  for await (const chunk of logs) {
    const out = chunk.stream === 'stdout' ? ctx.stdout : ctx.stderr;
    if (timestamps && chunk.time) out.write(`${chunk.time} `);
    out.write(chunk.data);
  }
}

/** `ocikit logs CONTAINER`. */
export const logsCommand = defineCommand({
  name: 'logs',
  summary: "Print a container's output",
  usage: 'ocikit logs [-f] [--tail N] [-t] CONTAINER',
  description:
    'Every container keeps its stdout and stderr with timestamps until it is removed (at most 10 MiB, ' +
    'starting over when full, as conmon): detached or in the foreground, except a --rm or -t foreground run.',
  options: {
    follow: { type: 'boolean', short: 'f' },
    tail: { type: 'string' },
    timestamps: { type: 'boolean', short: 't' },
  },
  help: {
    follow: 'keep printing until it exits',
    tail: 'only the last N lines',
    timestamps: 'show when each line was written',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(logsCommand, positionals, 1);
    const tail = values.tail === undefined ? undefined : Number(values.tail);
    if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) {
      throw new InvalidArgumentError(`--tail must be a whole number, not ${JSON.stringify(values.tail)}`);
    }
    const engine = await ctx.engine();
    const logs = engine.containers.logs(positionals[0] ?? '', {
      ...(values.follow ? { follow: true } : {}),
      ...(tail !== undefined ? { tail } : {}),
      ...(values.timestamps ? { timestamps: true } : {}),
      signal: ctx.signal,
    });
    await printLogs(ctx, logs, values.timestamps === true);
    return 0;
  },
});

/** `ocikit attach CONTAINER`. */
export const attachCommand = defineCommand({
  name: 'attach',
  summary: "Attach to a running detached container's stdio (and terminal)",
  usage: 'ocikit attach [--detach-keys KEYS] CONTAINER',
  description:
    "Relays the container's output, and your input when it was started with -i (the local engine reads conmon's " +
    "attach socket through python3; decision 132). Exits with the container's code, or 0 when you detach " +
    '(ctrl-p ctrl-q), leaving it running.',
  options: { 'detach-keys': { type: 'string' } },
  help: {
    'detach-keys': "keys that detach, leaving the container running (default 'ctrl-p,ctrl-q'; '' for none)",
  },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    expectPositionals(attachCommand, positionals, 1);
    const detachKeys = parseDetachKeys(values['detach-keys'] ?? DEFAULT_DETACH_KEYS);
    const engine = await ctx.engine();
    const container = await engine.containers.inspect(positionals[0] ?? '', { signal: ctx.signal });
    const { tty, openStdin } = container.config;
    const attachment = await engine.containers.attach(container.id, { stdin: openStdin });
    // its terminal takes our size before any of our input reaches it (a program reading its size
    // after our first key must not find 0x0); the relay follows later changes
    const out = process.stdout;
    if (tty && ctx.stdout === out && out.isTTY && out.rows > 0 && out.columns > 0)
      await attachment.resize({ rows: out.rows, columns: out.columns }).catch(() => {});
    // raw mode, our terminal's size, the detach keys, and — as podman attach (--sig-proxy) —
    // signals sent to ocikit passed on to the container
    const relayed = await relayStdio(
      attachment,
      { ...(openStdin ? { stdin: ctx.stdin as RelayInput } : {}), stdout: ctx.stdout, stderr: ctx.stderr },
      {
        tty,
        detachKeys,
        onSignal: (signal) => {
          engine.containers.kill(container.id, signal).catch(() => {}); // exited meanwhile
        },
      },
    );
    // detached on purpose: the container runs on
    if (relayed.detached) return 0;
    // not ctx.signal: a Ctrl-C was the container's to handle, and attach lasts as long as it runs
    return waitCode(engine, container.id);
  },
});

/** `ocikit exec CONTAINER CMD…`. */
export const execCommand = defineCommand({
  name: 'exec',
  summary: 'Run a command in a running container',
  usage: 'ocikit exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...',
  options: {
    interactive: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
    env: { type: 'string', short: 'e', multiple: true },
    workdir: { type: 'string', short: 'w' },
    user: { type: 'string', short: 'u' },
  },
  help: {
    interactive: 'keep stdin open',
    tty: 'allocate a terminal',
    env: 'set a variable',
    workdir: 'working directory',
    user: 'user[:group]',
  },
  stopAtFirstPositional: true,
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const [ref, ...cmd] = positionals;
    if (!ref || cmd.length === 0)
      throw new InvalidArgumentError('usage: ocikit exec [flags] CONTAINER CMD...');
    const engine = await ctx.engine();
    const consoleSize = values.tty === true ? consoleSizeOfTerminal() : undefined;
    const proc = await engine.containers.exec(
      ref,
      {
        cmd,
        ...(values.tty ? { tty: true } : {}),
        ...(values.interactive ? { stdin: true } : {}),
        ...(consoleSize ? { consoleSize } : {}),
        ...(values.env
          ? { env: values.env.map((e) => (e.includes('=') ? e : `${e}=${ctx.env[e] ?? ''}`)) }
          : {}),
        ...(values.workdir !== undefined ? { workingDir: values.workdir } : {}),
        ...(values.user !== undefined ? { user: values.user } : {}),
      },
      // the local engine hands the command ocikit's own stdio (and terminal), passing signals on
      { inheritStdio: true, signal: ctx.signal },
    );
    if (proc.inherited) return proc.exitCode;
    await relayStdio(
      proc,
      {
        ...(values.interactive ? { stdin: ctx.stdin as RelayInput } : {}),
        stdout: ctx.stdout,
        stderr: ctx.stderr,
      },
      { tty: values.tty === true, detachKeys: '' },
    );
    return proc.exitCode;
  },
});

/** `-n/--last N`, `-l/--latest`: how many of the newest containers `ps` shows (0: every one). */
function lastCount(values: { last?: string | undefined; latest?: boolean | undefined }): number {
  if (values.latest) return 1;
  if (values.last === undefined) return 0;
  if (!/^-?\d+$/.test(values.last))
    throw new InvalidArgumentError(`ocikit ps: -n/--last takes a number, not ${JSON.stringify(values.last)}`);
  return Math.max(0, Number(values.last));
}

/** `ocikit ps [-a] [-q] [-n N|-l] [--filter F]… [--no-trunc] [--format TEMPLATE]`. */
export const psCommand = defineCommand({
  name: 'ps',
  summary: 'List containers',
  usage: 'ocikit ps [-a] [-q] [-s] [-n N|-l] [--filter KEY=VALUE]... [--no-trunc] [--format TEMPLATE]',
  description:
    "--format takes a Go template over docker's and podman's fields ({{.ID}}, {{.Names}}, {{.Image}}, " +
    '{{.Status}}, {{json .}}, …); "table …" adds headers and aligns columns, "json" is {{json .}}. ' +
    "--filter takes podman's keys id=, name= (regular expressions), label=K[=V], status=, ancestor=IMAGE, " +
    'exited=CODE, network=, volume=NAME_OR_HOST_PATH[:DEST], before=CONTAINER, since=CONTAINER, ' +
    'until=TIME (one: a duration before now, Unix ' +
    'seconds or RFC 3339): values of one key select any (label=: every), ' +
    'different keys all. -n N shows the N newest containers, running or not; -l the newest. ' +
    "-s adds podman's SIZE column ({{.Size}}): the bytes of the files each container wrote (RW) and, as " +
    '`(virtual …)`, its root file system as the engine counts it (podman and local: the image; docker: the ' +
    'image and RW); --json gives them as sizeRw and sizeRootFs.',
  options: {
    all: { type: 'boolean', short: 'a' },
    filter: { type: 'string', short: 'f', multiple: true },
    last: { type: 'string', short: 'n' },
    latest: { type: 'boolean', short: 'l' },
    size: { type: 'boolean', short: 's' },
    // `--no-trunc`: parseArgs' allowNegative reads it as trunc=false, whatever options exist
    trunc: { type: 'boolean' },
    format: { type: 'string' },
  },
  help: {
    all: 'include stopped containers',
    filter:
      'id=, name=, label=K[=V], status=, ancestor=, exited=, network=, volume=, before=, since=, until= (repeatable)',
    last: 'the N newest containers (running or not)',
    latest: 'the newest container (running or not)',
    size: 'add the SIZE column: what each container wrote (virtual: its root file system)',
    trunc: "shorten IDs and commands to docker's widths (--no-trunc: show them whole)",
    format: 'print each container with a Go template',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(psCommand, positionals, 0);
    const request = await selecting(ctx, async () => ({
      filters: parseContainerFilters(values.filter, 'ocikit ps'),
      last: lastCount(values),
    }));
    if (request === 125) return 125;
    const { filters, last } = request;
    const all = values.all === true || last > 0;
    const engine = await ctx.engine();
    const size = values.size === true;
    const listed = await engine.containers.list({ all, ...(size ? { size } : {}), signal: ctx.signal });
    // before=/since= may name a container the list leaves out
    const needsEvery = !all && (filters.has('before') || filters.has('since'));
    const every = needsEvery ? await engine.containers.list({ all: true, signal: ctx.signal }) : listed;
    const shown = await selecting(ctx, async () => {
      const selected = filters.size > 0 ? filterContainers(listed, filters, every, 'ocikit ps') : listed;
      if (last === 0) return selected;
      const byAge = [...selected].sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
      const newest = new Set(byAge.slice(0, last));
      return selected.filter((c) => newest.has(c));
    });
    if (shown === 125) return 125;
    const now = Date.now();
    const items = shown.map((c) => psItem(c, now, values.trunc !== false));
    const table = () =>
      printFormatted(ctx, size ? `${psTable}\t{{.Size}}` : psTable, items, psFields, () => {});
    if (ctx.quiet) for (const c of shown) println(ctx, values.trunc === false ? c.id : c.id.slice(0, 12));
    else if (values.format !== undefined) printFormatted(ctx, values.format, items, psFields, table);
    else if (ctx.json) printJson(ctx, shown);
    else table();
    return 0;
  },
});

/** `ocikit wait CONTAINER…`. */
export const waitCommand = defineCommand({
  name: 'wait',
  summary: 'Wait for containers to exit and print their exit codes',
  usage: 'ocikit wait CONTAINER...',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(waitCommand, positionals, 1, Number.POSITIVE_INFINITY);
    const engine = await ctx.engine();
    for (const ref of positionals) {
      const code = await engine.containers.wait(ref, { signal: ctx.signal });
      println(ctx, code < 0 ? 'unknown' : String(code));
    }
    return 0;
  },
});

/**
 * The containers a bulk command acts on: those named, or with `-a/--all` the full ids of those in
 * `states` (every container when none is given), as podman 4.3 picks them; `-a` with names, or
 * neither, is InvalidArgument.
 */
async function targets(
  ctx: Context,
  engine: Engine,
  command: { name: string; usage: string },
  all: boolean | undefined,
  positionals: readonly string[],
  states?: readonly ContainerState[],
): Promise<string[]> {
  if (!all) {
    expectPositionals(command, positionals, 1, Number.POSITIVE_INFINITY);
    return [...positionals];
  }
  if (positionals.length > 0)
    throw new InvalidArgumentError(`ocikit ${command.name}: no arguments are needed with --all`, {
      hint: `usage: ${command.usage}`,
    });
  const every = await engine.containers.list({ all: true, signal: ctx.signal });
  return every.filter((c) => states === undefined || states.includes(c.state)).map((c) => c.id);
}

/** `ocikit kill [-s SIGNAL] (-a | CONTAINER…)`. */
export const killCommand = defineCommand({
  name: 'kill',
  summary: 'Send a signal to containers (default SIGKILL)',
  usage: 'ocikit kill [-s SIGNAL] (-a | CONTAINER...)',
  options: { signal: { type: 'string', short: 's' }, all: { type: 'boolean', short: 'a' } },
  help: { signal: 'signal name or number', all: 'every running or paused container (their ids printed)' },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const engine = await ctx.engine();
    const refs = await targets(ctx, engine, killCommand, values.all, positionals, ['running', 'paused']);
    for (const ref of refs) {
      await engine.containers.kill(ref, values.signal ?? 'SIGKILL', { signal: ctx.signal });
      println(ctx, ref);
    }
    return 0;
  },
});

/** `ocikit stop [-t SECONDS] (-a | CONTAINER…)`. */
export const stopCommand = defineCommand({
  name: 'stop',
  summary: 'Stop containers: their stop signal, then SIGKILL after a timeout',
  usage: 'ocikit stop [-t SECONDS] (-a | CONTAINER...)',
  options: { time: { type: 'string', short: 't' }, all: { type: 'boolean', short: 'a' } },
  help: {
    time: "seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10)",
    all: 'every running or paused container; every id printed (stopped ones too), as podman',
  },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    // no -t: the engine waits the container's own stop timeout (--stop-timeout, else 10)
    const timeout = values.time === undefined ? undefined : Number(values.time);
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0))
      throw new InvalidArgumentError(`-t must be a number of seconds, not ${JSON.stringify(values.time)}`);
    const engine = await ctx.engine();
    const refs = await targets(ctx, engine, stopCommand, values.all, positionals);
    // -a names every container, as podman, but stops only those that run: stopping a created or
    // exited one is podman's no-op (the local engine would mark a created one exited)
    const live = values.all
      ? new Set(await targets(ctx, engine, stopCommand, true, [], ['running', 'paused']))
      : undefined;
    for (const ref of refs) {
      if (live === undefined || live.has(ref))
        await engine.containers.stop(ref, { timeout, signal: ctx.signal });
      println(ctx, ref);
    }
    return 0;
  },
});

/** `ocikit rm [-f] [-v] (-a | CONTAINER…)`. */
export const rmCommand = defineCommand({
  name: 'rm',
  summary: 'Remove containers',
  usage: 'ocikit rm [-f] [-v] (-a | CONTAINER...)',
  description:
    'Every CONTAINER is looked up first: none is removed when one is missing (exit 1; with -f a missing one is ' +
    'skipped). A running or paused one is refused without -f, the others still removed: exit 2, as podman.',
  options: {
    force: { type: 'boolean', short: 'f' },
    volumes: { type: 'boolean', short: 'v' },
    all: { type: 'boolean', short: 'a' },
  },
  help: {
    force: 'kill and remove running containers too; skip missing ones',
    volumes: 'remove their anonymous volumes too (named volumes stay)',
    all: 'every container (their ids printed)',
  },
  async run(ctx, { values, positionals }) {
    const engine = await ctx.engine();
    let refs: string[];
    try {
      refs = await targets(ctx, engine, rmCommand, values.all, positionals);
    } catch (e) {
      if (!isInvalidArgument(e)) throw e;
      reportError(ctx.stderr, e, ctx.debug);
      return 125;
    }
    // all or nothing for containers that do not exist (skipped under -f)
    const found: { ref: string; id: string; name: string }[] = [];
    for (const ref of refs) {
      try {
        const { id, name } = await engine.containers.inspect(ref, { signal: ctx.signal });
        found.push({ ref, id, name });
      } catch (e) {
        if (!(values.force && isNotFound(e))) throw e;
      }
    }
    let code = 0;
    for (const { ref, id, name } of found) {
      try {
        await engine.containers.remove(id, {
          force: values.force === true,
          volumes: values.volumes === true,
          signal: ctx.signal,
        });
      } catch (e) {
        reportError(ctx.stderr, e, ctx.debug);
        // podman's codes: 2 for a container whose state refuses it (running, paused), else 125
        code = Math.max(code, isFailedPrecondition(e) ? 2 : 125);
        continue;
      }
      println(ctx, values.all ? id : name === ref ? ref : id.slice(0, 12));
    }
    return code;
  },
});

/** `ocikit pause (-a | CONTAINER…)`. */
export const pauseCommand = defineCommand({
  name: 'pause',
  summary: 'Freeze every process of containers',
  usage: 'ocikit pause (-a | CONTAINER...)',
  options: { all: { type: 'boolean', short: 'a' } },
  help: { all: 'every running container' },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const engine = await ctx.engine();
    const refs = await targets(ctx, engine, pauseCommand, values.all, positionals, ['running']);
    for (const ref of refs) {
      await engine.containers.pause(ref, { signal: ctx.signal });
      println(ctx, ref);
    }
    return 0;
  },
});

/** `ocikit unpause (-a | CONTAINER…)`. */
export const unpauseCommand = defineCommand({
  name: 'unpause',
  summary: 'Thaw paused containers',
  usage: 'ocikit unpause (-a | CONTAINER...)',
  options: { all: { type: 'boolean', short: 'a' } },
  help: { all: 'every paused container' },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    const engine = await ctx.engine();
    const refs = await targets(ctx, engine, unpauseCommand, values.all, positionals, ['paused']);
    for (const ref of refs) {
      await engine.containers.unpause(ref, { signal: ctx.signal });
      println(ctx, ref);
    }
    return 0;
  },
});
