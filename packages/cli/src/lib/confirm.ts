import type { Context } from './command.ts';

/** Asks `question` on stderr and reads one answer line from stdin; true for y or yes (`prune` without -f). */
export async function confirm(ctx: Context, question: string): Promise<boolean> {
  ctx.stderr.write(question);
  let line = '';
  for await (const chunk of ctx.stdin) {
    line += String(chunk);
    if (line.includes('\n')) break;
  }
  return /^\s*y(es)?\s*$/i.test(line.split('\n')[0] ?? '');
}

/** `prune`'s question, docker's words for `what` (`local volumes`), unless `force`; true to go on. */
export async function confirmPrune(ctx: Context, force: boolean | undefined, what: string): Promise<boolean> {
  return (
    force === true ||
    confirm(
      ctx,
      `WARNING! This will remove all ${what} not used by at least one container.\nAre you sure you want to continue? [y/N] `,
    )
  );
}
