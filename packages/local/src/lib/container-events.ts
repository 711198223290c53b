// A container's events in the local engine's journal (decision 135): one helper for every
// operation, and `die` recorded exactly once by whoever sees the exit first.
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContainerRecord } from '@ocikit/shim';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';

/** Records a container event (`create`, `start`, `kill`, …) with its name and image. */
export function containerEvent(
  ctx: LocalContext,
  action: string,
  record: Pick<ContainerRecord, 'id' | 'name' | 'image'>,
  more: Record<string, string> = {},
): Promise<void> {
  return recordEvent(ctx, {
    type: 'container',
    action,
    id: record.id,
    attributes: { name: record.name, image: record.image, ...more },
  });
}

/**
 * Records an exited container's `die` event (with its exit code), once: the first of the runner,
 * conmon's exit command, `wait` and `remove` to see the exit claims it with a marker file in the
 * container's directory, so `die` always comes before `destroy` and never twice.
 */
export async function recordDie(
  ctx: LocalContext,
  record: ContainerRecord,
  exitCode: number | undefined = record.exitCode,
): Promise<void> {
  if (record.status !== 'exited' && exitCode === undefined) return;
  try {
    closeSync(openSync(join(dirname(record.bundle), 'died'), 'wx'));
  } catch {
    return; // recorded already (or the container is gone)
  }
  await containerEvent(ctx, 'die', record, exitCode === undefined ? {} : { exitCode: String(exitCode) });
}
