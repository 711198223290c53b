// Benchmark (issue 5): `ocikit run --rm IMAGE true` beside bare `runc run` of a prepared bundle,
// the same `runc run` spawned by a one-line Node script (what any Node.js tool pays at least) and
// exec'd by one (what Node costs before the runtime even starts),
// `podman run --rm` and containerd's `ctr run --rm` with the same busybox image, whole processes,
// interleaved. podman and containerd are installed from Debian when missing.
// Run: pnpm build && pnpm --filter @ocikit/bench bench:run
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, podmanGlobalFlags, podmanRunFlags } from '@ocikit/test-images';
import { compare, report } from './harness.ts';

// run as users do: the executable itself, so its launcher's tuning (malloc tunables, V8 flags) applies
const cli = fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url));
const runs = Number(process.env['BENCH_RUNS'] ?? 9);
const sh = (file: string, args: string[]) =>
  execFileSync(file, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

for (const [bin, pkg] of [
  ['podman', 'podman'],
  ['ctr', 'containerd'],
] as const) {
  if (!existsSync(`/usr/bin/${bin}`)) sh('apt-get', ['install', '-y', '-q', pkg]);
}

// lower case: podman names an image pulled from oci:DIR after the path
const work = `/var/tmp/ocikit-run-bench-${process.pid}`;
mkdirSync(work, { recursive: true });
const layout = join(work, 'layout');
buildBusyboxImage(layout, 'busybox');
const root = join(work, 'ocikit');
sh(cli, ['--root', root, '-q', 'copy', `oci:${layout}:busybox`, 'local:busybox']);

const runcPath = sh('sh', ['-c', 'command -v runc']).trim();

// bare runc: a prepared bundle, as `ocikit bundle` makes it
const bundle = join(work, 'bundle');
sh(cli, ['--root', root, '-q', 'bundle', 'local:busybox', bundle]);
const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
  process: { args: string[]; terminal: boolean };
};
config.process.args = ['true'];
config.process.terminal = false;
writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));

// podman, with the flags this host needs (shared peers notes)
const podman = ['podman', ...podmanGlobalFlags(join(work, 'podman'), { tmpdir: false })];
const podmanImage = sh(podman[0] as string, [
  ...podman.slice(1),
  'pull',
  '-q',
  `oci:${layout}:busybox`,
]).trim();

// containerd with its own root and socket
const sock = join(work, 'containerd.sock');
const containerd = spawn(
  'containerd',
  ['--root', join(work, 'c-root'), '--state', join(work, 'c-state'), '--address', sock],
  { stdio: 'ignore' },
);
for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
execFileSync('tar', ['-C', layout, '-cf', join(work, 'busybox.tar'), '.']);
sh('ctr', [
  '-a',
  sock,
  'images',
  'import',
  '--index-name',
  'docker.io/library/busybox:latest',
  join(work, 'busybox.tar'),
]);

try {
  const results = compare(
    [
      {
        name: 'runc run (prepared bundle)',
        argv: ['runc', '--root', join(work, 'runc-state'), 'run', '--bundle', bundle, 'bench'],
      },
      {
        // the floor for any Node.js tool: Node starts, loads child_process and runs the same bundle
        name: 'node: spawn runc run (Node floor)',
        argv: [
          process.execPath,
          '-e',
          `require('node:child_process').spawn('runc', ['--root', ${JSON.stringify(join(work, 'runc-state'))}, 'run', '--bundle', ${JSON.stringify(bundle)}, 'floor'], { stdio: 'inherit' }).on('close', (c) => process.exit(c))`,
        ],
      },
      {
        // lower still: Node starts and replaces itself with runc (process.execve) — no fork, no wait,
        // no exit of its own, and so nothing left to keep a record or clean up after the container
        name: 'node: exec runc run (no supervision)',
        argv: [
          process.execPath,
          '-e',
          `process.execve(${JSON.stringify(runcPath)}, ['runc', '--root', ${JSON.stringify(join(work, 'runc-state'))}, 'run', '--bundle', ${JSON.stringify(bundle)}, 'exec-floor'])`,
        ],
      },
      {
        name: 'ocikit run --rm',
        argv: [cli, '--root', root, 'run', '--rm', 'busybox', 'true'],
      },
      {
        name: 'podman run --rm',
        argv: [...podman, 'run', '--rm', ...podmanRunFlags, podmanImage, 'true'],
      },
      {
        name: 'ctr run --rm',
        argv: [
          'sh',
          '-c',
          `ctr -a ${sock} run --rm docker.io/library/busybox:latest bench-$(date +%s%N) true`,
        ],
      },
    ],
    { runs, warmup: 2 },
  );
  const text = report('run --rm of busybox `true` (start to exit)', results, 'runc run (prepared bundle)');
  writeFileSync('/var/tmp/ocikit-run-bench.md', `${text}\n`);
} finally {
  containerd.kill();
  rmSync(work, { recursive: true, force: true });
}
