// `containers.exec` of the local engine: `runtime exec` of a process built on the container's own.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecOptions, ExecProcess, ExecSpec, OutputChunk } from '@ocikit/engine';
import { type Process, resolveUser, stringifySpec } from '@ocikit/runtime-spec';
import { type ContainerRecord, commandFailure, lastLogError, START_FAILURE_CODES } from '@ocikit/shim';
import { ChunkQueue, stdinOf } from './attach-relay.ts';
import { startFailureCode } from './container-create.ts';
import { localError } from './container-errors.ts';
import { containersOf, getContainer } from './container-store.ts';
import type { LocalContext } from './context.ts';

/** Nothing: the output of a process whose stdio is inherited. */
const noOutput: AsyncIterable<OutputChunk> = {
  async *[Symbol.asyncIterator]() {},
};

/** The container's running record, else `container-paused` / `container-not-running`. */
async function runningContainer(ctx: LocalContext, ref: string): Promise<ContainerRecord> {
  const record = await getContainer(ctx, ref, 'containers.exec');
  if (record.status === 'paused')
    throw localError('container-paused', 'containers.exec', `container ${record.name} is paused`, {
      details: { name: record.name },
    });
  if (record.status !== 'running')
    throw localError(
      'container-not-running',
      'containers.exec',
      `container ${record.name} is ${record.status}, not running`,
      {
        details: { name: record.name, status: record.status },
      },
    );
  return record;
}

/** The exec'd process: the container's own (env, cwd, user, capabilities, rlimits) with the spec's changes. */
async function processFor(record: ContainerRecord, spec: ExecSpec): Promise<Process & { args: string[] }> {
  if (!Array.isArray(spec.cmd) || spec.cmd.length === 0)
    throw localError('bad-argument', 'containers.exec', 'give a command to run');
  const config = JSON.parse(readFileSync(join(record.bundle, 'config.json'), 'utf8')) as {
    process?: Process;
  };
  const base: Process = config.process ?? { cwd: '/', user: { uid: 0, gid: 0 } };
  const env = new Map((base.env ?? []).map((e) => [e.split('=')[0] ?? e, e]));
  for (const e of spec.env ?? []) env.set(e.split('=')[0] ?? e, e);
  // names are looked up in the running container's own root (its /etc/passwd as it is now); the
  // bundle's rootfs is empty on the host when the runtime mounted it (decision 102)
  const root = record.pid !== undefined ? `/proc/${record.pid}/root` : join(record.bundle, 'rootfs');
  const user = spec.user !== undefined ? await resolveUser(spec.user, root) : undefined;
  const proc: Process & { args: string[] } = {
    ...base,
    args: spec.cmd,
    env: [...env.values()],
    terminal: spec.tty === true,
    ...(spec.workingDir !== undefined ? { cwd: spec.workingDir } : {}),
    ...(user ? { user } : {}),
  };
  if (spec.tty === true && spec.consoleSize)
    proc.consoleSize = { height: spec.consoleSize.rows, width: spec.consoleSize.columns };
  else delete proc.consoleSize;
  if (spec.privileged === true && proc.capabilities) {
    const all = [...new Set(Object.values(proc.capabilities).flat())];
    proc.capabilities = { ...proc.capabilities, bounding: all, effective: all, permitted: all };
  }
  return proc;
}

/**
 * Runs a command in a running container. With `inheritStdio` the command gets this process's own
 * stdin (with `stdin` or `tty`), stdout and stderr — a terminal as it is, signals sent to this
 * process passed on to it, as `podman exec` — and its ExecProcess has `inherited: true` and no
 * output. Otherwise its stdio is piped: output chunks, `write`/`closeStdin`; a terminal then needs
 * `inheritStdio` (`bad-argument`). A command not found exits 127, one not executable 126, as
 * Docker's, the runtime's message on its stderr.
 */
export async function execInContainer(
  ctx: LocalContext,
  ref: string,
  spec: ExecSpec,
  options: ExecOptions,
): Promise<ExecProcess> {
  const record = await runningContainer(ctx, ref);
  const proc = await processFor(record, spec);
  const containers = containersOf(ctx);
  if (options.inheritStdio) {
    const exitCode = containers
      .exec(record.id, proc, {
        stdio: spec.stdin || spec.tty ? 'inherit' : ['ignore', 'inherit', 'inherit'],
        proxySignals: true,
      })
      .catch((e: unknown) => {
        const code = startFailureCode(e);
        if (code === undefined) throw e;
        process.stderr.write(`${(e as Error).message}\n`);
        return code;
      });
    return {
      inherited: true,
      exitCode,
      output: noOutput,
      write: async () => {},
      closeStdin: async () => {},
      // the runtime sizes an inherited terminal itself (SIGWINCH is passed on)
      resize: async () => {},
      close: () => {},
    };
  }
  if (spec.tty === true)
    throw localError(
      'bad-argument',
      'containers.exec',
      'a terminal for an exec needs inheritStdio on the local engine',
    );
  return pipedExec(record, proc, spec.stdin === true, containers.runtimeFor(record), options.signal);
}

/** `runtime exec` with piped stdio, its output as chunks. */
function pipedExec(
  record: ContainerRecord,
  proc: Process,
  stdin: boolean,
  runtime: ReturnType<ReturnType<typeof containersOf>['runtimeFor']>,
  signal: AbortSignal | undefined,
): ExecProcess {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-exec-'));
  writeFileSync(join(dir, 'process.json'), stringifySpec(proc));
  const logFile = join(dir, 'log.json');
  const { file, args } = runtime.commandLine(
    ['exec', '--process', join(dir, 'process.json'), record.id],
    logFile,
  );
  const child = spawn(file, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
  const output = new ChunkQueue();
  const push = (chunk: OutputChunk) => output.push(chunk);
  child.stdout?.on('data', (d: Buffer) => push({ stream: 'stdout', data: new Uint8Array(d) }));
  child.stderr?.on('data', (d: Buffer) => push({ stream: 'stderr', data: new Uint8Array(d) }));
  child.stdin?.on('error', () => {});
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });
  const exitCode = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', kill);
      let result = sig ? 128 + (constants.signals[sig] ?? 0) : (code ?? 128);
      lastLogError(logFile).then((said) => {
        rmSync(dir, { recursive: true, force: true });
        if (said !== undefined && code !== 0) {
          // the runtime could not run it: its words on stderr, Docker's code
          push({ stream: 'stderr', data: new TextEncoder().encode(`${said}\n`) });
          const failure = commandFailure(said);
          if (failure) result = START_FAILURE_CODES[failure] ?? result;
        }
        output.end();
        resolve(result);
      }, reject);
    });
  });
  return {
    inherited: false,
    exitCode,
    output,
    ...stdinOf(child.stdin),
    resize: async () => {},
    close: kill,
  };
}
