import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openLayout } from '@ocikit/content';
import {
  InvalidArgumentError,
  isInvalidArgument,
  isNotFound,
  isOcikitError,
  NotFoundError,
} from '@ocikit/errors';
import { parsePlatform } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { type Mount, resolveUser } from '@ocikit/runtime-spec';
import { type ContainerRecord, Containers, proxySignals, signalNumber, writeTo } from '@ocikit/shim';
import {
  defaultSnapshotter,
  mountAll,
  type SnapshotMount,
  unmount,
  unpackToSnapshots,
} from '@ocikit/snapshot';
import { type Context, defineCommand, expectPositionals } from '../lib/command.ts';
import { printFormatted } from '../lib/format.ts';
import { localStoreRef } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import {
  buildRunSpec,
  consoleSizeOfTerminal,
  type RunValues,
  runFlags,
  runFlagsHelp,
} from '../lib/run-spec.ts';
import { psFields, psItem, psTable } from '../lib/views.ts';

/** The parsed flags of `run` and `create`. */
type RunCommandValues = RunValues & {
  name?: string | undefined;
  rm?: boolean | undefined;
  interactive?: boolean | undefined;
  runtime?: string | undefined;
  platform?: string | undefined;
  pull?: string | undefined;
  'plain-http'?: boolean | undefined;
  insecure?: boolean | undefined;
  'ca-file'?: string | undefined;
};

const containersOf = (ctx: Context) => new Containers({ root: ctx.root });
const snapshotterOf = (ctx: Context) => defaultSnapshotter(join(ctx.root, 'snapshots'));

/** The local image for `run`/`create`, pulled first when missing (or always, with `--pull always`). */
async function ensureImage(ctx: Context, arg: string, values: RunCommandValues) {
  // `local:REF` is the local store and nothing else (decision 083): never pulled
  const image = localStoreRef(arg, 'ocikit run: image');
  const name = parseReference(image).toString();
  const pull = image === arg ? (values.pull ?? 'missing') : 'never';
  if (pull !== 'missing' && pull !== 'always' && pull !== 'never') {
    throw new InvalidArgumentError(`--pull must be missing, always or never, not ${JSON.stringify(pull)}`);
  }
  const store = await openLayout(join(ctx.root, 'content'), { create: true, signal: ctx.signal });
  const have = await store.resolve(name, { signal: ctx.signal }).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  if (have && pull !== 'always') return { store, desc: have, name };
  // the registry client loads only when a pull is needed, or a short name may mean another registry
  const { pullIntoStore, localCandidates } = await import('../lib/registry.ts');
  if (pull !== 'always') {
    // registries.conf may resolve a short name elsewhere than docker.io: an image pulled so is used
    for (const candidate of await localCandidates(ctx, image)) {
      if (candidate === name) continue;
      const found = await store.resolve(candidate, { signal: ctx.signal }).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (found) return { store, desc: found, name: candidate };
    }
  }
  if (pull === 'never')
    throw new NotFoundError(`no image ${name} in the local store`, { hint: `pull it: ocikit pull ${image}` });
  // the name it was pulled as: registries.conf may resolve a short name elsewhere than docker.io
  const pulled = await pullIntoStore(ctx, image, values, store);
  return { store, desc: pulled.desc, name: pulled.name };
}

/**
 * Makes a container from the command line: the image (pulled when missing) unpacked into
 * snapshots, a writable snapshot on top mounted as the rootfs (overlay when the kernel has it),
 * and config.json from the image config and the flags.
 */
async function prepareContainer(
  ctx: Context,
  values: RunCommandValues,
  positionals: string[],
): Promise<ContainerRecord> {
  const [image, ...command] = positionals;
  if (!image) throw new InvalidArgumentError('give an image: ocikit run [flags] IMAGE [CMD…]');
  const { store, desc, name } = await ensureImage(ctx, image, values);
  const containers = containersOf(ctx);
  const record = await containers.prepare({
    image: name,
    command,
    tty: values.tty === true,
    interactive: values.interactive === true,
    autoRemove: values.rm === true,
    runtime: { binary: values.runtime ?? 'runc' },
    ...(values.name !== undefined ? { name: values.name } : {}),
  });
  try {
    const snapshotter = snapshotterOf(ctx);
    const unpacked = await unpackToSnapshots(store, desc, snapshotter, {
      ...(values.platform ? { platform: parsePlatform(values.platform) } : {}),
      signal: ctx.signal,
    });
    const rootfs = join(record.bundle, 'rootfs');
    // a directory and a small file: synchronous calls, as for every small state file (decision 103)
    mkdirSync(rootfs, { recursive: true });
    const mounts = await snapshotter.prepare(`container-${record.id}`, unpacked.chainId);
    const rootMount = runtimeMountsRoot(record.runtime, mounts, values.user ?? unpacked.config.config?.User);
    if (!rootMount) mountAll(mounts, rootfs);
    const spec = await buildRunSpec({
      config: unpacked.config,
      rootfs,
      image: name,
      command,
      values,
      id: record.id,
      env: ctx.env,
    });
    // the runtime mounts the overlay first, so every other mount lands on top of it
    if (rootMount) spec.mounts = [rootMount, ...(spec.mounts ?? [])];
    writeFileSync(join(record.bundle, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`);
    const next: ContainerRecord = {
      ...record,
      command: spec.process?.args ?? command,
      stopSignal: unpacked.config.config?.StopSignal ?? 'SIGTERM',
    };
    await containers.save(next);
    return next;
  } catch (e) {
    await removeContainer(ctx, record.id, true).catch(() => {});
    throw e;
  }
}

/**
 * The overlay as the runtime's first mount, on `/`, when the runtime can do that and nothing needs
 * the root file system on the host while the bundle is made: runc mounts it in the container's own
 * mount namespace, which spares two mount(8) processes per container (~25 ms) and leaves no host
 * mount behind when ocikit dies (decision 102). crun rejects a mount on `/`, and a user name (or a
 * uid whose groups come from /etc/group) must be read from the image's files, so those mount on
 * the host as before.
 */
function runtimeMountsRoot(
  runtime: string,
  mounts: readonly SnapshotMount[],
  user: string | undefined,
): Mount | undefined {
  const [only, ...more] = mounts;
  if (basename(runtime) !== 'runc' || !only || more.length > 0 || only.type !== 'overlay') return undefined;
  if ((user ?? '') !== '') return undefined;
  return { destination: '/', type: 'overlay', source: only.source, options: [...only.options] };
}

/** Removes a container and its rootfs mount and snapshot (also for `system prune`). */
export async function removeContainer(ctx: Context, ref: string, force: boolean): Promise<ContainerRecord> {
  const containers = containersOf(ctx);
  const record = await containers.get(ref);
  if (!force && record.status !== 'exited' && record.status !== 'configured') {
    // let the supervisor refuse with its message
    return containers.remove(ref, { force });
  }
  const rootfs = join(record.bundle, 'rootfs');
  if (force && (record.status === 'running' || record.status === 'paused' || record.status === 'created')) {
    await containers
      .runtimeFor(record)
      .delete(record.id, { force: true })
      .catch(() => {});
  }
  try {
    unmount(rootfs);
  } catch {
    // not mounted (never was, or already gone)
  }
  await snapshotterOf(ctx)
    .remove(`container-${record.id}`)
    .catch(() => {});
  return containers.remove(record.id, { force });
}

/**
 * How a foreground run's stdio is wired: straight to ocikit's own streams when nothing needs the
 * output on its way (a `--rm` run keeps no log; a terminal is the user's), else piped through
 * ocikit to the streams `main` was given and into the container's log (decision 110).
 */
function foregroundStdio(
  ctx: Context,
  values: RunCommandValues,
  record: ContainerRecord,
): Parameters<Containers['runForeground']>[1] {
  const own = ctx.stdout === process.stdout && ctx.stderr === process.stderr;
  const stdin = values.interactive || values.tty ? 'inherit' : 'ignore';
  // as podman run (--sig-proxy): a signal sent to ocikit goes to the container
  if (own && (values.tty || record.autoRemove))
    return { stdio: stdin === 'inherit' ? 'inherit' : ['ignore', 'inherit', 'inherit'], proxySignals: true };
  return {
    stdio: stdin,
    output: writeTo({ stdout: ctx.stdout, stderr: ctx.stderr }),
    proxySignals: true,
  };
}

/** Docker's exit codes when the command cannot be run: 127 not found, 126 not executable. */
function commandFailureCode(e: unknown): number | undefined {
  const reason = isOcikitError(e) ? e.details.reason : undefined;
  if (reason === 'command-not-found') return 127;
  if (reason === 'command-not-executable') return 126;
  return undefined;
}

function exitCommandFor(ctx: Context, id: string): string[] {
  return [
    process.execPath,
    ...process.execArgv,
    process.argv[1] ?? 'ocikit',
    '--root',
    ctx.root,
    'rm',
    '-f',
    id,
  ];
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
    const record = await prepareContainer(ctx, values, positionals);
    const containers = containersOf(ctx);
    if (values.detach) {
      try {
        await containers.createInRuntime(record.id, {
          ...(record.autoRemove ? { exitCommand: exitCommandFor(ctx, record.id) } : {}),
          signal: ctx.signal,
        });
      } catch (e) {
        // the container is exited with the reason (or removed under --rm); the code as podman's
        const special = commandFailureCode(e);
        if (special === undefined) throw e;
        if (record.autoRemove) await removeContainer(ctx, record.id, true).catch(() => {});
        ctx.stderr.write(`ocikit: ${(e as Error).message}\n`);
        return special;
      }
      await containers.start(record.id);
      println(ctx, record.id);
      return 0;
    }
    let code: number;
    try {
      code = (await containers.runForeground(record.id, foregroundStdio(ctx, values, record))).exitCode;
    } catch (e) {
      const special = commandFailureCode(e);
      if (record.autoRemove) await removeContainer(ctx, record.id, true).catch(() => {});
      if (special === undefined) throw e;
      // the runtime has said why on the container's stderr already: not a second time
      return special;
    }
    if (record.autoRemove) await removeContainer(ctx, record.id, true);
    return code;
  },
});

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
    const record = await prepareContainer(ctx, values, positionals);
    await containersOf(ctx).createInRuntime(record.id, {
      ...(record.autoRemove ? { exitCommand: exitCommandFor(ctx, record.id) } : {}),
      signal: ctx.signal,
    });
    println(ctx, record.id);
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
    const containers = containersOf(ctx);
    const record = await containers.start(positionals[0] ?? '');
    if (!values.attach) {
      println(ctx, record.name);
      return 0;
    }
    // as podman start --attach: signals go to the container, whose output follows until it exits
    const stopProxy = proxyToContainer(containers, record.id);
    try {
      await streamLogs(ctx, record.id, { follow: true, interruptible: false });
      return (await containers.wait(record.id)) ?? 125;
    } finally {
      stopProxy();
    }
  },
});

/**
 * Passes the signals ocikit receives on to a detached container (through the runtime's `kill`)
 * until the returned function is called, as podman's `--sig-proxy` (decision 107). Not SIGWINCH:
 * a terminal's size goes through conmon's control FIFO.
 */
function proxyToContainer(containers: Containers, id: string): () => void {
  return proxySignals(
    (signal) => {
      containers.kill(id, signal).catch(() => {}); // exited meanwhile: nothing to tell
    },
    { resize: false },
  );
}

async function streamLogs(
  ctx: Context,
  id: string,
  options: { follow?: boolean; tail?: number; timestamps?: boolean; interruptible?: boolean },
) {
  for await (const line of containersOf(ctx).logs(id, {
    ...(options.follow ? { follow: true } : {}),
    ...(options.tail !== undefined ? { tail: options.tail } : {}),
    // a Ctrl-C ends `logs -f`, but goes to the container (proxied) while `start -a` follows it
    ...(options.interruptible === false ? {} : { signal: ctx.signal }),
  })) {
    const out = line.stream === 'stdout' ? ctx.stdout : ctx.stderr;
    out.write(`${options.timestamps ? `${line.time} ` : ''}${line.text}${line.partial ? '' : '\n'}`);
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
    const record = await containersOf(ctx).get(positionals[0] ?? '');
    await streamLogs(ctx, record.id, {
      ...(values.follow ? { follow: true } : {}),
      ...(tail !== undefined ? { tail } : {}),
      ...(values.timestamps ? { timestamps: true } : {}),
    });
    return 0;
  },
});

/** The relay's exit status when the user typed the detach keys. */
const DETACHED = 10;

const RELAY = `
import os, select, socket, sys, termios, tty
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
fd = sys.stdin.fileno()
old = None
if sys.argv[2] == '1' and os.isatty(fd):
    old = termios.tcgetattr(fd)
    tty.setraw(fd)
stdin_open = sys.argv[3] == '1'
# the detach sequence, read only from a terminal (piped input passes untouched); bytes that could
# start it are held back until the next one shows whether it does
keys = bytes.fromhex(sys.argv[4]) if os.isatty(fd) else b""
held = b""
detached = False
try:
    while not detached:
        r, _, _ = select.select([s] + ([fd] if stdin_open else []), [], [])
        if s in r:
            d = s.recv(8193)
            if not d:
                break
            os.write(2 if d[0] == 3 else 1, d[1:])  # conmon: 2 stdout, 3 stderr
        if stdin_open and fd in r:
            d = os.read(fd, 8192)
            if not d:
                stdin_open = False
                continue
            out = bytearray()
            for b in d:
                if keys and b == keys[len(held)]:
                    held += bytes([b])
                    if held == keys:
                        detached = True
                        break
                    continue
                out += held
                held = b""
                if keys and b == keys[0]:
                    held = bytes([b])
                else:
                    out.append(b)
            if out:
                s.send(bytes(out))
finally:
    if old is not None:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
sys.exit(${DETACHED} if detached else 0)
`;

/**
 * Docker's and podman's detach-key notation as bytes: a comma-separated sequence of single
 * characters and `ctrl-X` (X one of a-z, @, [, backslash, ], ^, _); empty turns detaching off.
 */
function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0);
  const bytes = spec.split(',').map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl) {
      const c = (ctrl[1] as string).toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 0x60;
      const special = '@[\\]^_'.indexOf(c);
      if (special >= 0) return special === 0 ? 0 : 0x1a + special;
    } else if (key.length === 1 && key.charCodeAt(0) < 0x80) {
      return key.charCodeAt(0);
    }
    throw new InvalidArgumentError(`--detach-keys: ${JSON.stringify(key)} is not a key`, {
      hint: "write keys as 'ctrl-p,ctrl-q': single characters and ctrl-<a-z @ [ \\ ] ^ _>, comma-separated",
    });
  });
  return Buffer.from(bytes);
}

/** `ocikit attach CONTAINER`. */
export const attachCommand = defineCommand({
  name: 'attach',
  summary: "Attach to a running detached container's stdio (and terminal)",
  usage: 'ocikit attach [--detach-keys KEYS] CONTAINER',
  description:
    "Relays the container's output, and your input when it was started with -i, through conmon's attach socket " +
    "(a SOCK_SEQPACKET socket Node cannot open, so python3 relays it; decision 100). Exits with the container's code, " +
    'or 0 when you detach (ctrl-p ctrl-q), leaving it running.',
  options: { 'detach-keys': { type: 'string' } },
  help: {
    'detach-keys': "keys that detach, leaving the container running (default 'ctrl-p,ctrl-q'; '' for none)",
  },
  failureExitCode: 125,
  async run(ctx, { values, positionals }) {
    expectPositionals(attachCommand, positionals, 1);
    const keys = parseDetachKeys(values['detach-keys'] ?? 'ctrl-p,ctrl-q');
    const containers = containersOf(ctx);
    const record = await containers.get(positionals[0] ?? '');
    const socket = await containers.attachSocket(record.id);
    // as podman attach (--sig-proxy): signals sent to ocikit go to the container, and the relay runs
    // in a session of its own, so a terminal's Ctrl-C reaches the container instead of ending it
    const stopProxy = proxyToContainer(containers, record.id);
    // a TTY container's terminal follows ours, as with podman attach: now, and on every resize
    const out = process.stdout;
    const resize = () => {
      if (out.isTTY && out.rows > 0 && out.columns > 0)
        containers.resize(record.id, { rows: out.rows, columns: out.columns }).catch(() => {});
    };
    if (record.tty) {
      resize();
      out.on('resize', resize);
    }
    try {
      const relayed = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          'python3',
          ['-c', RELAY, socket, record.tty ? '1' : '0', record.interactive ? '1' : '0', keys.toString('hex')],
          { stdio: 'inherit', detached: true },
        );
        child.on('error', reject);
        child.on('close', (code) => resolve(code));
      });
      // detached on purpose: the container runs on
      if (relayed === DETACHED) return 0;
      // not ctx.signal: a Ctrl-C was the container's to handle, and attach lasts as long as it runs
      return (await containers.wait(record.id)) ?? 125;
    } finally {
      stopProxy();
      if (record.tty) out.off('resize', resize);
    }
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
    const [ref, ...args] = positionals;
    if (!ref || args.length === 0)
      throw new InvalidArgumentError('usage: ocikit exec [flags] CONTAINER CMD...');
    const containers = containersOf(ctx);
    const record = await containers.get(ref);
    // names are looked up in the running container's own root (its /etc/passwd as it is now); the
    // bundle's rootfs is empty on the host when the runtime mounted it (decision 102)
    const root = record.pid !== undefined ? `/proc/${record.pid}/root` : join(record.bundle, 'rootfs');
    const user = values.user !== undefined ? await resolveUser(values.user, root) : undefined;
    const consoleSize = consoleSizeOfTerminal();
    try {
      return await containers.exec(
        record.id,
        {
          args,
          terminal: values.tty === true,
          ...(values.tty === true && consoleSize ? { consoleSize } : {}),
          ...(values.env
            ? { env: values.env.map((e) => (e.includes('=') ? e : `${e}=${ctx.env[e] ?? ''}`)) }
            : {}),
          ...(values.workdir !== undefined ? { cwd: values.workdir } : {}),
          ...(user ? { user } : {}),
        },
        {
          stdio: values.interactive || values.tty ? 'inherit' : ['ignore', 'inherit', 'inherit'],
          // as podman exec: a signal sent to ocikit goes to the process it runs
          proxySignals: true,
        },
      );
    } catch (e) {
      const special = commandFailureCode(e);
      if (special === undefined) throw e;
      ctx.stderr.write(`ocikit: ${(e as Error).message}\n`);
      return special;
    }
  },
});

/** `ocikit ps [-a] [--no-trunc] [--format TEMPLATE]`. */
export const psCommand = defineCommand({
  name: 'ps',
  summary: 'List containers',
  usage: 'ocikit ps [-a] [--no-trunc] [--format TEMPLATE]',
  description:
    "--format takes a Go template over docker's and podman's fields ({{.ID}}, {{.Names}}, {{.Image}}, " +
    '{{.Status}}, {{json .}}, …); "table …" adds headers and aligns columns, "json" is {{json .}}.',
  options: {
    all: { type: 'boolean', short: 'a' },
    // `--no-trunc`: parseArgs' allowNegative reads it as trunc=false, whatever options exist
    trunc: { type: 'boolean' },
    format: { type: 'string' },
  },
  help: {
    all: 'include stopped containers',
    trunc: "shorten IDs and commands to docker's widths (--no-trunc: show them whole)",
    format: 'print each container with a Go template',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(psCommand, positionals, 0);
    const containers = containersOf(ctx);
    const all: ContainerRecord[] = [];
    for (const r of await containers.list()) {
      // a --rm container whose ocikit was killed before it could remove it: removed now
      if (containers.abandoned(r)) await removeContainer(ctx, r.id, true).catch(() => {});
      else all.push(r);
    }
    const shown = values.all ? all : all.filter((r) => r.status === 'running' || r.status === 'paused');
    const now = Date.now();
    const items = shown.map((r) => psItem(r, now, values.trunc !== false));
    const table = () => printFormatted(ctx, psTable, items, psFields, () => {});
    if (ctx.quiet) for (const r of shown) println(ctx, values.trunc === false ? r.id : r.id.slice(0, 12));
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
    for (const ref of positionals) {
      const code = await containersOf(ctx).wait(ref, { signal: ctx.signal });
      println(ctx, code === undefined ? 'unknown' : String(code));
    }
    return 0;
  },
});

/** `ocikit kill [-s SIGNAL] CONTAINER…`. */
export const killCommand = defineCommand({
  name: 'kill',
  summary: 'Send a signal to containers (default SIGKILL)',
  usage: 'ocikit kill [-s SIGNAL] CONTAINER...',
  options: { signal: { type: 'string', short: 's' } },
  help: { signal: 'signal name or number' },
  async run(ctx, { values, positionals }) {
    expectPositionals(killCommand, positionals, 1, Number.POSITIVE_INFINITY);
    const signal = values.signal ?? 'SIGKILL';
    signalNumber(signal);
    for (const ref of positionals) {
      await containersOf(ctx).kill(ref, signal);
      println(ctx, ref);
    }
    return 0;
  },
});

/** `ocikit stop [-t SECONDS] CONTAINER…`. */
export const stopCommand = defineCommand({
  name: 'stop',
  summary: 'Stop containers: their stop signal, then SIGKILL after a timeout',
  usage: 'ocikit stop [-t SECONDS] CONTAINER...',
  options: { time: { type: 'string', short: 't' } },
  help: { time: 'seconds to wait before SIGKILL (default 10)' },
  async run(ctx, { values, positionals }) {
    expectPositionals(stopCommand, positionals, 1, Number.POSITIVE_INFINITY);
    const timeout = values.time === undefined ? 10 : Number(values.time);
    if (!(Number.isFinite(timeout) && timeout >= 0))
      throw new InvalidArgumentError(`-t must be a number of seconds, not ${JSON.stringify(values.time)}`);
    for (const ref of positionals) {
      await containersOf(ctx).stop(ref, { timeout, signal: ctx.signal });
      println(ctx, ref);
    }
    return 0;
  },
});

/** `ocikit rm [-f] CONTAINER…`. */
export const rmCommand = defineCommand({
  name: 'rm',
  summary: 'Remove containers',
  usage: 'ocikit rm [-f] CONTAINER...',
  options: { force: { type: 'boolean', short: 'f' } },
  help: { force: 'kill and remove running containers too' },
  async run(ctx, { values, positionals }) {
    expectPositionals(rmCommand, positionals, 1, Number.POSITIVE_INFINITY);
    for (const ref of positionals) {
      const removed = await removeContainer(ctx, ref, values.force === true);
      println(ctx, removed.name === ref ? ref : removed.id.slice(0, 12));
    }
    return 0;
  },
});

/** `ocikit pause CONTAINER…`. */
export const pauseCommand = defineCommand({
  name: 'pause',
  summary: 'Freeze every process of containers',
  usage: 'ocikit pause CONTAINER...',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(pauseCommand, positionals, 1, Number.POSITIVE_INFINITY);
    for (const ref of positionals) await containersOf(ctx).pause(ref);
    return 0;
  },
});

/** `ocikit unpause CONTAINER…`. */
export const unpauseCommand = defineCommand({
  name: 'unpause',
  summary: 'Thaw paused containers',
  usage: 'ocikit unpause CONTAINER...',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(unpauseCommand, positionals, 1, Number.POSITIVE_INFINITY);
    for (const ref of positionals) await containersOf(ctx).unpause(ref);
    return 0;
  },
});

/** The record of a container named by `ref`, or undefined (for `inspect`, which also takes images). */
export async function findContainer(ctx: Context, ref: string): Promise<ContainerRecord | undefined> {
  try {
    return await containersOf(ctx).get(ref);
  } catch (e) {
    // not a container (or a prefix of several ids): the caller looks for an image by that name
    if (isNotFound(e) || (isInvalidArgument(e) && e.details.reason === 'ambiguous')) return undefined;
    throw e;
  }
}
