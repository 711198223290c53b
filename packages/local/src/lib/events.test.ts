// The events journal: rotation at its size limit, followers that see every event across it.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent } from '@ocikit/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { localContext } from './context.ts';
import { eventsJournal, MAX_JOURNAL_BYTES, readEvents, recordEvent } from './events.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A state root whose journal holds `bytes` of lines that are not events (skipped by readers). */
function rootWithJournal(bytes: number) {
  const root = mkdtempSync(join(tmpdir(), 'ocikit-events-'));
  dirs.push(root);
  mkdirSync(join(root, 'events'));
  appendFileSync(eventsJournal(root), `${'x'.repeat(bytes - 1)}\n`);
  return localContext({ root });
}

const event = (id: string) => ({ type: 'container', action: 'start', id });

describe('the events journal', () => {
  it('rotates at its size limit; a follower drains the old journal, then reads the new one', async () => {
    const ctx = rootWithJournal(MAX_JOURNAL_BYTES - 10);
    const controller = new AbortController();
    const seen: EngineEvent[] = [];
    const following = (async () => {
      for await (const e of readEvents(ctx, { signal: controller.signal })) {
        seen.push(e);
        if (seen.length === 3) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 120));
    // b fills the journal past the limit; c rotates it, both before the follower looks again
    await recordEvent(ctx, event('b'));
    await recordEvent(ctx, event('c'));
    await recordEvent(ctx, event('d'));
    await following;
    expect(seen.map((e) => e.id)).toEqual(['b', 'c', 'd']);
    expect(existsSync(`${eventsJournal(ctx.root)}.1`)).toBe(true);
    // from the past: the rotated journal first
    const past: string[] = [];
    for await (const e of readEvents(ctx, { since: 0, until: Date.now() })) past.push(e.id);
    expect(past).toEqual(['b', 'c', 'd']);
  });

  it('since/until bound what is read; until in the past ends at once', async () => {
    const ctx = rootWithJournal(1);
    await recordEvent(ctx, { ...event('old'), time: 1000 });
    await recordEvent(ctx, { ...event('mid'), time: 2000 });
    await recordEvent(ctx, { ...event('new'), time: 3000 });
    const ids: string[] = [];
    for await (const e of readEvents(ctx, { since: 1500, until: 2500 })) ids.push(e.id);
    expect(ids).toEqual(['mid']);
  });
});
