// The attach relay (decision 132): conmon serves a detached container's stdio on a SOCK_SEQPACKET
// unix socket, which Node's `net` cannot open, so a small python3 process connects it and relays
// over pipes: framed output to us, our bytes to the container's stdin.
import { spawn } from 'node:child_process';
import type { Attachment, OutputChunk } from '@ocikit/engine';
import { FailedPreconditionError } from '@ocikit/errors';

/**
 * The relay: connects the socket, says so with an empty frame of kind 0, then frames every packet
 * as kind (1 stdout, 2 stderr — conmon's stream byte 2 and 3) + 4-byte big-endian length + bytes,
 * and sends what comes on stdin as packets; at the end of stdin it shuts the socket's sending half,
 * which conmon takes as the end of the container's input.
 */
const RELAY = `
import os, select, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
out = sys.stdout.fileno()
def emit(kind, data):
    b = bytes([kind]) + struct.pack('>I', len(data)) + data
    while b:
        b = b[os.write(out, b):]
emit(0, b'')
inp = sys.stdin.fileno()
stdin_open = sys.argv[2] == '1'
try:
    while True:
        r, _, _ = select.select([s] + ([inp] if stdin_open else []), [], [])
        if s in r:
            d = s.recv(65536)
            if not d:
                break
            emit(2 if d[0] == 3 else 1, d[1:])
        if stdin_open and inp in r:
            d = os.read(inp, 8192)
            if not d:
                stdin_open = False
                s.shutdown(socket.SHUT_WR)
                continue
            s.send(d)
except (BrokenPipeError, ConnectionResetError):
    pass
`;

/** A queue of output chunks, read as an async iterable by one reader; `end` finishes it. */
export class ChunkQueue implements AsyncIterable<OutputChunk> {
  readonly #items: OutputChunk[] = [];
  #done = false;
  #error: unknown;
  #wake: (() => void) | undefined;

  /** Adds a chunk. */
  push(chunk: OutputChunk): void {
    this.#items.push(chunk);
    this.#wake?.();
  }

  /** Ends the output (with an error the reader then throws). */
  end(error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<OutputChunk> {
    for (;;) {
      const next = this.#items.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.#done) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

/** Options of {@link relayAttach}. */
export interface RelayOptions {
  /** Send input to the container's stdin. */
  stdin: boolean;
  /** Output to give first (the log so far, for `logs`). */
  before?: OutputChunk[] | undefined;
  /** Sets the container's terminal size. */
  resize: Attachment['resize'];
  /** Detaches when it fires. */
  signal?: AbortSignal | undefined;
}

/**
 * Connects conmon's attach socket at `socket` through the python3 relay; resolves once connected
 * (so nothing the container writes after is missed) to the contract's {@link Attachment}. Fails with
 * FailedPrecondition (`details.reason` `python3-not-installed`) without python3.
 */
export async function relayAttach(socket: string, options: RelayOptions): Promise<Attachment> {
  const child = spawn('python3', ['-c', RELAY, socket, options.stdin ? '1' : '0'], {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    // a session of its own: a terminal's Ctrl-C is the container's (or its caller's), never the relay's
    detached: true,
  });
  const output = new ChunkQueue();
  for (const chunk of options.before ?? []) output.push(chunk);
  let said = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    said = (said + d).slice(-2000);
  });
  child.stdin?.on('error', () => {}); // the relay is gone: its exit says why
  const connected = new Promise<void>((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    child.stdout?.on('data', (d: Buffer) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (pending.length < 5 + length) break;
        const kind = pending[0];
        const data = pending.subarray(5, 5 + length);
        pending = pending.subarray(5 + length);
        if (kind === 0) resolve();
        else output.push({ stream: kind === 2 ? 'stderr' : 'stdout', data: new Uint8Array(data) });
      }
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const error =
        e.code === 'ENOENT'
          ? new FailedPreconditionError(
              "python3 is not installed; attaching relays conmon's SOCK_SEQPACKET socket through it",
              { details: { reason: 'python3-not-installed' }, hint: 'apt-get install python3' },
            )
          : e;
      reject(error);
      output.end(error);
    });
    child.on('close', (code) => {
      const failure =
        code !== 0 && code !== null
          ? new FailedPreconditionError(`the attach relay failed: ${said.trim().split('\n').at(-1) ?? code}`)
          : undefined;
      reject(failure ?? new FailedPreconditionError('the attach relay ended before it connected'));
      output.end(failure);
    });
  });
  const close = () => {
    options.signal?.removeEventListener('abort', close);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    output.end();
  };
  options.signal?.addEventListener('abort', close, { once: true });
  try {
    await connected;
  } catch (e) {
    close();
    throw e;
  }
  return { output, ...stdinOf(child.stdin), resize: options.resize, close };
}

/** An Attachment's `write` and `closeStdin` over a child process's stdin pipe (none: they do nothing). */
export function stdinOf(
  stdin: (NodeJS.WritableStream & { destroyed?: boolean }) | null,
): Pick<Attachment, 'write' | 'closeStdin'> {
  return {
    async write(data) {
      if (!stdin || stdin.destroyed) return;
      await new Promise<void>((resolve, reject) => stdin.write(data, (e) => (e ? reject(e) : resolve())));
    },
    async closeStdin() {
      stdin?.end();
    },
  };
}
