import type { Context } from './command.ts';
import { formatBytes, shortDigest } from './output.ts';

interface Bar {
  label: string;
  total: number;
  done: number;
  state: 'active' | 'done' | 'skipped';
}

/**
 * Per-blob progress: live bars on a TTY (redrawn at most every 100 ms), nothing per blob otherwise,
 * and one summary line at the end unless `--quiet` or `--json`.
 */
export class Progress {
  readonly #ctx: Context;
  readonly #bars = new Map<string, Bar>();
  readonly #tty: boolean;
  // Date.now(): the global `performance` loads perf_hooks on first use (~1 ms of every transfer)
  readonly #started = Date.now();
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;
  #bytes = 0;
  #skipped = 0;

  constructor(ctx: Context) {
    this.#ctx = ctx;
    this.#tty = ctx.stderr.isTTY === true && !ctx.quiet && !ctx.json;
  }

  /** A blob started: `id` is its digest, `total` its size. */
  start(id: string, total: number, label = shortDigest(id)): void {
    this.#bars.set(id, { label, total, done: 0, state: 'active' });
    this.#schedule();
  }

  /** `bytes` more bytes of blob `id` arrived. */
  advance(id: string, bytes: number): void {
    const bar = this.#bars.get(id);
    if (bar) bar.done += bytes;
    this.#bytes += bytes;
    this.#schedule();
  }

  /** Blob `id` is complete. */
  finish(id: string): void {
    const bar = this.#bars.get(id);
    if (bar) {
      bar.state = 'done';
      bar.done = bar.total;
    }
    this.#schedule();
  }

  /** Blob `id` was already at the destination. */
  skip(id: string, total: number, label = shortDigest(id)): void {
    this.#bars.set(id, { label, total, done: total, state: 'skipped' });
    this.#skipped++;
    this.#schedule();
  }

  /** Stops drawing and prints the summary line (`verb 3 blobs, 12 MB in 1.2 s`). */
  end(verb: string): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#tty) this.#draw();
    if (this.#ctx.quiet || this.#ctx.json) return;
    const seconds = ((Date.now() - this.#started) / 1000).toFixed(1);
    const copied = this.#bars.size - this.#skipped;
    const skipped = this.#skipped ? `, ${this.#skipped} already present` : '';
    this.#ctx.stderr.write(
      `${verb} ${copied} blob(s), ${formatBytes(this.#bytes)} in ${seconds} s${skipped}\n`,
    );
  }

  #schedule(): void {
    if (!this.#tty || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
    }, 100);
  }

  #draw(): void {
    const width = Math.max(20, Math.min(40, (this.#ctx.stderr.columns ?? 80) - 50));
    const lines = [...this.#bars.values()].map((b) => {
      const ratio = b.total > 0 ? Math.min(1, b.done / b.total) : 1;
      const fill = Math.round(ratio * width);
      const status =
        b.state === 'skipped' ? 'exists' : b.state === 'done' ? 'done' : `${Math.floor(ratio * 100)}%`;
      return `${b.label}  [${'='.repeat(fill)}${' '.repeat(width - fill)}]  ${formatBytes(b.done)}/${formatBytes(b.total)}  ${status}`;
    });
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    this.#ctx.stderr.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`);
    this.#drawn = lines.length;
  }
}

/** Progress callbacks for unpacking layers (`unpackImage`'s `onProgress` and `onLayer`). */
export function layerProgress(ctx: Context): {
  onProgress: (layer: { digest: string; size: number }, bytes: number) => void;
  onLayer: (layer: { digest: string }) => void;
  end: () => void;
} {
  const progress = new Progress(ctx);
  const started = new Set<string>();
  return {
    onProgress: (layer, bytes) => {
      if (!started.has(layer.digest)) {
        started.add(layer.digest);
        progress.start(layer.digest, layer.size);
      }
      progress.advance(layer.digest, bytes);
    },
    onLayer: (layer) => progress.finish(layer.digest),
    end: () => progress.end('unpacked'),
  };
}
