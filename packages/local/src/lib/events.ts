// The local engine's event journal (decision 135), as podman's `file` events backend: one JSON line
// per event in ROOT/events/events.log, appended under a cross-process lock by every local operation
// that changes state, and read (then followed) by `system.events`.
//
// For the local-containers helper (packages/local/src/lib/containers.ts): call
//   await recordEvent(ctx, { type: 'container', action: 'create', id, attributes: { name, image } })
// after each container operation that changed state (create, start, die — with attributes.exitCode —,
// destroy, pause, unpause, kill — with attributes.signal). recordEvent never throws.
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLock } from '@ocikit/content';
import type { EngineEvent, EventsOptions } from '@ocikit/engine';
import type { LocalContext } from './context.ts';

/** What {@link recordEvent} takes: an engine event, its time defaulting to now. */
export type NewEvent = Omit<EngineEvent, 'time' | 'attributes'> & {
  /** When, in milliseconds since the epoch (default: now). */
  time?: number | undefined;
  /** The event's attributes (`name`, `image`, `exitCode`, …). */
  attributes?: Record<string, string> | undefined;
};

/** The journal file of a state root: `ROOT/events/events.log`. */
export function eventsJournal(root: string): string {
  return join(root, 'events', 'events.log');
}

/** How often a follower looks for new lines (podman's file backend polls too). */
const POLL_MS = 50;

/**
 * Past this size the journal is rotated before the next append: it becomes `events.log.1`
 * (replacing the one before), as podman rotates its events file at 1 MB.
 */
export const MAX_JOURNAL_BYTES = 1 << 20;

function sizeOfSync(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Appends one event to the local engine's journal, under the journal's lock so lines from
 * concurrent processes never interleave. Best effort: an event that cannot be written (a full disk,
 * a read-only root) is dropped, never failing the operation it reports.
 *
 * @example
 * ```ts
 * await recordEvent(ctx, { type: 'container', action: 'start', id, attributes: { name: 'web' } });
 * ```
 */
export async function recordEvent(ctx: LocalContext, event: NewEvent): Promise<void> {
  const line: EngineEvent = {
    type: event.type,
    action: event.action,
    id: event.id,
    time: event.time ?? Date.now(),
    attributes: event.attributes ?? {},
  };
  const file = eventsJournal(ctx.root);
  try {
    mkdirSync(join(ctx.root, 'events'), { recursive: true });
    // one small append: synchronous, as every small state file (decision 103)
    await withLock(
      `${file}.lock`,
      async () => {
        if (sizeOfSync(file) >= MAX_JOURNAL_BYTES) renameSync(file, `${file}.1`);
        appendFileSync(file, `${JSON.stringify(line)}\n`);
      },
      { timeoutMs: 10_000 },
    );
  } catch {
    // the journal is a record of what happened, not part of it
  }
}

function parseEvent(line: string): EngineEvent | undefined {
  try {
    const e = JSON.parse(line) as Partial<EngineEvent>;
    if (typeof e.type !== 'string' || typeof e.action !== 'string' || typeof e.id !== 'string')
      return undefined;
    if (typeof e.time !== 'number') return undefined;
    const attributes =
      e.attributes && typeof e.attributes === 'object' ? (e.attributes as Record<string, string>) : {};
    return { type: e.type, action: e.action, id: e.id, time: e.time, attributes };
  } catch {
    return undefined; // a torn or foreign line: skipped, as podman's reader does
  }
}

/** A journal file's identity and size; undefined when it does not exist. */
async function statOf(file: string): Promise<{ ino: number; size: number } | undefined> {
  try {
    const { ino, size } = await stat(file);
    return { ino, size };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The bytes of `file` from `start` to `end`, and where the read stopped. */
async function readRange(
  file: string,
  start: number,
  end: number,
): Promise<{ bytes: Uint8Array; end: number }> {
  const handle = await open(file, 'r');
  try {
    const buffer = new Uint8Array(end - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return { bytes: buffer.subarray(0, bytesRead), end: start + bytesRead };
  } finally {
    await handle.close();
  }
}

/**
 * The events of the journal from `since` (default: now) to `until`, then — when `until` is not
 * given or still ahead — every new one as it is appended, until `until` passes or the signal fires
 * (the iteration then ends quietly). A rotated journal (`events.log.1`) is read first for a `since`
 * in the past, and drained when it is rotated while followed. Torn or unreadable lines are skipped.
 */
export async function* readEvents(
  ctx: LocalContext,
  options: EventsOptions = {},
): AsyncGenerator<EngineEvent> {
  const { signal } = options;
  const since = options.since ?? Date.now();
  const until = options.until;
  const journal = eventsJournal(ctx.root);
  const rotated = `${journal}.1`;
  let rest = '';
  let decoder = new TextDecoder();
  const lines = function* (bytes: Uint8Array): Generator<EngineEvent> {
    rest += decoder.decode(bytes, { stream: true });
    const all = rest.split('\n');
    rest = all.pop() ?? '';
    for (const line of all) {
      const event = parseEvent(line);
      // times of several processes' lines are not strictly ordered: filtered, never a reason to stop
      if (!event || event.time < since || (until !== undefined && event.time > until)) continue;
      yield event;
    }
  };
  const nextFile = () => {
    rest = '';
    decoder = new TextDecoder();
  };
  let current = await statOf(journal);
  let ino = current?.ino;
  // from now: start at the journal's end; from the past: the rotated journal, then this one
  let offset = options.since === undefined ? (current?.size ?? 0) : 0;
  if (options.since !== undefined) {
    const old = await statOf(rotated);
    if (old) yield* lines((await readRange(rotated, 0, old.size)).bytes);
    nextFile();
  }
  for (;;) {
    if (signal?.aborted) return;
    current = await statOf(journal);
    if (ino !== undefined && current?.ino !== ino) {
      // rotated: first what the old journal got since the last read
      const old = await statOf(rotated);
      if (old?.ino === ino && old.size > offset)
        yield* lines((await readRange(rotated, offset, old.size)).bytes);
      nextFile();
      offset = 0;
    }
    ino = current?.ino;
    if (current && current.size > offset) {
      const read = await readRange(journal, offset, current.size);
      offset = read.end;
      yield* lines(read.bytes);
    }
    if (until !== undefined && Date.now() > until) return;
    try {
      await sleep(POLL_MS, undefined, signal ? { signal } : {});
    } catch {
      return; // the signal fired: following ends
    }
  }
}
