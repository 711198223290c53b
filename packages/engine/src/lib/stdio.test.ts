import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@ocikit/errors';
import { runInPty } from '@ocikit/test-images';
import { describe, expect, it } from 'vitest';
import type { Attachment, ConsoleSize, OutputChunk } from './contract.ts';
import { DetachKeyFilter, parseDetachKeys, relayStdio } from './stdio.ts';

/**
 * An attachment to a process of our own making: output is pushed by the test, input and resizes are
 * recorded. (The relay, not an engine, is under test; the engines' attachments are tested against
 * real dockerd and podman in their drivers' tests and in the CLI's host.test.ts.)
 */
function process_(): Attachment & {
  push(chunk: OutputChunk): void;
  end(): void;
  input: string[];
  stdinClosed: boolean;
  closed: boolean;
  sizes: ConsoleSize[];
} {
  const queue: (OutputChunk | null)[] = [];
  let wake: (() => void) | undefined;
  const state = {
    input: [] as string[],
    stdinClosed: false,
    closed: false,
    sizes: [] as ConsoleSize[],
  };
  const next = () => {
    wake?.();
    wake = undefined;
  };
  return Object.assign(state, {
    output: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (state.closed) return;
          const chunk = queue.shift();
          if (chunk === null) return;
          if (chunk) yield chunk;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    },
    push(chunk: OutputChunk) {
      queue.push(chunk);
      next();
    },
    end() {
      queue.push(null);
      next();
    },
    async write(data: Uint8Array | string) {
      state.input.push(typeof data === 'string' ? data : Buffer.from(data).toString());
    },
    async closeStdin() {
      state.stdinClosed = true;
    },
    async resize(size: ConsoleSize) {
      state.sizes.push(size);
    },
    close() {
      state.closed = true;
      next();
    },
  });
}

const text = (s: string): OutputChunk => ({ stream: 'stdout', data: Buffer.from(s) });

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('parseDetachKeys', () => {
  it("reads docker's notation", () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17]);
    expect([...parseDetachKeys('a,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,ctrl-A')]).toEqual([
      97, 0, 27, 28, 29, 30, 31, 1,
    ]);
    expect([...parseDetachKeys('')]).toEqual([]);
  });

  it('refuses what is not a key with InvalidArgumentError naming it', () => {
    for (const bad of ['ctrl-', 'ctrl-1', 'ab', 'é', 'ctrl-p,,ctrl-q']) {
      expect(() => parseDetachKeys(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(() => parseDetachKeys('ctrl-p,xy')).toThrow(/"xy" is not a key/);
  });
});

describe('DetachKeyFilter', () => {
  it('holds back what may begin the sequence, passes it on when it does not', () => {
    const f = new DetachKeyFilter(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(f.push(Buffer.from('ab\x10'))).toEqual({
      pass: Uint8Array.from(Buffer.from('ab')),
      detach: false,
    });
    expect(f.push(Buffer.from('x'))).toEqual({ pass: Uint8Array.from(Buffer.from('\x10x')), detach: false });
    expect(f.push(Buffer.from('\x10\x10'))).toEqual({ pass: Uint8Array.from([16]), detach: false });
    expect(f.push(Buffer.from('\x11rest'))).toEqual({ pass: new Uint8Array(0), detach: true });
  });

  it('passes everything without keys', () => {
    const f = new DetachKeyFilter(new Uint8Array(0));
    expect(f.push(Buffer.from('\x10\x11'))).toEqual({ pass: Buffer.from('\x10\x11'), detach: false });
  });
});

describe('relayStdio', () => {
  it('routes stdout and stderr, pipes stdin in and closes it at its end, ends with the output', async () => {
    const p = process_();
    const stdin = new PassThrough();
    const stdout = sink();
    const stderr = sink();
    const relay = relayStdio(p, { stdin, stdout, stderr });
    p.push(text('out\n'));
    p.push({ stream: 'stderr', data: Buffer.from('err\n') });
    stdin.write('line 1\n');
    // piped input is not a terminal: the detach keys pass through untouched
    stdin.end('\x10\x11line 2\n');
    await tick();
    expect(p.input.join('')).toBe('line 1\n\x10\x11line 2\n');
    expect(p.stdinClosed).toBe(true);
    p.end();
    expect(await relay).toEqual({ ended: true, detached: false, outputBroken: false });
    expect(stdout.text).toBe('out\n');
    expect(stderr.text).toBe('err\n');
    expect(p.closed).toBe(false);
    expect(stdin.isPaused()).toBe(true);
  });

  it('on a terminal: raw mode while it runs, the size now and on resize, detach keys leave it running', async () => {
    const p = process_();
    const modes: boolean[] = [];
    const stdin = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode: (m: boolean) => modes.push(m),
    });
    const stdout = Object.assign(sink(), { isTTY: true, rows: 24, columns: 80 });
    const relay = relayStdio(p, { stdin, stdout, stderr: sink() }, { tty: true });
    await tick();
    expect(modes).toEqual([true]);
    expect(p.sizes).toEqual([{ rows: 24, columns: 80 }]);
    Object.assign(stdout, { rows: 50, columns: 132 });
    stdout.emit('resize');
    stdin.write('ls\r\x10');
    await tick();
    expect(p.input.join('')).toBe('ls\r');
    stdin.write('\x11');
    expect(await relay).toEqual({ ended: false, detached: true, outputBroken: false });
    expect(p.sizes).toEqual([
      { rows: 24, columns: 80 },
      { rows: 50, columns: 132 },
    ]);
    expect(modes).toEqual([true, false]);
    expect(p.closed).toBe(true);
    expect(p.stdinClosed).toBe(false);
    expect(stdout.listenerCount('resize')).toBe(0);
  });

  it('tries a refused first resize again, as the docker CLI does', async () => {
    const p = process_();
    let refusals = 3;
    const resize = p.resize.bind(p);
    p.resize = async (size) => {
      if (refusals-- > 0) throw new Error('no terminal yet');
      await resize(size);
    };
    const stdout = Object.assign(sink(), { isTTY: true, rows: 10, columns: 20 });
    const relay = relayStdio(p, { stdout, stderr: sink() }, { tty: true });
    // the retries are timed: wait for the fourth try (a loaded machine may take long), then no more
    for (let i = 0; i < 500 && p.sizes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    expect(p.sizes).toEqual([{ rows: 10, columns: 20 }]);
    p.end();
    await relay;
  });

  it('takes other detach keys, or none', async () => {
    const p = process_();
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const relay = relayStdio(p, { stdin, stdout: sink(), stderr: sink() }, { detachKeys: 'ctrl-x' });
    stdin.write('\x10\x11\x18');
    expect((await relay).detached).toBe(true);
    expect(p.input.join('')).toBe('\x10\x11');
    const q = process_();
    const none = relayStdio(q, { stdin, stdout: sink(), stderr: sink() }, { detachKeys: '' });
    stdin.write('\x10\x11');
    await tick();
    q.end();
    expect((await none).ended).toBe(true);
    expect(q.input.join('')).toBe('\x10\x11');
  });

  it('forwards the signals this process receives while it runs, and no longer after', async () => {
    const p = process_();
    const got: string[] = [];
    const before = process.listenerCount('SIGUSR2');
    const relay = relayStdio(p, { stdout: sink(), stderr: sink() }, { onSignal: (s) => got.push(s) });
    process.kill(process.pid, 'SIGUSR2');
    process.kill(process.pid, 'SIGHUP');
    await tick();
    p.end();
    await relay;
    expect(got).toEqual(['SIGUSR2', 'SIGHUP']);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('stops when the signal fires or our output breaks, closing the attachment', async () => {
    const p = process_();
    const controller = new AbortController();
    const relay = relayStdio(p, { stdout: sink(), stderr: sink() }, { signal: controller.signal });
    controller.abort();
    expect(await relay).toEqual({ ended: false, detached: false, outputBroken: false });
    expect(p.closed).toBe(true);

    const q = process_();
    const broken = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    broken.on('error', () => {});
    const r = relayStdio(q, { stdout: broken, stderr: sink() });
    q.push(text('x'));
    expect(await r).toEqual({ ended: false, detached: false, outputBroken: true });
    expect(q.closed).toBe(true);
  });
});

describe('relayStdio on a real terminal', () => {
  it('puts it in raw mode, follows its size, detaches on ctrl-p ctrl-q and restores it', () => {
    const script = fileURLToPath(new URL('./test-stdio-pty.ts', import.meta.url));
    const r = runInPty(
      [process.execPath, '--conditions=@ocikit/source', script],
      [
        // no newline: in raw mode the key arrives as typed (and the terminal does not echo it)
        { after: 'ready', send: 'a' },
        { after: '[got "a"]', resize: [30, 100] },
        { after: '[size 30x100]', send: '\x03' },
        { after: '[got "\\u0003"]', send: '\x10\x11' },
      ],
      { size: [24, 80] },
    );
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('[size 24x80]');
    expect(r.output).toContain('[size 30x100]');
    // ctrl-c is a key for the process in raw mode, not a signal to this one
    expect(r.output).not.toContain('[signal');
    expect(r.output).toContain('relay {"ended":false,"detached":true,"outputBroken":false} raw=false');
  });
});
