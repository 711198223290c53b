import type { Context } from './command.ts';

/** Writes one line to stdout. */
export function println(ctx: Context, line = ''): void {
  ctx.stdout.write(`${line}\n`);
}

/** Writes `value` as pretty JSON to stdout (for `--json`). */
export function printJson(ctx: Context, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes rows as aligned columns with a header line. */
export function printTable(
  ctx: Context,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  println(ctx, line(headers));
  for (const r of rows) println(ctx, line(r));
}

/** Formats a byte count the way humans read it (`1.2 MB`). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** Shortens a digest for tables: `sha256:0123456789ab`. */
export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest : digest.slice(0, i + 13);
}
