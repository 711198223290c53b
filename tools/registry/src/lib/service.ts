// A service process for tests: its stdout and stderr kept, how it exited, and a stop that waits.
import { spawn } from 'node:child_process';

/** A started child process whose output is collected. */
export interface ServiceProcess {
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** The exit code or signal (or the spawn error), undefined while it runs. */
  exit(): string | undefined;
  /** SIGKILL at once. */
  kill(): void;
  /** SIGTERM, SIGKILL after 3 s, and wait for it to exit. */
  stop(): Promise<void>;
}

/** Spawns `command args…` with no stdin and both output streams collected. */
export function startService(command: string, args: readonly string[]): ServiceProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exit: string | undefined;
  const keep = (d: Buffer) => {
    output += d.toString('utf8');
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, sig) => {
    exit = `${code ?? sig}`;
  });
  child.on('error', (err) => {
    exit = err.message;
  });
  return {
    output: () => output,
    exit: () => exit,
    kill: () => child.kill('SIGKILL'),
    stop: async () => {
      if (exit !== undefined) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
