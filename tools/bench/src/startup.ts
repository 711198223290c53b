// Start-up of the `ocikit` executable each way it can be started (decision 023): the `#!/bin/sh`
// launcher (bin/ocikit), the same through a symlink as npm links it, the line it replaced
// (`#!/usr/bin/env -S GLIBC_TUNABLES=… node FLAGS`, run here as the kernel ran it: env with the
// shebang's arguments and the script), and the loader run by plain `node` without any tuning —
// for `--version` and for `run --rm busybox true`. Interleaved; needs `pnpm build` and runc.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage } from '@ocikit/test-images';
import { compare, report } from './harness.ts';

const launcher = fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url));
const loader = fileURLToPath(new URL('../../../packages/cli/bin/ocikit.js', import.meta.url));
const runs = Number(process.env['BENCH_RUNS'] ?? 21);

const work = `/var/tmp/ocikit-startup-bench-${process.pid}`;
mkdirSync(join(work, 'node_modules', '.bin'), { recursive: true });
const linked = join(work, 'node_modules', '.bin', 'ocikit');
symlinkSync(launcher, linked);
const root = join(work, 'ocikit');
const layout = join(work, 'layout');
buildBusyboxImage(layout, 'busybox');
execFileSync(launcher, ['--root', root, '-q', 'copy', `oci:${layout}:busybox`, 'local:busybox']);

const ways = [
  { name: 'bin/ocikit (sh launcher)', argv: [launcher] },
  { name: 'npm symlink → bin/ocikit', argv: [linked] },
  {
    name: 'env -S line (before decision 023)',
    argv: [
      '/usr/bin/env',
      '-S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304 node --min-semi-space-size=2 --max-semi-space-size=2',
      loader,
    ],
  },
  { name: 'node bin/ocikit.js (no tuning)', argv: [process.execPath, loader] },
];

try {
  for (const [title, args] of [
    ['ocikit --version', ['--version']],
    ['ocikit run --rm busybox true', ['--root', root, 'run', '--rm', 'busybox', 'true']],
  ] as const) {
    const results = compare(
      [
        ...ways.map((w) => ({ name: w.name, argv: [...w.argv, ...args] })),
        { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
      ],
      { runs, warmup: 3 },
    );
    report(title, results, 'env -S line (before decision 023)');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
