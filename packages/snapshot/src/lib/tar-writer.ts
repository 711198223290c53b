import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';

/** One entry to write. */
export interface TarHeader {
  name: string;
  type: 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  mtime: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as `SCHILY.xattr.*` PAX records, as bytes. */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const TYPEFLAG: Record<TarHeader['type'], string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One PAX record, `LEN KEY=VALUE\n`, with LEN counted in bytes (including its own digits). */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function block(h: {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}): Buffer {
  const buf = Buffer.alloc(512);
  buf.write(h.name, 0, 100, 'utf8');
  buf.write(octal(h.mode & 0o7777, 8), 100, 'latin1');
  buf.write(octal(h.uid, 8), 108, 'latin1');
  buf.write(octal(h.gid, 8), 116, 'latin1');
  buf.write(octal(h.size, 12), 124, 'latin1');
  buf.write(octal(Math.max(0, Math.floor(h.mtime)), 12), 136, 'latin1');
  buf.write(h.typeflag, 156, 'latin1');
  if (h.linkname) buf.write(h.linkname, 157, 100, 'utf8');
  buf.write('ustar\0', 257, 'latin1');
  buf.write('00', 263, 'latin1');
  buf.write(octal(h.devmajor ?? 0, 8), 329, 'latin1');
  buf.write(octal(h.devminor ?? 0, 8), 337, 'latin1');
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(octal(sum, 7), 148, 'latin1');
  buf[155] = 0x20;
  return buf;
}

const fits = (s: string) => Buffer.byteLength(s) <= 100 && !/[^\x20-\x7e]/.test(s);

/**
 * A small streaming POSIX tar (pax) writer: names, link names and extended attributes that do not
 * fit the ustar header go into a PAX header as bytes. Respects the sink's backpressure.
 */
export class TarWriter {
  readonly #out: Writable;

  constructor(out: Writable) {
    this.#out = out;
  }

  async #write(buf: Buffer): Promise<void> {
    if (!this.#out.write(buf)) await once(this.#out, 'drain');
  }

  /** Writes one entry; for a file, its content comes from `body` or is read from `path`. */
  async entry(header: TarHeader, content?: { body?: Buffer; path?: string }): Promise<void> {
    const size = header.type === 'file' ? (header.size ?? content?.body?.length ?? 0) : 0;
    const records: Buffer[] = [];
    if (!fits(header.name)) records.push(paxRecord('path', Buffer.from(header.name)));
    if (header.linkname && !fits(header.linkname))
      records.push(paxRecord('linkpath', Buffer.from(header.linkname)));
    // Numbers past the ustar octal fields (ids ≥ 2^21, sizes ≥ 8 GiB) go in PAX records; the
    // header then holds 0, as GNU tar writes.
    const ID_MAX = 0o7777777;
    const SIZE_MAX = 0o77777777777;
    if (header.uid > ID_MAX) records.push(paxRecord('uid', Buffer.from(String(header.uid))));
    if (header.gid > ID_MAX) records.push(paxRecord('gid', Buffer.from(String(header.gid))));
    if (size > SIZE_MAX) records.push(paxRecord('size', Buffer.from(String(size))));
    for (const [k, v] of header.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
    const mtime = header.mtime.getTime() / 1000;
    if (records.length) {
      const data = Buffer.concat(records);
      await this.#write(
        block({ name: 'PaxHeader', typeflag: 'x', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime }),
      );
      await this.#write(Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]));
    }
    const ascii = (s: string) =>
      fits(s)
        ? s
        : Buffer.from(s)
            .subarray(0, 99)
            .toString('latin1')
            .replace(/[^\x20-\x7e]/g, '_');
    await this.#write(
      block({
        name: ascii(header.name),
        typeflag: TYPEFLAG[header.type],
        mode: header.mode,
        uid: header.uid > ID_MAX ? 0 : header.uid,
        gid: header.gid > ID_MAX ? 0 : header.gid,
        size: size > SIZE_MAX ? 0 : size,
        mtime,
        ...(header.linkname ? { linkname: ascii(header.linkname) } : {}),
        ...(header.devmajor !== undefined ? { devmajor: header.devmajor } : {}),
        ...(header.devminor !== undefined ? { devminor: header.devminor } : {}),
      }),
    );
    if (size === 0) return;
    let written = 0;
    if (content?.body) {
      await this.#write(content.body);
      written = content.body.length;
    } else if (content?.path) {
      for await (const chunk of createReadStream(content.path, { highWaterMark: 1 << 20 })) {
        const c = chunk as Buffer;
        const take = c.subarray(0, Math.max(0, size - written));
        if (take.length) await this.#write(take);
        written += take.length;
      }
    }
    // A file that shrank while we read it is padded, so the archive stays well-formed.
    if (written < size) await this.#write(Buffer.alloc(size - written));
    const pad = (512 - (size % 512)) % 512;
    if (pad) await this.#write(Buffer.alloc(pad));
  }

  /** Writes the two zero blocks that end an archive, and ends the sink. */
  async finish(): Promise<void> {
    await this.#write(Buffer.alloc(1024));
    this.#out.end();
  }
}
