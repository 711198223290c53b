// A service process for tests: its stdout and stderr kept, how it exited, and a stop that waits.
// Output goes to a file, not a pipe: a test that blocks its event loop (execFileSync of a client)
// must not stall a service that writes more than a pipe holds.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Spawns `command args…` with no stdin and both output streams collected (in a temp file). */
export function startService(command: string, args: readonly string[]): ServiceProcess {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-service-'));
  const file = join(dir, 'output');
  const fd = openSync(file, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let final: string | undefined;
  const read = () => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  let exit: string | undefined;
  const finish = (how: string) => {
    exit ??= how;
    final ??= read();
    rmSync(dir, { recursive: true, force: true });
  };
  child.on('exit', (code, sig) => finish(`${code ?? sig}`));
  child.on('error', (err) => finish(err.message));
  return {
    output: () => final ?? read(),
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
