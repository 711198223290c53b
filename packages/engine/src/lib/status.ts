// Docker's words for a container's state and for durations, for drivers whose engine gives facts
// (times, exit codes) rather than a status line, and for clients that print them.
import type { ContainerState } from './contract.ts';

/**
 * A human-readable approximation of a duration, exactly as docker/go-units' `HumanDuration`
 * (what `docker ps` shows: `Less than a second`, `5 seconds`, `About a minute`, `2 hours`, …).
 *
 * @example
 * ```ts
 * humanDuration(90_000); // 'About a minute'
 * ```
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** The facts {@link containerStatus} words. */
export interface ContainerStatusFacts {
  /** Its state. */
  state: ContainerState;
  /** When it was created, RFC 3339 (stands in for a missing `startedAt`). */
  created?: string | undefined;
  /** When it last started, RFC 3339. */
  startedAt?: string | undefined;
  /** When it last exited, RFC 3339. */
  finishedAt?: string | undefined;
  /** Its exit code once exited. */
  exitCode?: number | undefined;
}

/** Milliseconds from an RFC 3339 time to `now`, never negative; 0 when there is no time. */
function since(iso: string | undefined, now: number): number {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.max(0, now - t);
}

/**
 * A container's STATUS as Docker's engine words it at time `now` (milliseconds since the epoch):
 * `Up 5 seconds`, `Up 2 hours (Paused)`, `Exited (0) 2 minutes ago`, `Created`, `Restarting (1) 3
 * seconds ago`, `Removal In Progress`, `Dead`.
 *
 * @example
 * ```ts
 * containerStatus({ state: 'exited', exitCode: 3, finishedAt: '2026-12-05T16:58:00Z' }, Date.parse('2026-12-05T17:00:00Z'));
 * // 'Exited (3) 2 minutes ago'
 * ```
 */
export function containerStatus(facts: ContainerStatusFacts, now: number): string {
  const up = () => `Up ${humanDuration(since(facts.startedAt ?? facts.created, now))}`;
  const code = facts.exitCode ?? 'unknown';
  switch (facts.state) {
    case 'running':
      return up();
    case 'paused':
      return `${up()} (Paused)`;
    case 'restarting':
      return `Restarting (${code}) ${humanDuration(since(facts.finishedAt, now))} ago`;
    case 'exited':
      return facts.finishedAt
        ? `Exited (${code}) ${humanDuration(since(facts.finishedAt, now))} ago`
        : `Exited (${code})`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

/**
 * A container's command as Docker's engine lists it (`ContainerSummary.command`): the path and its
 * arguments joined by spaces, arguments holding a space in single quotes.
 *
 * @example
 * ```ts
 * commandLine(['sh', '-c', 'sleep 10']); // "sh -c 'sleep 10'"
 * ```
 */
export function commandLine(command: readonly string[]): string {
  return command.map((a, i) => (i > 0 && a.includes(' ') ? `'${a}'` : a)).join(' ');
}
