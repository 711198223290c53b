// Containers run in the foreground by this process (`runtime run`), their record kept up to date.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isOcikitError, truncate } from '@ocikit/errors';
import { LogFile } from './log-file.ts';
import { type ContainerRecord, type Records, runtimeOf, writeExitFile } from './records.ts';
import { type OutputSink, type RunResult, START_FAILURE_CODES, type Stdio } from './runtime.ts';

/** Options of a foreground run ({@link Containers.runForeground}). */
export interface ForegroundOptions {
  /**
   * How the container's stdio is wired (default inherited: a terminal works as with `runc run`).
   * With `'pipe'` the result carries its output (at most 16 MiB of each stream).
   */
  stdio?: Stdio;
  /** Signals sent to this process go to the container (see `RunOptions.proxySignals`). */
  proxySignals?: boolean;
  /** Streams the container's stdout and stderr here as they come (its stdin as `stdio` says). */
  output?: OutputSink;
  /**
   * Keep its output in its log, as for a detached container (k8s-file, at most `logSizeMax`).
   * Default: unless it has a terminal or is removed as it exits (`autoRemove`), or `stdio` is an
   * explicit array (the caller then owns the streams). Logging pipes the output through this process.
   */
  log?: boolean;
  /** The most bytes its log keeps (default 10 MiB); when full it starts over, as conmon's. */
  logSizeMax?: number;
}

/**
 * An output sink writing to `streams`. Once one of them fails (EPIPE: its reader went away), its
 * chunks are refused (`false`), so the container gets SIGPIPE as in a shell pipeline, and the
 * error does not end this process.
 *
 * @example
 * ```ts
 * await containers.runForeground(id, { stdio: 'ignore', output: writeTo({ stdout: out, stderr: err }) });
 * ```
 */
export function writeTo(streams: Readonly<Record<'stdout' | 'stderr', NodeJS.WritableStream>>): OutputSink {
  const broken = { stdout: false, stderr: false };
  for (const stream of new Set([streams.stdout, streams.stderr])) {
    stream.on('error', () => {
      if (stream === streams.stdout) broken.stdout = true;
      if (stream === streams.stderr) broken.stderr = true;
    });
  }
  return (name, chunk) => {
    if (broken[name]) return false;
    streams[name].write(chunk);
    return true;
  };
}

/**
 * The sink for a foreground run's output: where it goes when it is piped through this process
 * (to `output`, collected for `'pipe'`, the process's own streams for `'inherit'`, nowhere for
 * `'ignore'`), plus what it collected.
 */
function outputFor(options: ForegroundOptions): {
  sink: OutputSink;
  collected: { stdout: string; stderr: string };
} {
  const collected = { stdout: '', stderr: '' };
  if (options.output) return { sink: options.output, collected };
  const stdio = options.stdio ?? 'inherit';
  if (stdio === 'pipe') {
    return {
      sink: (stream, chunk) => {
        if (collected[stream].length < 16 << 20) collected[stream] += chunk.toString('utf8');
        return true;
      },
      collected,
    };
  }
  if (stdio === 'inherit') {
    return {
      sink: writeTo({ stdout: process.stdout, stderr: process.stderr }),
      collected,
    };
  }
  return { sink: () => true, collected };
}

/**
 * Runs a configured container in the foreground with `runtime run`: stdio as given (inherited:
 * a terminal works as with `runc run`), the record kept up to date, its output logged (see
 * {@link ForegroundOptions.log}); resolves to its exit code with its output when piped. A command
 * that cannot start leaves the record exited with 127/126 and the runtime's message as its `error`.
 */
export async function runInForeground(
  records: Records,
  record: ContainerRecord,
  options: ForegroundOptions,
): Promise<RunResult> {
  const dir = records.recordDir(record.id);
  mkdirSync(record.runtimeRoot, { recursive: true });
  const runtime = runtimeOf(record);
  const running: ContainerRecord = {
    ...record,
    status: 'running',
    startedAt: new Date().toISOString(),
    ownerPid: process.pid,
  };
  await records.save(running);
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
        const current = await records.read(record.id);
        if (current?.status === 'running') await records.save({ ...current, pid: Number(text.trim()) });
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
  const stdio = options.stdio ?? 'inherit';
  const log =
    (options.log ?? (!record.tty && !record.autoRemove && !Array.isArray(stdio)))
      ? new LogFile(record.logPath, options.logSizeMax ?? 10 << 20)
      : undefined;
  // piped through this process when logged or sent elsewhere; else the runtime's own streams
  const through = log || options.output ? outputFor(options) : undefined;
  const output = through && log ? log.sink(through.sink) : through?.sink;
  let result: RunResult;
  try {
    result = await runtime.run(record.id, {
      bundle: record.bundle,
      pidFile,
      stdio,
      proxySignals: options.proxySignals === true,
      ...(output ? { output } : {}),
    });
  } catch (e) {
    log?.close();
    await stopWatching();
    const reason = isOcikitError(e) ? e.details.reason : undefined;
    const startCode = typeof reason === 'string' ? START_FAILURE_CODES[reason] : undefined;
    if (startCode !== undefined) writeExitFile(join(dir, 'exits'), record.id, startCode);
    await records.save({
      ...((await records.read(record.id)) ?? running),
      status: 'exited',
      finishedAt: new Date().toISOString(),
      ...(startCode !== undefined
        ? {
            exitCode: startCode,
            error: truncate(String(isOcikitError(e) ? e.details.runtimeMessage : e), 1000),
          }
        : {}),
    });
    throw e;
  }
  log?.close();
  await stopWatching();
  const code = result.exitCode;
  writeExitFile(join(dir, 'exits'), record.id, code);
  const done: ContainerRecord = {
    ...((await records.read(record.id)) ?? running),
    status: 'exited',
    exitCode: code,
    finishedAt: new Date().toISOString(),
  };
  await records.save(done);
  if (through && !options.output && stdio === 'pipe') return { ...result, ...through.collected };
  return result;
}
