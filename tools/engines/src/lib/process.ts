// What dockerd and the podman service share: a process logging to a file in its temp dir, ready when
// `GET /_ping` answers, and a stop that leaves nothing behind — its containers removed through its
// own API, the process ended, any process still running from the temp dir (shims, conmon, container
// processes whose root is there) killed by pid, the mounts under the dir unmounted, the dir removed.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, throwIfAborted, truncate, UnavailableError } from '@ocikit/errors';
import { pingOk, socketRequest } from './api.ts';

/** A container engine the test fixtures started, on a unix socket of its own. */
export interface RunningEngine {
  /** The API's unix socket. */
  socket: string;
  /** `unix://` + {@link RunningEngine.socket}, for `DOCKER_HOST`, `CONTAINER_HOST` or `--host`. */
  host: string;
  /** Environment that points clients (the docker and podman CLIs, ocikit) at this engine. */
  env: Record<string, string>;
  /** The temp dir holding the engine's state, sockets and log; removed by `stop()`. */
  dir: string;
  /** The file the engine's stdout and stderr go to. */
  logFile: string;
  /** The last `lines` lines of the engine's log. */
  logTail(lines?: number): string;
  /**
   * What to print when a test against the engine failed: the end of its log and, for a Go daemon
   * that dumps its goroutines on SIGUSR1 (dockerd), the goroutines blocked for a minute or more —
   * what a wedged daemon is waiting for.
   */
  diagnostics(): Promise<string>;
  /**
   * Removes the engine's containers, ends it (SIGTERM, SIGKILL after a grace period), kills what is
   * left running from its dir, unmounts everything under the dir and removes it. Safe to call twice.
   */
  stop(): Promise<void>;
  /** Same as {@link RunningEngine.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What {@link startEngineProcess} runs. */
export interface EngineProcessSpec {
  /** The engine's name in errors, e.g. `dockerd`. */
  name: string;
  /** Its temp dir (made by the caller). */
  dir: string;
  command: string;
  args: readonly string[];
  /** Extra environment for the engine process. */
  processEnv?: Record<string, string>;
  socket: string;
  /** Environment for clients. */
  env: Record<string, string>;
  /** How long to wait for `/_ping` (default 60 s). */
  startTimeoutMs?: number | undefined;
  /** How long SIGTERM may take before SIGKILL (default 20 s). */
  stopTimeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Starts the engine process and waits until its API answers `/_ping`; on failure cleans up and throws. */
export async function startEngineProcess(spec: EngineProcessSpec): Promise<RunningEngine> {
  const logFile = `${spec.dir}/${spec.name}.log`;
  const fd = openSync(logFile, 'a');
  const child = spawn(spec.command, spec.args, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...spec.processEnv },
  });
  closeSync(fd);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      exit = `exit ${code ?? sig}`;
      resolve();
    });
    child.on('error', (err) => {
      exit = err.message;
      resolve();
    });
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (exit === undefined) await removeContainers(spec.socket);
      if (exit === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), spec.stopTimeoutMs ?? 20_000);
        await exited;
        clearTimeout(timer);
      }
      await cleanDir(spec.dir);
    })();
    return stopped;
  };
  const engine: RunningEngine = {
    socket: spec.socket,
    host: `unix://${spec.socket}`,
    env: spec.env,
    dir: spec.dir,
    logFile,
    logTail: (lines) => tail(logFile, lines),
    diagnostics: async () => {
      const log = tail(logFile, 80);
      if (spec.name !== 'dockerd' || exit !== undefined || child.pid === undefined) return log;
      return `${log}\n${await stuckGoroutines(child.pid, logFile)}`;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  const deadline = Date.now() + (spec.startTimeoutMs ?? 60_000);
  let why = 'it did not answer GET /_ping in time';
  for (;;) {
    if (spec.signal?.aborted) {
      why = 'start-up was aborted';
      break;
    }
    if (exit !== undefined) {
      why = `it ended (${exit})`;
      break;
    }
    if (await pingOk(spec.socket)) return engine;
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  const log = tail(logFile);
  await stop();
  throw new UnavailableError(`${spec.name} did not start: ${why}. Its log ends:\n${log}`, {
    details: { engine: spec.name, reason: spec.signal?.aborted ? 'aborted' : 'start-failed' },
    hint: `install it with tools/run.sh (${spec.name === 'dockerd' ? 'docker.io' : 'podman'})`,
  });
}

/**
 * Asks dockerd for its goroutine stacks (SIGUSR1: it writes them to a file and logs the path) and
 * keeps those blocked for a minute or more, at most 400 lines.
 */
async function stuckGoroutines(pid: number, logFile: string): Promise<string> {
  const before = readFileSync(logFile, 'utf8').length;
  try {
    process.kill(pid, 'SIGUSR1');
  } catch {
    return '(dockerd is gone: no goroutine stacks)';
  }
  for (let i = 0; i < 30; i++) {
    await sleep(100);
    const path = /goroutine stacks written to (\S+?)"/.exec(readFileSync(logFile, 'utf8').slice(before))?.[1];
    if (!path) continue;
    const stuck = readFileSync(path, 'utf8')
      .split('\n\n')
      .filter((g) => /^goroutine \d+ \[[^\]]*\d+ minutes?\]/.test(g));
    const lines = stuck.join('\n\n').split('\n');
    return `dockerd: ${stuck.length} goroutines blocked for a minute or more (${path}):\n${lines.slice(0, 400).join('\n')}`;
  }
  return '(dockerd wrote no goroutine stacks in 3 s)';
}

/** Force-removes every container the engine knows, through its Docker-compatible API. */
async function removeContainers(socket: string): Promise<void> {
  try {
    const res = await socketRequest(socket, 'GET', '/containers/json?all=1', 10_000);
    if (res.status !== 200) return;
    const ids = (JSON.parse(res.body) as { Id: string }[]).map((c) => c.Id);
    await Promise.all(
      ids.map((id) =>
        socketRequest(socket, 'DELETE', `/containers/${id}?force=1&v=1`, 30_000).catch(() => undefined),
      ),
    );
  } catch {
    // the engine is gone or does not answer: the process sweep below cleans up
  }
}

/** Pids (not ours) whose command line names `dir` or whose root directory is under it. */
function processesFrom(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      let root = '';
      try {
        root = readlinkSync(`/proc/${pid}/root`);
      } catch {
        // not ours to read, or gone
      }
      if (cmdline.includes(dir) || root === dir || root.startsWith(`${dir}/`)) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => decode(line.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Kills what still runs from `dir`, unmounts everything under it and removes it. */
async function cleanDir(dir: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = processesFrom(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(100);
  }
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const m of mounts) {
      if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
    }
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
}

/**
 * Checks `registries` are `HOST[:PORT]` (they go into flags and config files) and makes the engine's
 * temp dir `ocikit-PREFIX-…` under `parentDir` (default `/var/tmp`: overlay storage wants a real file system).
 */
export async function engineDir(
  what: string,
  prefix: string,
  registries: readonly string[],
  parentDir: string | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  for (const r of registries) {
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(r)) {
      throw new InvalidArgumentError(
        `${what}: insecure registry ${JSON.stringify(truncate(r, 60))} is not a HOST[:PORT]`,
      );
    }
  }
  throwIfAborted(signal);
  return mkdtemp(join(parentDir ?? '/var/tmp', `ocikit-${prefix}-`));
}
