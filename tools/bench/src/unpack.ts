// Benchmark (issue 4): `ocikit unpack` of a Debian minbase image beside `umoci unpack` and GNU
// `tar -xzf` of the same layer, on tmpfs and on disk, whole processes, interleaved.
// Run: pnpm build && pnpm --filter @ocikit/bench bench:unpack   (builds the image once with debootstrap)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, report } from './harness.ts';

const cache = process.env['OCIKIT_BENCH_CACHE'] ?? '/var/cache/ocikit-bench';
const rootfs = join(cache, 'debian');
const layout = join(cache, 'debian-layout');
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: 'inherit' });

if (!existsSync(join(rootfs, 'usr'))) {
  mkdirSync(cache, { recursive: true });
  sh(`debootstrap --variant=minbase bookworm ${rootfs} http://deb.debian.org/debian`);
}
if (!existsSync(join(layout, 'index.json'))) {
  const bundle = mkdtempSync(join(cache, 'bundle-'));
  rmSync(bundle, { recursive: true });
  sh(
    `umoci init --layout ${layout} && umoci new --image ${layout}:debian && umoci unpack --image ${layout}:debian ${bundle}`,
  );
  // Drop apt lists, caches and device nodes, as image builders do.
  sh(
    `cd ${rootfs} && tar --exclude=./dev/* --exclude=./var/lib/apt/lists/* --exclude=./var/cache/apt/* -cf - . | tar -xf - -C ${bundle}/rootfs`,
  );
  sh(`umoci repack --image ${layout}:debian ${bundle} && umoci gc --layout ${layout} && rm -rf ${bundle}`);
}
const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
  manifests: { digest: string }[];
};
const manifest = JSON.parse(
  readFileSync(join(layout, 'blobs', ...(index.manifests[0]?.digest ?? '').split(':')), 'utf8'),
) as { layers: { digest: string; size: number }[] };
const layer = manifest.layers[0];
if (!layer) throw new Error('the Debian image has no layer');
const layerFile = join(layout, 'blobs', ...layer.digest.split(':'));
const cli = fileURLToPath(new URL('../../../packages/cli/bin/ocikit.js', import.meta.url));

for (const [where, base] of [
  ['tmpfs', '/dev/shm'],
  ['disk (ext4)', '/var/tmp'],
] as const) {
  const work = mkdtempSync(join(base, 'ocikit-unpack-bench-'));
  const ours = join(work, 'ours');
  const umoci = join(work, 'umoci');
  const tar = join(work, 'tar');
  const clean = (dir: string) => () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  };
  try {
    const results = compare(
      [
        { name: 'tar -xzf', argv: ['tar', '-xzf', layerFile, '-C', tar], setup: clean(tar) },
        {
          name: 'umoci unpack',
          argv: ['umoci', 'unpack', '--image', `${layout}:debian`, umoci],
          setup: () => rmSync(umoci, { recursive: true, force: true }),
        },
        {
          name: 'ocikit unpack',
          argv: [process.execPath, cli, 'unpack', `oci:${layout}:debian`, ours],
          setup: clean(ours),
        },
      ],
      { runs: 5, warmup: 1 },
    );
    report(
      `unpack of a Debian minbase image (${(layer.size / 1e6).toFixed(0)} MB gzip), ${where}`,
      results,
      'tar -xzf',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
