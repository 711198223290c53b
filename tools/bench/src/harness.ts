// A small benchmark harness: runs whole commands interleaved (so drift hits every contender alike),
// reports medians and ratios against a baseline. Used by every benchmark under tools/bench.
import { spawnSync } from 'node:child_process';

/** One contender: a command line, and optionally a step to run untimed before each run. */
export interface Contender {
  name: string;
  argv: readonly string[];
  setup?: () => void;
}

/** The result of one contender. */
export interface Result {
  name: string;
  runs: number[];
  median: number;
}

function median(xs: readonly number[]): number {
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
