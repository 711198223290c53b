// The tar side of docker-archive and oci-archive files: an index of an archive's entries read by
// seeking from header to header (no entry's data is read), and a small sequential writer.
// Decision 140 says why this is ours and not tar-stream.
import type { FileHandle } from 'node:fs/promises';
import { DataLossError, InvalidArgumentError, throwIfAborted } from '@ocikit/errors';

const BLOCK = 512;

/** One member of an archive. */
export interface TarEntry {
  /** The normalized path: no leading `./` or `/`, no `.` or empty segments, no trailing `/`. */
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** Bytes of data (files only). */
  readonly size: number;
  /** Where the data starts in the archive file. */
  readonly offset: number;
  /** The link target (symlinks and hardlinks), as written. */
  readonly linkname: string;
}

function unsafe(archive: string, entry: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`${archive}: refusing the archive entry "${entry}": ${why}`, {
    details: { reason: 'unsafe-entry', archive, entry },
  });
}

/**
 * The archive-relative path `raw` names, or an InvalidArgumentError when it is absolute or climbs
 * out of the archive with `..` (an image archive has no reason to write either).
 */
export function normalizeEntryName(archive: string, raw: string): string {
  if (raw.includes('\0')) throw unsafe(archive, raw, 'the name holds a NUL byte');
  if (raw.startsWith('/')) throw unsafe(archive, raw, 'absolute path');
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw unsafe(archive, raw, 'the path climbs out of the archive with ".."');
    parts.push(part);
  }
  return parts.join('/');
}

/** The archive path a symlink at `name` pointing at `target` names; refuses targets outside the archive. */
export function resolveLinkTarget(archive: string, name: string, target: string): string {
  if (target.startsWith('/')) throw unsafe(archive, name, `symlink to the absolute path ${target}`);
  const parts = name.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw unsafe(archive, name, `symlink to ${target}, outside the archive`);
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
}

function octal(archive: string, block: Uint8Array, start: number, length: number, at: number): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement, the top bit a flag; negative sizes are corrupt
    if (first & 0x40) throw corrupt(archive, at, 'negative number');
    let n = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) n = n * 256 + (block[i] ?? 0);
    if (!Number.isSafeInteger(n)) throw corrupt(archive, at, 'number too large');
    return n;
  }
  const s = text(block, start, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw corrupt(archive, at, `bad number "${s}"`);
  return Number.parseInt(s, 8);
}

function corrupt(archive: string, at: number, why: string): DataLossError {
  return new DataLossError(`${archive}: not a valid tar archive at byte ${at}: ${why}`, {
    details: { reason: 'corrupt-archive', archive, offset: at },
  });
}

function checksumOk(block: Uint8Array, stored: number): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum === stored;
}

/** PAX extended header records (`LEN key=value\n`) that matter here: path, linkpath, size. */
function parsePax(archive: string, data: Uint8Array, at: number): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number.parseInt(Buffer.from(data.subarray(i, space)).toString('ascii'), 10);
    if (!(len > 0) || i + len > data.length) throw corrupt(archive, at, 'bad PAX record');
    const record = Buffer.from(data.subarray(space + 1, i + len - 1)).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let n = 0;
  while (n < length) {
    const { bytesRead } = await fh.read(buf, n, length - n, position + n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return buf.subarray(0, n);
}

/** Extended headers larger than this are refused: they hold names, not data. */
const MAX_META = 1 << 20;

/**
 * Reads the headers of the tar file open as `fh` (of `fileSize` bytes), seeking over each entry's
 * data, and returns its entries by normalized name. DataLossError for a corrupt or truncated
 * archive (a member cut short, no end-of-archive marker); InvalidArgumentError for entries an image
 * archive must not have: absolute or `..` paths, links out of the archive, the same name twice.
 */
export async function indexTar(
  fh: FileHandle,
  fileSize: number,
  archive: string,
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  let pos = 0;
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    throwIfAborted(options.signal);
    const block = await readAt(fh, BLOCK, pos);
    if (block.length < BLOCK) {
      throw new DataLossError(
        `${archive}: truncated at byte ${fileSize}: the tar archive has no end marker`,
        {
          details: { reason: 'truncated', archive, size: fileSize },
        },
      );
    }
    if (block.every((b) => b === 0)) break;
    if (!checksumOk(block, octal(archive, block, 148, 8, pos)))
      throw corrupt(archive, pos, 'bad header checksum');
    const typeflag = String.fromCharCode(block[156] ?? 0);
    let size = octal(archive, block, 124, 12, pos);
    if (pax?.has('size') && typeflag !== 'x' && typeflag !== 'g') size = Number(pax.get('size'));
    if (!Number.isSafeInteger(size) || size < 0) throw corrupt(archive, pos, 'bad size');
    const dataStart = pos + BLOCK;
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (dataStart + size > fileSize) {
      throw new DataLossError(
        `${archive}: truncated: an entry needs ${dataStart + size} bytes, the file has ${fileSize}`,
        { details: { reason: 'truncated', archive, size: fileSize } },
      );
    }
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw corrupt(archive, pos, `extended header of ${size} bytes`);
      const data = await readAt(fh, size, dataStart);
      if (typeflag === 'x') pax = parsePax(archive, data, pos);
      else if (typeflag === 'L') longName = text(data, 0, data.length);
      else if (typeflag === 'K') longLink = text(data, 0, data.length);
      pos = next;
      continue;
    }
    const magic = text(block, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(block, 345, 155) : '';
    const rawName =
      pax?.get('path') ?? longName ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100));
    const linkname = pax?.get('linkpath') ?? longLink ?? text(block, 157, 100);
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    const name = normalizeEntryName(archive, rawName);
    const type =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'other';
    if (type === 'symlink') resolveLinkTarget(archive, name, linkname);
    if (type === 'hardlink') normalizeEntryName(archive, linkname);
    if (name !== '' && type !== 'directory') {
      if (entries.has(name)) throw unsafe(archive, rawName, 'the archive holds this name twice');
      entries.set(name, { name, type, size: type === 'file' ? size : 0, offset: dataStart, linkname });
    }
    pos = next;
  }
  return entries;
}

/**
 * The regular file `name` stands for: itself, or the one file a symlink or hardlink to it names
 * (one level, as `docker save` writes for a layer two images share). NotFound is the caller's: this
 * returns undefined when there is no such file.
 */
export function followEntry(
  entries: ReadonlyMap<string, TarEntry>,
  archive: string,
  name: string,
): TarEntry | undefined {
  const entry = entries.get(normalizeEntryName(archive, name));
  if (!entry) return undefined;
  let target = entry;
  if (entry.type === 'symlink' || entry.type === 'hardlink') {
    const path =
      entry.type === 'symlink'
        ? resolveLinkTarget(archive, entry.name, entry.linkname)
        : normalizeEntryName(archive, entry.linkname);
    const linked = entries.get(path);
    if (!linked) return undefined;
    target = linked;
  }
  if (target.type !== 'file') throw unsafe(archive, name, `a ${target.type}, not a regular file`);
  return target;
}

function header(name: string, size: number, type: '0' | '5'): Buffer {
  const block = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new InvalidArgumentError(`tar entry name too long: ${name}`);
  block.write(name, 0, 100, 'utf8');
  block.write(type === '5' ? '0000755\0' : '0000644\0', 100, 8, 'ascii');
  block.write('0000000\0', 108, 8, 'ascii');
  block.write('0000000\0', 116, 8, 'ascii');
  if (size < 8 ** 11) block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  else {
    // GNU base-256 for members of 8 GiB and more
    let n = size;
    for (let i = 135; i > 124; i--) {
      block[i] = n % 256;
      n = Math.floor(n / 256);
    }
    block[124] = 0x80;
  }
  block.write('00000000000\0', 136, 12, 'ascii');
  block.write('        ', 148, 8, 'ascii');
  block.write(type, 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** Writes a tar archive member by member to a file handle: regular files and directories only. */
export class TarWriter {
  readonly #fh: FileHandle;
  #pos = 0;

  constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let n = 0;
    while (n < bytes.byteLength) {
      const { bytesWritten } = await this.#fh.write(bytes, n, bytes.byteLength - n, this.#pos + n);
      n += bytesWritten;
    }
    this.#pos += bytes.byteLength;
  }

  async #pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest) await this.#write(Buffer.alloc(BLOCK - rest));
  }

  /** A directory entry (`name` without the trailing slash). */
  async directory(name: string): Promise<void> {
    await this.#write(header(`${name}/`, 0, '5'));
  }

  /**
   * A regular file from `content`: of `size` bytes (DataLossError when it gives another number), or
   * when `size` is undefined, of whatever it gives (the header is rewritten once the size is known).
   */
  async file(
    name: string,
    size: number | undefined,
    content: Uint8Array | AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal } = {},
  ): Promise<number> {
    const at = this.#pos;
    await this.#write(header(name, size ?? 0, '0'));
    let written = 0;
    for await (const chunk of content instanceof Uint8Array ? [content] : content) {
      throwIfAborted(options.signal);
      written += chunk.byteLength;
      if (size !== undefined && written > size) break;
      await this.#write(chunk);
    }
    if (size === undefined) {
      const real = header(name, written, '0');
      await this.#fh.write(real, 0, BLOCK, at);
    } else if (written !== size) {
      throw new DataLossError(`${name}: expected ${size} bytes, got ${written > size ? 'more' : written}`, {
        details: { entry: name, size },
      });
    }
    await this.#pad(written);
    return written;
  }

  /** The end-of-archive marker: two zero blocks. */
  async end(): Promise<void> {
    await this.#write(Buffer.alloc(2 * BLOCK));
  }
}
