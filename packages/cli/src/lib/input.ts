import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, truncate } from '@ocikit/errors';
import type { Context } from './command.ts';

/** Opens FILE, or stdin for `-`, as a byte stream; a missing or unreadable file is a typed error. */
export async function openInput(ctx: Context, path: string): Promise<AsyncIterable<Uint8Array>> {
  if (path === '-') return ctx.stdin as AsyncIterable<Uint8Array>;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new InvalidArgumentError(`${path} is a directory, not a file`);
  } catch (e) {
    throw fileError(path, e);
  }
  return createReadStream(path, { highWaterMark: 1 << 20, signal: ctx.signal });
}

/** Reads FILE, or stdin for `-`, whole; fails when it is larger than `max` bytes. */
export async function readInput(ctx: Context, path: string, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of await openInput(ctx, path)) {
    size += chunk.byteLength;
    if (size > max) {
      throw new InvalidArgumentError(`${path === '-' ? 'stdin' : path} is larger than ${max} bytes`, {
        details: { reason: 'too-large', limit: max },
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Turns a Node file-system error about `path` into an ocikit error that names the file. */
export function fileError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new NotFoundError(`${path}: no such file or directory`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM')
    return new PermissionDeniedError(`${path}: permission denied`, { cause: e });
  return e instanceof Error ? e : new Error(String(e));
}

/** `K=V` flags (`--label`, `--opt`) as a record; `what` names the flag in errors. */
export function keyValues(values: readonly string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of values ?? []) {
    const i = kv.indexOf('=');
    const key = i < 0 ? kv : kv.slice(0, i);
    if (key === '')
      throw new InvalidArgumentError(`${what} ${JSON.stringify(truncate(kv, 60))}: write KEY=VALUE`);
    out[key] = i < 0 ? '' : kv.slice(i + 1);
  }
  return out;
}
