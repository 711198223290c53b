// Benchmark (issue 17): `ocikit build` beside `buildah bud --layers` (Debian's buildah 1.28, vfs
// storage, chroot isolation, its own root), the same five-step busybox Dockerfile, whole processes,
// interleaved, in one run: cold (a fresh state root holding only the base image, copied in untimed
// before each run) and cached (the same Dockerfile again on a root that built it: nothing to run).
// Targets: cold no slower than buildah, the cached rebuild at most 0.3× buildah's.
// Run: pnpm turbo run build --filter @ocikit/cli... && pnpm --filter @ocikit/bench bench:build
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage } from '@ocikit/test-images';
import { compare, report } from './harness.ts';

// run as users do: the built executable; BENCH_FROM_SOURCE=1 runs the sources instead (slower to start)
const fromSource = process.env['BENCH_FROM_SOURCE'] === '1';
const cliArgv = fromSource
  ? [
      process.execPath,
      '--conditions=@ocikit/source',
      fileURLToPath(new URL('../../../packages/cli/src/bin.ts', import.meta.url)),
    ]
  : [fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url))];
const cli = cliArgv[0] as string;
const cliPrefix = cliArgv.slice(1);
const runs = Number(process.env['BENCH_RUNS'] ?? 7);
const sh = (file: string, args: string[], env?: NodeJS.ProcessEnv) =>
  execFileSync(file, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: env ?? process.env,
  });

const work = `/var/tmp/ocikit-build-bench-${process.pid}`;
mkdirSync(work, { recursive: true });
const layout = join(work, 'layout');
buildBusyboxImage(layout, 'busybox');

// the build: FROM, RUN, COPY, RUN, CMD — five steps as buildah counts them
const context = join(work, 'context');
mkdirSync(context);
writeFileSync(join(context, 'app.txt'), 'the application\n');
writeFileSync(
  join(context, 'Dockerfile'),
  [
    'FROM busybox',
    'RUN mkdir -p /app && echo built > /app/built',
    'COPY app.txt /app/app.txt',
    'RUN cat /app/app.txt /app/built > /app/both',
    'CMD ["cat", "/app/both"]',
    '',
  ].join('\n'),
);

// base states, copied (cp -a) into place before each cold run, untimed
const ocikitBase = join(work, 'ocikit-base');
sh(cli, [...cliPrefix, '--root', ocikitBase, '-q', 'copy', `oci:${layout}:busybox`, 'local:busybox']);
// unpacked, as containers-storage holds the base buildah starts from
sh(cli, [...cliPrefix, '--root', ocikitBase, '-q', 'snapshots', 'unpack', 'busybox']);
const buildahEnv = { ...process.env, CONTAINERS_REGISTRIES_CONF: join(work, 'registries.conf') };
writeFileSync(
  join(work, 'registries.conf'),
  'unqualified-search-registries = []\nshort-name-mode = "disabled"\n',
);
const buildahBase = join(work, 'buildah-base');
sh(
  'skopeo',
  [
    'copy',
    '--quiet',
    `oci:${layout}:busybox`,
    `containers-storage:[vfs@${join(buildahBase, 'root')}+${join(buildahBase, 'runroot')}]docker.io/library/busybox:latest`,
  ],
  buildahEnv,
);
const buildah = (state: string) => [
  'buildah',
  '--root',
  join(state, 'root'),
  '--runroot',
  join(state, 'runroot'),
  '--storage-driver',
  'vfs',
  'bud',
  '--isolation',
  'chroot',
  '--layers',
  '--pull=never',
  '-q',
  '-t',
  'bench:1',
  context,
];
const ocikit = (state: string) => [
  ...cliArgv,
  '--root',
  state,
  '-q',
  'build',
  '--network',
  'none',
  '-t',
  'bench:1',
  context,
];
const fresh = (from: string, to: string) => () => {
  rmSync(to, { recursive: true, force: true });
  sh('cp', ['-a', from, to]);
};

try {
  const coldOcikit = join(work, 'ocikit-cold');
  const coldBuildah = join(work, 'buildah-cold');
  const cold = compare(
    [
      {
        name: 'buildah bud --layers (cold)',
        argv: buildah(coldBuildah),
        setup: fresh(buildahBase, coldBuildah),
      },
      { name: 'ocikit build (cold)', argv: ocikit(coldOcikit), setup: fresh(ocikitBase, coldOcikit) },
    ],
    { runs, warmup: 1 },
  );
  const warmOcikit = join(work, 'ocikit-warm');
  const warmBuildah = join(work, 'buildah-warm');
  fresh(ocikitBase, warmOcikit)();
  fresh(buildahBase, warmBuildah)();
  // the first build of each fills its cache (the warm-up round builds once more)
  sh(ocikit(warmOcikit)[0] as string, ocikit(warmOcikit).slice(1));
  sh(buildah(warmBuildah)[0] as string, buildah(warmBuildah).slice(1), buildahEnv);
  const cached = compare(
    [
      { name: 'buildah bud --layers (cached)', argv: buildah(warmBuildah) },
      { name: 'ocikit build (cached)', argv: ocikit(warmOcikit) },
      // the floor under it: the executable starting and answering without any work
      { name: 'ocikit --version (start-up floor)', argv: [...cliArgv, '--version'] },
    ],
    { runs, warmup: 1 },
  );
  const texts = [
    report(
      'five-step busybox build, cold (base image stored, no cache)',
      cold,
      'buildah bud --layers (cold)',
    ),
    report('the same build again, every step cached', cached, 'buildah bud --layers (cached)'),
  ];
  const ratio = (rs: typeof cold, ours: string, theirs: string) =>
    (rs.find((r) => r.name === ours)?.median ?? Number.NaN) /
    (rs.find((r) => r.name === theirs)?.median ?? Number.NaN);
  const coldRatio = ratio(cold, 'ocikit build (cold)', 'buildah bud --layers (cold)');
  const cachedRatio = ratio(cached, 'ocikit build (cached)', 'buildah bud --layers (cached)');
  const verdict = `cold: ocikit ${coldRatio.toFixed(2)}× buildah (target ≤ 1.00×) — ${coldRatio <= 1 ? 'met' : 'missed'}; cached: ${cachedRatio.toFixed(2)}× (target ≤ 0.30×) — ${cachedRatio <= 0.3 ? 'met' : 'missed'}`;
  console.log(verdict);
  writeFileSync('/var/tmp/ocikit-build-bench.md', `${texts.join('\n\n')}\n\n${verdict}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
