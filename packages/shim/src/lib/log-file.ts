// A container's log written by this process (foreground runs), in conmon's k8s-file format.
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { OutputSink } from './runtime.ts';

/**
 * Appends output to a k8s-file log (`TIME STREAM F|P TEXT`, one entry per line; a chunk's
 * unfinished last line is a `P` partial entry), at most `maxSize` bytes: when an entry would pass
 * it, the file starts over, as conmon's `--log-size-max` does. Synchronous writes: a foreground
 * run's output is small and a line per call keeps its order with what the runner prints.
 */
export class LogFile {
  readonly #fd: number;
  readonly #max: number;
  #size: number;

  constructor(path: string, maxSize: number) {
    this.#fd = openSync(path, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
    this.#max = maxSize;
  }

  /** A sink that logs each chunk, then hands it on to `next` (whose answer it returns), if given. */
  sink(next?: OutputSink): OutputSink {
    return (stream, chunk) => {
      this.write(stream, chunk);
      return next?.(stream, chunk) ?? true;
    };
  }

  /** Logs one chunk of `stream`. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const time = new Date().toISOString();
    const text = chunk.toString('utf8');
    const lines = text.split('\n');
    const last = lines.pop() ?? '';
    let out = '';
    for (const line of lines) out += `${time} ${stream} F ${line}\n`;
    if (last !== '') out += `${time} ${stream} P ${last}\n`;
    const bytes = Buffer.from(out, 'utf8');
    if (this.#size + bytes.length > this.#max) {
      ftruncateSync(this.#fd, 0);
      this.#size = 0;
    }
    // an entry larger than the whole log keeps its end
    const kept = bytes.length > this.#max ? bytes.subarray(bytes.length - this.#max) : bytes;
    writeSync(this.#fd, kept);
    this.#size += kept.length;
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}
