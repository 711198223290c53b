// A hijacked attach/exec connection as the contract's Attachment: output read eagerly (up to a
// high-water mark, so an exit code can be known without the caller reading everything) and
// decoded; writes for stdin; a half-close for the end of input; destroy to detach.
import type { Duplex } from 'node:stream';
import type { Attachment, ConsoleSize, OutputChunk } from '../contract.ts';
import { demultiplex, raw } from './frames.ts';

const HIGH_WATER = 4 * 1024 * 1024;

/** The raw bytes of a socket as an async iterable, buffered up to {@link HIGH_WATER}. */
class SocketBytes implements AsyncIterable<Uint8Array> {
  readonly #socket: Duplex;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #done = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  /** True once the socket has ended or closed. */
  readonly ended: Promise<void>;
  /** Set when we destroyed the socket ourselves: its end is not a failure. */
  detached = false;

  constructor(socket: Duplex) {
    this.#socket = socket;
    let resolveEnded: () => void = () => {};
    this.ended = new Promise((r) => {
      resolveEnded = r;
    });
    const finish = () => {
      this.#done = true;
      resolveEnded();
      this.#wake?.();
    };
    socket.on('data', (c: Buffer) => {
      this.#chunks.push(c);
      this.#size += c.length;
      if (this.#size > HIGH_WATER) socket.pause();
      this.#wake?.();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e) => {
      this.#error = e;
      finish();
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const c = this.#chunks.shift();
      if (c) {
        this.#size -= c.length;
        if (this.#socket.isPaused() && this.#size < HIGH_WATER / 2) this.#socket.resume();
        yield c;
        continue;
      }
      if (this.#done) {
        if (this.#error !== undefined && !this.detached) throw this.#error;
        return;
      }
      await new Promise<void>((r) => {
        this.#wake = r;
      });
      this.#wake = undefined;
    }
  }
}

/** What {@link attachmentOf} needs besides the socket. */
export interface AttachmentSetup {
  /** Whether the process has a terminal (raw output) or not (multiplexed frames). */
  tty: boolean;
  /** Sends a new terminal size to the engine. */
  resize(size: ConsoleSize): Promise<void>;
  /** The error for a write after the connection closed. */
  closedError(): unknown;
  /** Fires to detach. */
  signal?: AbortSignal | undefined;
}

/** An {@link Attachment} over a hijacked socket, and when its output ended. */
export function attachmentOf(socket: Duplex, setup: AttachmentSetup): Attachment & { ended: Promise<void> } {
  const bytes = new SocketBytes(socket);
  const decoded = setup.tty ? raw(bytes) : demultiplex(bytes);
  let used = false;
  const output: AsyncIterable<OutputChunk> = {
    [Symbol.asyncIterator]() {
      if (used) throw new TypeError('the output of an attachment can be read once');
      used = true;
      return decoded[Symbol.asyncIterator]();
    },
  };
  const close = () => {
    bytes.detached = true;
    socket.destroy();
  };
  if (setup.signal) {
    if (setup.signal.aborted) close();
    else setup.signal.addEventListener('abort', close, { once: true });
    void bytes.ended.then(() => setup.signal?.removeEventListener('abort', close));
  }
  return {
    output,
    ended: bytes.ended,
    write(data) {
      return new Promise<void>((resolve, reject) => {
        if (socket.destroyed || socket.writableEnded) {
          reject(setup.closedError());
          return;
        }
        socket.write(data, (e) => (e ? reject(setup.closedError()) : resolve()));
      });
    },
    closeStdin() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed || socket.writableEnded) resolve();
        else socket.end(() => resolve());
      });
    },
    resize: (size) => setup.resize(size),
    close,
  };
}
