// The local engine's event journal (decision 135), as podman's `file` events backend: one JSON line
// per event in ROOT/events/events.log, appended under a cross-process lock by every local operation
// that changes state, and read (then followed) by `system.events`.
//
// For the local-containers helper (packages/local/src/lib/containers.ts): call
//   await recordEvent(ctx, { type: 'container', action: 'create', id, attributes: { name, image } })
// after each container operation that changed state (create, start, die — with attributes.exitCode —,
// destroy, pause, unpause, kill — with attributes.signal). recordEvent never throws.
import { appendFileSync, mkdirSync } from 'node:fs';
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
    await withLock(`${file}.lock`, async () => appendFileSync(file, `${JSON.stringify(line)}\n`), {
      timeoutMs: 10_000,
    });
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

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/**
 * The events of the journal from `since` (default: now) to `until`, then — when `until` is not
 * given or still ahead — every new one as it is appended, until `until` passes or the signal fires
 * (the iteration then ends quietly). Torn or unreadable lines are skipped.
 */
export async function* readEvents(
  ctx: LocalContext,
  options: EventsOptions = {},
): AsyncGenerator<EngineEvent> {
  const { signal } = options;
  const since = options.since ?? Date.now();
  const until = options.until;
  const file = eventsJournal(ctx.root);
  // from now: start at the journal's end; from the past: read it from the start
  let offset = options.since === undefined ? await sizeOf(file) : 0;
  let rest = '';
  const decoder = new TextDecoder();
  for (;;) {
    if (signal?.aborted) return;
    const size = await sizeOf(file);
    if (size < offset) offset = 0; // the journal was replaced: read the new one
    if (size > offset) {
      const handle = await open(file, 'r');
      try {
        const buffer = new Uint8Array(size - offset);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        offset += bytesRead;
        rest += decoder.decode(buffer.subarray(0, bytesRead), { stream: true });
      } finally {
        await handle.close();
      }
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const event = parseEvent(line);
        // times of several processes' lines are not strictly ordered: filtered, never a reason to stop
        if (!event || event.time < since || (until !== undefined && event.time > until)) continue;
        yield event;
      }
    }
    if (until !== undefined && Date.now() > until) return;
    try {
      await sleep(POLL_MS, undefined, signal ? { signal } : {});
    } catch {
      return; // the signal fired: following ends
    }
  }
}
