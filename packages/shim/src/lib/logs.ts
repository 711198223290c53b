// Container logs in conmon's k8s-file format: reading, following, parsing.
import { open } from 'node:fs/promises';
import { throwIfAborted } from '@ocikit/errors';
import { type ContainerRecord, isAlive, type Records, sleep } from './records.ts';

/** One log line of a container. */
export interface LogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text, without its line break (a partial line has `partial: true`). */
  text: string;
  partial: boolean;
}

/**
 * The container's log lines (detached and foreground containers): the last `tail`, then, with `follow`, new
 * lines as they come until it exits.
 */
export async function* readLogs(
  records: Records,
  record: ContainerRecord,
  options: { follow?: boolean; tail?: number; signal?: AbortSignal },
): AsyncGenerator<LogLine> {
  let position = 0;
  let carry = '';
  let first = true;
  for (;;) {
    throwIfAborted(options.signal);
    const fh = await open(record.logPath, 'r').catch(() => undefined);
    const lines: LogLine[] = [];
    if (fh) {
      try {
        const { size } = await fh.stat();
        if (size < position) position = 0; // rotated by conmon's size cap
        if (size > position) {
          const buf = Buffer.alloc(size - position);
          await fh.read(buf, 0, buf.length, position);
          position = size;
          const text = carry + buf.toString('utf8');
          const parts = text.split('\n');
          carry = parts.pop() ?? '';
          for (const raw of parts) {
            const parsed = parseLogLine(raw);
            if (parsed) lines.push(parsed);
          }
        }
      } finally {
        await fh.close();
      }
    }
    if (first && options.tail !== undefined) yield* lines.slice(Math.max(0, lines.length - options.tail));
    else yield* lines;
    first = false;
    if (!options.follow) return;
    // Done once the monitor is gone: conmon writes the exit file before it has drained the
    // container's last output into the log, so the exit file alone ended a follow early (seen
    // under load: the lines after a sleep were missing). A cheap look, where a full refresh would
    // start `runtime state` ten times a second for as long as the log is followed. A container run
    // in the foreground has no monitor: its runner closes the log, then writes the exit file.
    const over =
      record.monitorPid !== undefined
        ? !isAlive(record.monitorPid)
        : !isAlive(record.ownerPid) || (await records.exitFile(record)) !== undefined;
    if (over) {
      if (lines.length === 0) return;
      continue;
    }
    await sleep(100);
  }
}

/** Parses one line of conmon's k8s-file log format: `TIME STREAM P|F TEXT`. */
export function parseLogLine(raw: string): LogLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/.exec(raw);
  if (!m) return undefined;
  return {
    time: m[1] as string,
    stream: m[2] as 'stdout' | 'stderr',
    partial: m[3] === 'P',
    text: m[4] ?? '',
  };
}
