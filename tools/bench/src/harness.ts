// A small benchmark harness: runs whole commands interleaved (so drift hits every contender alike),
// reports medians and ratios against a baseline. Used by every benchmark under tools/bench.
import { spawn, spawnSync } from 'node:child_process';

/** One contender: a command line, and optionally a step to run untimed before each run. */
export interface Contender {
  name: string;
  argv: readonly string[];
  setup?: () => void | Promise<void>;
}

/** The result of one contender. */
export interface Result {
  name: string;
  runs: number[];
  median: number;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Runs each contender `runs` times (after `warmup` untimed rounds), interleaved, and returns medians. */
export function compare(
  contenders: readonly Contender[],
  options: { runs?: number; warmup?: number } = {},
): Result[] {
  const runs = options.runs ?? 7;
  const warmup = options.warmup ?? 1;
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const c of contenders) {
      c.setup?.();
      const start = process.hrtime.bigint();
      const r = spawnSync(c.argv[0] as string, c.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== 0)
        throw new Error(`${c.name} failed (${r.status}): ${r.stderr?.toString().slice(0, 500)}`);
      if (round >= warmup) times.get(c.name)?.push(ms);
    }
  }
  return contenders.map((c) => {
    const t = times.get(c.name) ?? [];
    return { name: c.name, runs: t, median: median(t) };
  });
}

/**
 * Like {@link compare}, but waits for each run without blocking the event loop, so servers this
 * process started (a registry whose log it drains) keep running.
 */
export async function compareAsync(
  contenders: readonly Contender[],
  options: { runs?: number; warmup?: number } = {},
): Promise<Result[]> {
  const runs = options.runs ?? 7;
  const warmup = options.warmup ?? 1;
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const c of contenders) {
      await c.setup?.();
      const start = process.hrtime.bigint();
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>(
        (resolve, reject) => {
          const child = spawn(c.argv[0] as string, c.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 2000)));
          child.on('error', reject);
          child.on('close', (status) => resolve({ code: status, stderr: err }));
        },
      );
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) throw new Error(`${c.name} failed (${code}): ${stderr.slice(0, 500)}`);
      if (round >= warmup) times.get(c.name)?.push(ms);
    }
  }
  return contenders.map((c) => {
    const t = times.get(c.name) ?? [];
    return { name: c.name, runs: t, median: median(t) };
  });
}

/** Prints results as a Markdown table with ratios against `baseline` (ratio > 1: slower than it). */
export function report(title: string, results: readonly Result[], baseline: string): string {
  const base = results.find((r) => r.name === baseline)?.median ?? Number.NaN;
  const lines = [
    `### ${title}`,
    '',
    `| command | median (ms) | ratio vs ${baseline} |`,
    '|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.median.toFixed(1)} | ${(r.median / base).toFixed(2)}× |`),
  ];
  const text = lines.join('\n');
  console.log(`${text}\n`);
  return text;
}
