// Relaying a container's (or an exec'd command's) stdio to this process's own, as the docker and
// podman CLIs do for `run`, `attach` and `exec` against an engine: output to stdout/stderr, input
// from stdin, a terminal in raw mode whose size follows ours, detach keys, signals proxied.
import { InvalidArgumentError } from '@ocikit/errors';
import type { Attachment, ConsoleSize } from './contract.ts';

/** Docker's and podman's default detach keys: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/**
 * Docker's and podman's detach-key notation as bytes: a comma-separated sequence of single
 * characters and `ctrl-X` (X one of a-z, @, [, backslash, ], ^, _); empty turns detaching off.
 *
 * @throws InvalidArgumentError naming the key that is none of these.
 *
 * @example
 * ```ts
 * parseDetachKeys('ctrl-p,ctrl-q'); // Uint8Array [16, 17]
 * ```
 */
export function parseDetachKeys(spec: string): Uint8Array {
  if (spec === '') return new Uint8Array(0);
  const bytes = spec.split(',').map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl) {
      const c = (ctrl[1] as string).toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 0x60;
      const special = '@[\\]^_'.indexOf(c);
      if (special >= 0) return special === 0 ? 0 : 0x1a + special;
    } else if (key.length === 1 && key.charCodeAt(0) < 0x80) {
      return key.charCodeAt(0);
    }
    throw new InvalidArgumentError(`--detach-keys: ${JSON.stringify(key)} is not a key`, {
      hint: "write keys as 'ctrl-p,ctrl-q': single characters and ctrl-<a-z @ [ \\ ] ^ _>, comma-separated",
    });
  });
  return Uint8Array.from(bytes);
}

/**
 * Finds a detach sequence in input as it is typed: bytes that could begin it are held back until
 * the next ones show whether they do (then they are dropped) or not (then they pass on).
 */
export class DetachKeyFilter {
  readonly #keys: Uint8Array;
  #held = 0;

  /** Watches for `keys` (empty: never detaches). */
  constructor(keys: Uint8Array) {
    this.#keys = keys;
  }

  /** What of `data` to pass on, and whether the sequence was completed (input after it is dropped). */
  push(data: Uint8Array): { pass: Uint8Array; detach: boolean } {
    const keys = this.#keys;
    if (keys.length === 0) return { pass: data, detach: false };
    const out: number[] = [];
    for (const b of data) {
      if (b === keys[this.#held]) {
        this.#held++;
        if (this.#held === keys.length) return { pass: Uint8Array.from(out), detach: true };
        continue;
      }
      // the held bytes were not the sequence after all: they pass on, and this byte may start it anew
      for (let i = 0; i < this.#held; i++) out.push(keys[i] as number);
      this.#held = 0;
      if (b === keys[0]) this.#held = 1;
      else out.push(b);
    }
    return { pass: Uint8Array.from(out), detach: false };
  }
}

/** The signals a relay passes on (podman's `--sig-proxy`); not SIGWINCH, which becomes a resize. */
export const PROXIED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
];

/** A readable this process reads input from (`process.stdin`), perhaps a terminal. */
export type RelayInput = NodeJS.ReadableStream & {
  isTTY?: boolean | undefined;
  setRawMode?: ((mode: boolean) => unknown) | undefined;
};

/** A writable this process writes output to (`process.stdout`), perhaps a terminal. */
export type RelayOutput = NodeJS.WritableStream & {
  isTTY?: boolean | undefined;
  rows?: number | undefined;
  columns?: number | undefined;
};

/** Where {@link relayStdio} reads and writes. */
export interface RelayStreams {
  /** Input for the process (with `-i`); absent: none is sent. */
  stdin?: RelayInput | undefined;
  /** Where its stdout goes (and everything, for a terminal). */
  stdout: RelayOutput;
  /** Where its stderr goes. */
  stderr: NodeJS.WritableStream;
}

/** How {@link relayStdio} relays. */
export interface RelayOptions {
  /**
   * The process has a terminal: a terminal stdin is put in raw mode (restored after), the process's
   * terminal takes stdout's size now and on every resize (SIGWINCH), and detach keys are watched.
   */
  tty?: boolean | undefined;
  /**
   * Keys that detach, leaving the process running (default `ctrl-p,ctrl-q`; `''` for none). They are
   * looked for only in input typed at a terminal; piped input passes untouched.
   */
  detachKeys?: string | Uint8Array | undefined;
  /** Close the process's stdin when ours ends (default true). */
  closeStdin?: boolean | undefined;
  /**
   * Called with each signal this process receives ({@link PROXIED_SIGNALS}) while the relay runs,
   * as podman's `--sig-proxy`: pass `(s) => engine.containers.kill(id, s)`. While it is set, those
   * signals no longer end this process.
   */
  onSignal?: ((signal: NodeJS.Signals) => void) | undefined;
  /** Ends the relay (the attachment is closed; the process runs on). */
  signal?: AbortSignal | undefined;
}

/** How a relay ended. */
export interface RelayResult {
  /** The output ended: the process exited or the engine closed the connection. */
  ended: boolean;
  /** The user typed the detach keys: the process runs on. */
  detached: boolean;
  /** Our stdout or stderr broke (its reader went away); the relay stopped. */
  outputBroken: boolean;
}

/** The size of a terminal output, when it is one and knows its size. */
function sizeOf(out: RelayOutput): ConsoleSize | undefined {
  if (!out.isTTY || !out.rows || !out.columns) return undefined;
  return { rows: out.rows, columns: out.columns };
}

/** Writes `data`, resolving once the stream took it (or failing when it broke). */
function write(out: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onError = (e: Error) => {
      if (settled) return;
      settled = true;
      reject(e);
    };
    out.once('error', onError);
    out.write(data, (e?: Error | null) => {
      out.off('error', onError);
      if (settled) return;
      settled = true;
      if (e) reject(e);
      else resolve();
    });
  });
}

/**
 * Relays an {@link Attachment} (a container's stdio, or an `ExecProcess`) to this process's streams
 * until its output ends, the user detaches, our output breaks, or `options.signal` fires; then the
 * terminal is restored, listeners removed, stdin paused. The attachment is closed unless its
 * output ended by itself. An exec's exit code is then on `exitCode`; a container's from `wait`.
 *
 * @example
 * ```ts
 * const attachment = await engine.containers.attach(id, { stdin: true });
 * await engine.containers.start(id);
 * const r = await relayStdio(attachment, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, {
 *   tty: true,
 *   onSignal: (s) => void engine.containers.kill(id, s).catch(() => {}),
 * });
 * if (!r.detached) console.log(await engine.containers.wait(id));
 * ```
 */
export async function relayStdio(
  attachment: Attachment,
  streams: RelayStreams,
  options: RelayOptions = {},
): Promise<RelayResult> {
  const { stdin, stdout, stderr } = streams;
  const keys =
    typeof options.detachKeys === 'string' || options.detachKeys === undefined
      ? parseDetachKeys(options.detachKeys ?? DEFAULT_DETACH_KEYS)
      : options.detachKeys;
  const terminalIn = stdin?.isTTY === true;
  const filter = new DetachKeyFilter(terminalIn ? keys : new Uint8Array(0));
  const cleanups: (() => void)[] = [];
  let stop: (why: 'detached' | 'aborted' | 'broken') => void = () => {};
  const stopped = new Promise<'detached' | 'aborted' | 'broken'>((resolve) => {
    stop = resolve;
  });

  try {
    // raw mode: every key goes to the process's terminal as typed, ctrl-c included
    if (options.tty && terminalIn && typeof stdin.setRawMode === 'function') {
      stdin.setRawMode(true);
      cleanups.push(() => stdin.setRawMode?.(false));
    }
    // the process's terminal follows ours: now, and on every resize (Node turns SIGWINCH into 'resize')
    if (options.tty && stdout.isTTY) {
      const resize = () => {
        const size = sizeOf(stdout);
        return size ? attachment.resize(size) : Promise.resolve();
      };
      // as the docker CLI: a first resize the engine refuses (its terminal not made yet) is tried
      // again, ten times over half a second
      let resized = false;
      const first = async () => {
        for (let retry = 0; retry <= 10 && !resized; retry++) {
          if (retry > 0) await new Promise((r) => setTimeout(r, retry * 10));
          if (
            await resize().then(
              () => true,
              () => false,
            )
          )
            return;
        }
      };
      void first();
      const onResize = () => {
        resized = true;
        resize().catch(() => {});
      };
      stdout.on('resize', onResize);
      cleanups.push(() => {
        resized = true;
        stdout.off('resize', onResize);
      });
    }
    if (options.onSignal) {
      const forward = options.onSignal;
      for (const s of PROXIED_SIGNALS) process.on(s, forward);
      cleanups.push(() => {
        for (const s of PROXIED_SIGNALS) process.off(s, forward);
      });
    }
    if (options.signal) {
      const onAbort = () => stop('aborted');
      if (options.signal.aborted) onAbort();
      options.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => options.signal?.removeEventListener('abort', onAbort));
    }
    if (stdin)
      cleanups.push(
        feedInput(attachment, stdin, filter, options.closeStdin !== false, () => stop('detached')),
      );

    const relayed = (async () => {
      for await (const chunk of attachment.output) {
        await write(chunk.stream === 'stderr' ? stderr : stdout, chunk.data);
      }
      return 'ended' as const;
    })().catch((e: unknown) => {
      // our own stream broke: the reader went away (EPIPE); the engine's failures are the caller's
      if (isStreamError(e)) return 'broken' as const;
      throw e;
    });
    const why = await Promise.race([relayed, stopped]);
    if (why !== 'ended') {
      attachment.close();
      relayed.catch(() => {});
    }
    return { ended: why === 'ended', detached: why === 'detached', outputBroken: why === 'broken' };
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
}

/** Errors of writing to our own streams (not the engine's): the reader went away. */
function isStreamError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

/** Feeds stdin to the attachment until it ends or the detach keys come; gives the cleanup. */
function feedInput(
  attachment: Attachment,
  stdin: RelayInput,
  filter: DetachKeyFilter,
  closeAtEnd: boolean,
  onDetach: () => void,
): () => void {
  // one write at a time, in order; input read meanwhile waits its turn
  let queue = Promise.resolve();
  let done = false;
  const send = (data: Uint8Array) => {
    queue = queue.then(() => attachment.write(data)).catch(() => {});
  };
  const onData = (chunk: Buffer | string) => {
    if (done) return;
    const data = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk);
    const { pass, detach } = filter.push(data);
    if (pass.length > 0) send(pass);
    if (detach) {
      done = true;
      onDetach();
    }
  };
  const onEnd = () => {
    if (done) return;
    done = true;
    if (closeAtEnd) queue = queue.then(() => attachment.closeStdin()).catch(() => {});
  };
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  return () => {
    done = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    // paused, a terminal or pipe no longer keeps this process alive
    stdin.pause();
  };
}
