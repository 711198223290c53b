import { spawnSync } from 'node:child_process';

/** One step of a {@link runInPty} session: once `after` has been printed, resize and/or type. */
export interface PtyStep {
  /** Text the program must have printed first (default: nothing, so the step is due at once). */
  after?: string;
  /** Seconds to wait before acting (e.g. for a program that prints nothing before it reads). */
  delay?: number;
  /** A new window size, rows and columns: the kernel tells the terminal's foreground group. */
  resize?: [rows: number, columns: number];
  /** What to type (sent half a second after a resize, so it lands after the resize does). */
  send?: string;
}

/** What {@link runInPty} saw. */
export interface PtyResult {
  /** Everything the program wrote to its terminal. */
  output: string;
  /** Its exit status (null when the driver itself was killed by the timeout). */
  status: number | null;
}

// python's pty module is the terminal: Node has no way to open a pseudo-terminal of its own
const DRIVER = `
import fcntl, json, os, pty, struct, sys, termios, time
steps = json.loads(sys.argv[1])
size = json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    if size:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    os.execvp(sys.argv[3], sys.argv[3:])
out = b""
i = 0
deadline = time.time() + 30
while time.time() < deadline:
    while i < len(steps) and steps[i].get("after", "").encode() in out:
        step = steps[i]
        i += 1
        time.sleep(step.get("delay", 0))
        if "resize" in step:
            rows, cols = step["resize"]
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            time.sleep(0.5)
        if "send" in step:
            os.write(fd, step["send"].encode())
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;

/**
 * Runs `argv` (looked up on PATH) on a real pseudo-terminal (its controlling terminal, `size` rows ×
 * columns at start), plays `steps` against what it prints, and returns its output and exit status.
 * Needs python3.
 *
 * @example
 * ```ts
 * const r = runInPty(['sh', '-c', 'read x; echo "got $x"'], [{ send: 'hi\n' }]);
 * // r.output contains 'got hi', r.status === 0
 * ```
 */
export function runInPty(
  argv: readonly string[],
  steps: readonly PtyStep[],
  options: { size?: [rows: number, columns: number]; timeoutMs?: number } = {},
): PtyResult {
  const r = spawnSync(
    'python3',
    ['-c', DRIVER, JSON.stringify(steps), JSON.stringify(options.size ?? null), ...argv],
    { encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 },
  );
  return { output: r.stdout ?? '', status: r.status };
}
