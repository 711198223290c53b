// Benchmark (issue 3): `ocikit pull` and `ocikit push` beside `skopeo copy` against the same real
// registry (CNCF distribution on loopback), whole processes, interleaved, with curl doing only the
// HTTP for the Debian image (the registry's own floor); and peak RSS while pulling a 1 GiB
// single-layer image. Images: Debian minbase (debootstrap, via @ocikit/test-images), one with many
// small layers, and 1 GiB of random bytes in one layer.
// Run: pnpm build && pnpm --filter @ocikit/bench bench:registry
// BENCH_HTTP=undici: instead, ocikit pull with its own HTTP/1.1 client against the same executable
// with every request through undici (OCIKIT_REGISTRY_HTTP=undici), interleaved, for the Debian image
// and the 1 GiB one (decision 060).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildDebianImage } from '@ocikit/test-images';
import { startRegistry } from '@ocikit/test-registry';
import { compareAsync, report } from './harness.ts';

const run = promisify(execFile);
const cache = process.env['OCIKIT_BENCH_CACHE'] ?? '/var/cache/ocikit-bench';
// run as users do: the executable itself, so its launcher's tuning (malloc tunables, V8 flags) applies
const cli = fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url));
const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Writes a layout `dir` with one image `tag` whose layers are random blobs of the given sizes. */
async function randomImage(dir: string, tag: string, sizes: number[]): Promise<string> {
  if (existsSync(join(dir, 'index.json'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer) => {
    const digest = sha(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return digest;
  };
  const layers: { mediaType: string; digest: string; size: number }[] = [];
  for (const size of sizes) {
    if (size <= 64 << 20) {
      const bytes = randomBytes(size);
      layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: put(bytes), size });
      continue;
    }
    // Big layers are streamed to disk, never held in memory.
    const tmp = join(dir, 'blobs', 'sha256', 'tmp');
    const hash = createHash('sha256');
    const out = createWriteStream(tmp);
    for (let done = 0; done < size; done += 16 << 20) {
      const chunk = randomBytes(Math.min(16 << 20, size - done));
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    const digest = `sha256:${hash.digest('hex')}`;
    await run('mv', [tmp, join(dir, 'blobs', 'sha256', digest.slice(7))]);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const configDesc = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: put(config),
    size: config.length,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDesc,
      layers,
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: put(manifest),
        size: manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}

/**
 * What the registry itself allows: curl, one process per request, doing only the HTTP a client must
 * (push: POST and a monolithic PUT per blob, then the manifest; pull: GET the manifest and each
 * blob into files, then sync) — no verification, no store. A reference row, not a contender.
 */
function curlFloor(kind: 'push' | 'pull', host: string, layout: string, tag: string, repo: string): string[] {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const root = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!root) throw new Error(`${tag} not in ${layout}`);
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(readFileSync(blob(root.digest), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const blobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  const base = `http://${host}/v2/${repo}`;
  const mt = 'application/vnd.oci.image.manifest.v1+json';
  const script =
    kind === 'push'
      ? [
          'set -e',
          ...blobs.map(
            (d) =>
              `loc=$(curl -sf -D - -o /dev/null -X POST ${base}/blobs/uploads/ | tr -d '\r' | sed -n 's/^[Ll]ocation: //p'); ` +
              `case "$loc" in http*) ;; *) loc="http://${host}$loc";; esac; sep='?'; case "$loc" in *\\?*) sep='&';; esac; ` +
              `curl -sf -o /dev/null -H 'expect:' -H 'content-type: application/octet-stream' -T ${blob(d)} "$loc\${sep}digest=${d}"`,
          ),
          `curl -sf -o /dev/null -X PUT -H 'content-type: ${mt}' --data-binary @${blob(root.digest)} ${base}/manifests/1`,
        ]
      : [
          'set -e',
          `d=$(mktemp -d /var/tmp/ocikit-curl-pull-XXXXXX)`,
          `curl -sf -o $d/manifest -H 'accept: ${mt}' ${base}/manifests/1`,
          ...blobs.map((b) => `curl -sf -o $d/${b.slice(7)} ${base}/blobs/${b}`),
          'sync -f $d/manifest',
          'rm -rf $d',
        ];
  return ['bash', '-c', script.join('\n')];
}

const debian = buildDebianImage();
const small = await randomImage(
  join(cache, 'small-layers-layout'),
  'small',
  Array.from({ length: 40 }, (_, i) => 20_000 + i * 5_000),
);
const big = await randomImage(join(cache, 'gib-layout'), 'big', [1 << 30]);
const images = [
  {
    name: `Debian minbase (${(statSync(join(debian.layout, 'blobs', ...(debian.layers[0] ?? '').split(':'))).size / 1e6).toFixed(0)} MB gzip, one layer)`,
    layout: debian.layout,
    tag: 'debian',
  },
  { name: '40 small layers (20–215 kB)', layout: small, tag: 'small' },
];

await using registry = await startRegistry({ auth: 'none' });
const host = registry.host;
const work = mkdtempSync('/var/tmp/ocikit-registry-bench-');
const skopeoCache = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
// The registry keeps blobs globally and links them per repository: removing the repository makes
// the next push upload everything again.
const dropRepo = (name: string) =>
  rmSync(join(registry.dataDir, 'docker', 'registry', 'v2', 'repositories', name), {
    recursive: true,
    force: true,
  });
const out: string[] = [];

/** Pushes `oci:LAYOUT:TAG` to `HOST/seed/TAG:1` with skopeo, for the pulls. */
const seed = (layout: string, tag: string) =>
  run('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${layout}:${tag}`,
    `docker://${host}/seed/${tag}:1`,
  ]);

/** Our own client against undici, same executable, interleaved: a pull of each image. */
async function undiciComparison(): Promise<void> {
  const seeds = [
    { name: images[0]?.name ?? 'Debian', layout: debian.layout, tag: 'debian' },
    { name: '1 GiB of random bytes, one layer', layout: big, tag: 'big' },
  ];
  for (const img of seeds) {
    await seed(img.layout, img.tag);
    const contenders = (['builtin', 'undici'] as const).map((engine) => {
      const root = join(work, engine);
      return {
        name: `ocikit pull (${engine === 'builtin' ? 'own HTTP/1.1 client' : 'undici'})`,
        argv: [
          'env',
          `OCIKIT_REGISTRY_HTTP=${engine}`,
          cli,
          '--root',
          root,
          '-q',
          'pull',
          `${host}/seed/${img.tag}:1`,
        ],
        setup: () => rmSync(root, { recursive: true, force: true }),
      };
    });
    const results = await compareAsync(contenders, { runs, warmup: 1 });
    out.push(report(`pull of ${img.name}`, results, contenders[0]?.name ?? ''));
  }
}

try {
  if (process.env['BENCH_HTTP'] === 'undici') await undiciComparison();
  else
    for (const img of images) {
      // Seed the registry for the pulls.
      await seed(img.layout, img.tag);
      const ours = join(work, 'ours');
      const theirs = join(work, 'theirs');
      const pull = await compareAsync(
        [
          {
            name: 'skopeo copy docker:// → oci:',
            argv: [
              'skopeo',
              'copy',
              '--quiet',
              '--src-tls-verify=false',
              `docker://${host}/seed/${img.tag}:1`,
              `oci:${theirs}:x`,
            ],
            setup: () => rmSync(theirs, { recursive: true, force: true }),
          },
          {
            name: 'ocikit pull',
            argv: [cli, '--root', ours, '-q', 'pull', `${host}/seed/${img.tag}:1`],
            setup: () => rmSync(ours, { recursive: true, force: true }),
          },
          ...(img.tag === 'debian'
            ? [
                {
                  name: 'curl GETs (registry floor)',
                  argv: curlFloor('pull', host, img.layout, img.tag, `seed/${img.tag}`),
                },
              ]
            : []),
        ],
        { runs, warmup: 1 },
      );
      out.push(report(`pull of ${img.name}`, pull, 'skopeo copy docker:// → oci:'));
      const push = await compareAsync(
        [
          {
            name: 'skopeo copy oci: → docker://',
            argv: [
              'skopeo',
              'copy',
              '--quiet',
              '--dest-tls-verify=false',
              `oci:${img.layout}:${img.tag}`,
              `docker://${host}/push/skopeo:1`,
            ],
            setup: () => {
              dropRepo('push/skopeo');
              rmSync(skopeoCache, { force: true });
            },
          },
          {
            name: 'ocikit push',
            argv: [cli, '-q', 'push', `oci:${img.layout}:${img.tag}`, `${host}/push/ocikit:1`],
            setup: () => dropRepo('push/ocikit'),
          },
          ...(img.tag === 'debian'
            ? [
                {
                  name: 'curl POST + PUT (registry floor)',
                  argv: curlFloor('push', host, img.layout, img.tag, 'push/curl'),
                  setup: () => dropRepo('push/curl'),
                },
              ]
            : []),
        ],
        { runs, warmup: 1 },
      );
      out.push(report(`push of ${img.name}`, push, 'skopeo copy oci: → docker://'));
    }

  if (process.env['BENCH_HTTP'] !== 'undici') await peakRss();
} finally {
  rmSync(work, { recursive: true, force: true });
}
writeFileSync('/var/tmp/ocikit-registry-bench.md', `${out.join('\n\n')}\n`);

/** Peak RSS pulling 1 GiB: ru_maxrss of the child, through python's resource module. */
async function peakRss(): Promise<void> {
  await seed(big, 'big');
  const rss = async (argv: string[]) => {
    const py =
      'import resource,subprocess,sys,time; t=time.time(); r=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.time()-t); sys.exit(r.returncode)';
    const { stdout } = await run('python3', ['-c', py, ...argv], { maxBuffer: 1 << 20 });
    const [kb, secs] = (stdout.trim().split('\n').at(-1) ?? '').split(' ');
    return { mb: Number(kb) / 1024, secs: Number(secs) };
  };
  const lines = [
    '### peak RSS and time pulling a 1 GiB single-layer image',
    '',
    '| command | peak RSS (MB) | time (s) |',
    '|---|---|---|',
  ];
  for (const [name, argv, dir] of [
    [
      'skopeo copy docker:// → oci:',
      [
        'skopeo',
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        `docker://${host}/seed/big:1`,
        `oci:${join(work, 'big-theirs')}:x`,
      ],
      join(work, 'big-theirs'),
    ],
    [
      'ocikit pull',
      [cli, '--root', join(work, 'big-ours'), '-q', 'pull', `${host}/seed/big:1`],
      join(work, 'big-ours'),
    ],
  ] as const) {
    const r = await rss([...argv]);
    rmSync(dir, { recursive: true, force: true });
    lines.push(`| ${name} | ${r.mb.toFixed(0)} | ${r.secs.toFixed(1)} |`);
  }
  console.log(`${lines.join('\n')}\n`);
  out.push(lines.join('\n'));
}
