// A child process for the crash and concurrency tests: writes one deterministic blob into a layout,
// optionally tags it, and reports progress on stdout so the parent can kill it mid-write.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { openLayout } from '@ocikit/content';
import { parseDigest } from '@ocikit/digest';

const [dir, sizeText, seed, tags = '', pace = '0'] = process.argv.slice(2);
const size = Number(sizeText);
const chunk = 64 * 1024;

/** The deterministic content: SHA-256 blocks of the seed and block index. */
export function piece(seedText: string, index: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let o = 0; o < length; o += 32) {
    createHash('sha256').update(`${seedText}:${index}:${o}`).digest().copy(out, o);
  }
  return out;
}

const hash = createHash('sha256');
for (let o = 0, i = 0; o < size; o += chunk, i++)
  hash.update(piece(seed as string, i, Math.min(chunk, size - o)));
const desc = {
  mediaType: 'application/octet-stream',
  digest: parseDigest(`sha256:${hash.digest('hex')}`),
  size,
};

const layout = await openLayout(dir as string, { create: true });
const writer = await layout.openWriter(desc);
process.stdout.write(`offset ${writer.offset}\n`);
let o = Math.floor(writer.offset / chunk) * chunk;
if (o < writer.offset) {
  // resume inside a chunk: send the chunk's tail
  const i = o / chunk;
  await writer.write(piece(seed as string, i, Math.min(chunk, size - o)).subarray(writer.offset - o));
  o += chunk;
}
for (let i = o / chunk; o < size; o += chunk, i++) {
  await writer.write(piece(seed as string, i, Math.min(chunk, size - o)));
  process.stdout.write(`wrote ${o + chunk}\n`);
  if (pace !== '0') await sleep(Number(pace));
}
await writer.commit();
for (const tag of tags.split(',').filter(Boolean)) await layout.tag(desc, tag);
process.stdout.write(`done ${desc.digest}\n`);
