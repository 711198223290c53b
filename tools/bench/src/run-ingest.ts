// Child of the ingest benchmark: pushes a file into an OCI layout as one verified blob.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { openLayout } from '@ocikit/content';
import { parseDigest } from '@ocikit/digest';

// The digest is known up front, as it is from a descriptor; the push verifies the bytes against it.
const [file, dir, digestText, mode] = process.argv.slice(2) as [string, string, string, string | undefined];
const digest = parseDigest(digestText);
const layout = await openLayout(dir, { create: true, sync: mode !== 'nosync' });
const desc = { mediaType: 'application/octet-stream', digest, size: (await stat(file)).size };
await layout.push(desc, createReadStream(file, { highWaterMark: 1 << 20 }));
