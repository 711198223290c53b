// A minimal tar header scanner that runs beside the extractor on the raw stream, to keep PAX
// extended attributes (SCHILY.xattr.*) as bytes: tar-stream decodes PAX values as UTF-8 text,
// which mangles binary values such as security.capability.

/** Extended attributes of one entry, by the entry's position in the archive (0-based). */
export type XattrsByEntry = Map<number, Map<string, Buffer>>;

const BLOCK = 512;

function octal(buf: Buffer, off: number, len: number): number {
  const field = buf.subarray(off, off + len);
  if (field[0] !== undefined && field[0] & 0x80) {
    // base-256
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] ?? 0);
    return v;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+.*$/s, '')
    .trim();
  return text ? Number.parseInt(text, 8) : 0;
}

function parseXattrs(data: Buffer, into: Map<string, Buffer>): void {
  let buf = data;
  while (buf.length > 0) {
    const space = buf.indexOf(0x20);
    if (space <= 0) return;
    const len = Number.parseInt(buf.subarray(0, space).toString('latin1'), 10);
    if (!len || len > buf.length) return;
    const record = buf.subarray(space + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) {
      const key = record.subarray(0, eq).toString('utf8');
      if (key.startsWith('SCHILY.xattr.'))
        into.set(key.slice('SCHILY.xattr.'.length), Buffer.from(record.subarray(eq + 1)));
    }
    buf = buf.subarray(len);
  }
}

/** Feeds the uncompressed tar stream; collects the xattrs each entry's PAX header carries. */
export class PaxScanner {
  readonly xattrs: XattrsByEntry = new Map();
  #pending = Buffer.alloc(0);
  #skip = 0;
  #collect: { size: number; parts: Buffer[]; got: number } | undefined;
  #entry = 0;
  #local: Map<string, Buffer> | undefined;
  #done = false;

  push(chunk: Buffer): void {
    if (this.#done) return;
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length);
        if (this.#collect) {
          const want = this.#collect.size - this.#collect.got;
          const take = buf.subarray(0, Math.min(n, want));
          if (take.length) {
            this.#collect.parts.push(Buffer.from(take));
            this.#collect.got += take.length;
          }
        }
        this.#skip -= n;
        buf = buf.subarray(n);
        if (this.#skip > 0) break;
        if (this.#collect) {
          this.#local ??= new Map();
          parseXattrs(Buffer.concat(this.#collect.parts), this.#local);
          this.#collect = undefined;
        }
      }
      if (buf.length < BLOCK) break;
      const header = buf.subarray(0, BLOCK);
      buf = buf.subarray(BLOCK);
      if (header.every((b) => b === 0)) {
        this.#done = true;
        break;
      }
      const type = String.fromCharCode(header[156] ?? 0);
      const size = octal(header, 124, 12);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x') {
        this.#collect = { size, parts: [], got: 0 };
        this.#skip = padded;
      } else if (type === 'g' || type === 'L' || type === 'K') {
        this.#skip = padded;
      } else {
        if (this.#local?.size) this.xattrs.set(this.#entry, this.#local);
        this.#local = undefined;
        this.#entry++;
        // Links, directories, devices and FIFOs carry no data blocks.
        this.#skip =
          type === '1' || type === '2' || type === '3' || type === '4' || type === '5' || type === '6'
            ? 0
            : padded;
      }
      // An empty PAX header has no records to read.
      if (this.#skip === 0 && this.#collect) this.#collect = undefined;
    }
    this.#pending = Buffer.from(buf);
  }
}
