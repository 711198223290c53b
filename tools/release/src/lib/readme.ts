import { readFileSync } from 'node:fs';

/** One fenced TypeScript block of a README. */
export interface ReadmeExample {
  /** The README it comes from. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string, e.g. `ts` or `ts no-run`. */
  info: string;
  /** The code between the fences. */
  code: string;
  /** False for blocks marked `no-run` (they only show types or a shape). */
  run: boolean;
}

/**
 * The ```ts (or ```typescript) blocks of a Markdown file, in order. A block whose info string
 * carries `no-run` is returned with `run: false`.
 */
export function readmeExamples(file: string): ReadmeExample[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const examples: ReadmeExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```\s*(ts|typescript)\b(.*)$/.exec(lines[i] ?? '');
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    const info = `${open[1]}${open[2] ?? ''}`.trim();
    examples.push({
      file,
      line: start + 1,
      info,
      code: `${body.join('\n')}\n`,
      run: !/\bno-run\b/.test(info),
    });
  }
  return examples;
}
