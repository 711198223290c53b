// Docker's stdio streams: multiplexed frames for containers without a terminal (an 8-byte header
// — stream 0/1/2, three zero bytes, the payload's size as a big-endian uint32 — then the payload),
// raw bytes for containers with one; and `logs --timestamps`' time prefix on every line.
import type { OutputChunk } from '../contract.ts';

/**
 * Splits Docker's multiplexed stream into chunks by stream. Frames may be split across or share
 * chunks. Stdin echo (stream 0) counts as stdout. A stream that ends inside a frame gives what it
 * has of it.
 */
export async function* demultiplex(source: AsyncIterable<Uint8Array>): AsyncGenerator<OutputChunk> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const kind = buf[0];
      const data = buf.subarray(8, 8 + size);
      buf = buf.subarray(8 + size);
      if (size > 0) yield { stream: kind === 2 ? 'stderr' : 'stdout', data: new Uint8Array(data) };
    }
  }
  if (buf.length > 8)
    yield { stream: buf[0] === 2 ? 'stderr' : 'stdout', data: new Uint8Array(buf.subarray(8)) };
}

/** A terminal's raw stream as stdout chunks. */
export async function* raw(source: AsyncIterable<Uint8Array>): AsyncGenerator<OutputChunk> {
  for await (const chunk of source)
    if (chunk.length > 0) yield { stream: 'stdout', data: new Uint8Array(chunk) };
}

const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/**
 * Takes the `--timestamps` prefix off every line of every stream into the chunk's `time`: each
 * chunk out is one line (with its newline), a last unterminated line given at the end.
 */
export async function* timestamped(chunks: AsyncIterable<OutputChunk>): AsyncGenerator<OutputChunk> {
  const pending: Record<OutputChunk['stream'], Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  const line = (stream: OutputChunk['stream'], bytes: Buffer): OutputChunk => {
    const head = bytes.subarray(0, 48).toString('latin1');
    const m = stamp.exec(head);
    if (!m?.[1]) return { stream, data: new Uint8Array(bytes) };
    return { stream, data: new Uint8Array(bytes.subarray(m[0].length)), time: m[1] };
  };
  for await (const chunk of chunks) {
    let buf = Buffer.concat([pending[chunk.stream], chunk.data]);
    let nl = buf.indexOf(10);
    while (nl >= 0) {
      yield line(chunk.stream, buf.subarray(0, nl + 1));
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(10);
    }
    pending[chunk.stream] = buf;
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (pending[stream].length > 0) yield line(stream, pending[stream]);
  }
}
