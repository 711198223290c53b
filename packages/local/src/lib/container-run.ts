// The local engine's one-step foreground run (`containers.run`): the runtime runs the container
// directly (`runc run`), no monitor, as `ocikit run` always did — the fast path of `run --rm`.
import type { ContainerSpec, RunOptions, RunResult } from '@ocikit/engine';
import type { ForegroundOptions } from '@ocikit/shim';
import { isAddFailure, prepareContainer, settleNetwork, startFailureCode } from './container-create.ts';
import { containerEvent, recordDie } from './container-events.ts';
import { removeContainer } from './container-remove.ts';
import { containersOf } from './container-store.ts';
import type { LocalContext } from './context.ts';
import { detachNetworks } from './network.ts';

/**
 * How a foreground run's stdio is wired: with `inheritStdio`, this process's own streams (a
 * terminal as it is; stdin with `openStdin` or `tty`), `onOutput` unused. Otherwise the output is
 * piped through this process to `onOutput` (a handler returning `false` says its destination broke:
 * the container then gets SIGPIPE), and stdin, when `stdin` is this process's own, handed over as it is.
 */
function stdioFor(spec: ContainerSpec, options: RunOptions): ForegroundOptions {
  const proxySignals = options.proxySignals === true;
  if (options.inheritStdio) {
    const input = spec.openStdin || spec.tty;
    return { stdio: input ? 'inherit' : ['ignore', 'inherit', 'inherit'], proxySignals };
  }
  const { onOutput } = options;
  return {
    stdio: ownStdin(spec, options) ? 'inherit' : 'ignore',
    proxySignals,
    output: onOutput ? (stream, data) => (onOutput({ stream, data }) as unknown) !== false : () => true,
  };
}

/** Whether the run's stdin is this process's own (handed to the runtime as it is, not relayed). */
function ownStdin(spec: ContainerSpec, options: RunOptions): boolean {
  return spec.openStdin === true && options.stdin === (process.stdin as AsyncIterable<Uint8Array>);
}

/**
 * `containers.run` with the runtime's own `run`: the container is prepared (image, snapshot,
 * config.json), run in the foreground by this process, its record and log kept as a detached
 * one's, and removed under autoRemove. A command that cannot be started gives Docker's 127/126
 * (the runtime's message on its stderr). Stdin fed from another iterable than this process's own
 * stdin runs through the steps instead: create under conmon, attach, start, wait.
 */
export async function runContainer(
  ctx: LocalContext,
  spec: ContainerSpec,
  options: RunOptions,
  steps: (spec: ContainerSpec, options: RunOptions) => Promise<RunResult>,
): Promise<RunResult> {
  if (options.stdin && !options.inheritStdio && !ownStdin(spec, options)) return steps(spec, options);
  const { record, network } = await prepareContainer(ctx, spec, options);
  // written while the runtime starts the container (its journal's lock and I/O would otherwise add
  // ~8 ms to every run on a loaded machine), in order, before its die
  const started = containerEvent(ctx, 'create', record).then(() => containerEvent(ctx, 'start', record));
  let exitCode: number;
  try {
    exitCode = (
      await containersOf(ctx)
        .runForeground(record.id, stdioFor(spec, options))
        .finally(() => settleNetwork(ctx, record, network, 'containers.run'))
    ).exitCode;
  } catch (e) {
    await started;
    // removed already: ADD failed, the runtime's failure was its hook's
    if (isAddFailure(e)) throw e;
    const code = startFailureCode(e);
    if (code !== undefined) await recordDie(ctx, record, code);
    if (record.autoRemove)
      await removeContainer(ctx, record.id, { force: true, operation: 'containers.run' }).catch(() => {});
    else await detachNetworks(ctx, record.id).catch(() => {});
    if (code === undefined) throw e;
    return { id: record.id, exitCode: code };
  }
  // off its networks (DEL) while its exit is recorded and, under autoRemove, it is removed (whose
  // own detach then only forgets the network record)
  const detaching = detachNetworks(ctx, record.id).then(
    () => undefined,
    (e: unknown) => e ?? new Error('detaching failed'),
  );
  await started;
  await recordDie(ctx, record, exitCode);
  if (record.autoRemove)
    await removeContainer(ctx, record.id, { force: true, operation: 'containers.run' }).finally(
      () => detaching,
    );
  const failed = await detaching;
  if (failed !== undefined) throw failed;
  return { id: record.id, exitCode };
}
