// The local engine's one-step foreground run (`containers.run`): the runtime runs the container
// directly (`runc run`), no monitor, as `ocikit run` always did — the fast path of `run --rm`.
import type { ContainerSpec, RunOptions, RunResult } from '@ocikit/engine';
import type { ForegroundOptions } from '@ocikit/shim';
import { prepareContainer, startFailureCode } from './container-create.ts';
import { removeContainer } from './container-remove.ts';
import { containersOf } from './container-store.ts';
import type { LocalContext } from './context.ts';

/**
 * How a foreground run's stdio is wired: inherited (this process's own streams, a terminal as it
 * is) when asked and nothing takes the output; else piped through this process to `onOutput` (a
 * handler returning `false` says its destination broke: the container then gets SIGPIPE), stdin
 * inherited when asked for (with `openStdin` or `tty`).
 */
function stdioFor(spec: ContainerSpec, options: RunOptions): ForegroundOptions {
  const input = options.inheritStdio && (spec.openStdin || spec.tty);
  const proxySignals = options.proxySignals === true;
  const { onOutput } = options;
  if (options.inheritStdio && !onOutput)
    return { stdio: input ? 'inherit' : ['ignore', 'inherit', 'inherit'], proxySignals };
  return {
    stdio: input ? 'inherit' : 'ignore',
    proxySignals,
    ...(onOutput
      ? { output: (stream, data) => (onOutput({ stream, data }) as unknown) !== false }
      : { output: () => true }),
  };
}

/**
 * `containers.run` with the runtime's own `run`: the container is prepared (image, snapshot,
 * config.json), run in the foreground by this process, its record and log kept as a detached
 * one's, and removed under autoRemove. A command that cannot be started gives Docker's 127/126
 * (the runtime's message on its stderr). Stdin fed from an iterable (not inherited) runs through
 * the steps instead: create under conmon, attach, start, wait.
 */
export async function runContainer(
  ctx: LocalContext,
  spec: ContainerSpec,
  options: RunOptions,
  steps: (spec: ContainerSpec, options: RunOptions) => Promise<RunResult>,
): Promise<RunResult> {
  if (options.stdin && !options.inheritStdio) return steps(spec, options);
  const record = await prepareContainer(ctx, spec, options);
  let exitCode: number;
  try {
    exitCode = (await containersOf(ctx).runForeground(record.id, stdioFor(spec, options))).exitCode;
  } catch (e) {
    const code = startFailureCode(e);
    if (record.autoRemove)
      await removeContainer(ctx, record.id, { force: true, operation: 'containers.run' }).catch(() => {});
    if (code === undefined) throw e;
    return { id: record.id, exitCode: code };
  }
  if (record.autoRemove) await removeContainer(ctx, record.id, { force: true, operation: 'containers.run' });
  return { id: record.id, exitCode };
}
