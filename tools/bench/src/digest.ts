// Benchmark (issue 2): digestOf over a 256 MiB file beside `openssl dgst -sha256` and `sha256sum`,
// and ingest of the same file into the layout store beside `cp`. Whole processes, interleaved.
// Run: pnpm build && pnpm --filter @ocikit/bench bench:digest
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestFile } from '@ocikit/digest';
import { compare, report } from './harness.ts';

// On tmpfs: writes to ext4 here are dominated by kernel time that drifts from run to run.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ocikit-bench-'));
const file = join(dir, 'blob');
const fd = openSync(file, 'w');
const chunk = Buffer.alloc(16 << 20);
for (let i = 0; i < 16; i++) writeSync(fd, randomFillSync(chunk));
closeSync(fd);
const blobDigest = await digestFile(file);

const node = process.execPath;
const hashScript = fileURLToPath(new URL('./run-digest.ts', import.meta.url));
const ingestScript = fileURLToPath(new URL('./run-ingest.ts', import.meta.url));
// The children import the built packages (dist), as users of the published packages do: run `pnpm build` first.
const flags: string[] = [];

try {
  const digest = compare([
    { name: 'openssl dgst -sha256', argv: ['openssl', 'dgst', '-sha256', file] },
    { name: 'sha256sum', argv: ['sha256sum', file] },
    { name: 'ocikit digestFile (whole process)', argv: [node, ...flags, hashScript, file] },
    { name: 'node -e 0 (start-up alone)', argv: [node, '-e', '0'] },
  ]);
  report('sha256 of a 256 MiB file', digest, 'openssl dgst -sha256');
  const layout = join(dir, 'layout');
  const ingest = compare([
    {
      name: 'cp',
      argv: ['cp', file, join(dir, 'copy')],
      setup: () => rmSync(join(dir, 'copy'), { force: true }),
    },
    {
      name: 'ocikit layout push (verify + fsync + rename)',
      argv: [node, ...flags, ingestScript, file, layout, blobDigest],
      setup: () => rmSync(layout, { recursive: true, force: true }),
    },
    {
      name: 'ocikit layout push, no fsync',
      argv: [node, ...flags, ingestScript, file, layout, blobDigest, 'nosync'],
      setup: () => rmSync(layout, { recursive: true, force: true }),
    },
  ]);
  report('ingest of a 256 MiB blob into an OCI layout', ingest, 'cp');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
