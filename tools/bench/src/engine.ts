// Benchmark (issue 14): @ocikit/engine's docker driver beside dockerode (the JS client users pick
// today) against the SAME real dockerd in the same run — create+start+wait+remove of 50 busybox
// containers running `true` with no network, one at a time and 10 in flight, and a pull of the
// Debian test image from the project's registry — each client in a child process of its own
// (src/engine-client.ts), rounds interleaved, wall time of the work and the child's peak RSS and V8
// heap. Then `ocikit --host unix://…docker.sock run --rm` beside the docker CLI's, with hyperfine.
// Images: busybox (busybox-static) and Debian minbase (debootstrap, cached), pushed to the CNCF
// registry on loopback; dockerd from tools/engines with that registry insecure.
// Run: pnpm build && pnpm --filter @ocikit/bench bench:engine
// BENCH_RUNS (default 5): timed rounds per scenario; BENCH_SKIP_CLI=1 leaves the CLI comparison out,
// BENCH_SKIP_API=1 the library one.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDockerd } from '@ocikit/test-engines';
import { buildBusyboxImage, buildDebianImage } from '@ocikit/test-images';
import { startRegistry } from '@ocikit/test-registry';

const run = promisify(execFile);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const clientScript = fileURLToPath(new URL('./engine-client.ts', import.meta.url));
const cli = fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url));

/** One measured run of a client: the work's wall time and the child's memory peaks. */
interface Sample {
  ms: number;
  maxRssKiB: number;
  peakHeapBytes: number;
}

/** A client process in one scenario. */
interface Contender {
  name: string;
  args: string[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function sample(args: readonly string[]): Promise<Sample> {
  // no @ocikit/source condition: @ocikit/engine is loaded from its build, as users load it
  const { stdout } = await run(process.execPath, [clientScript, ...args], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Sample;
}

/** Runs the contenders interleaved (1 warm-up round, then `runs` rounds), `setup` untimed before each. */
async function compareClients(
  title: string,
  contenders: readonly Contender[],
  setup: () => Promise<void>,
): Promise<string> {
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < 1 + runs; round++) {
    for (const c of contenders) {
      await setup();
      const s = await sample(c.args);
      if (round > 0) samples.get(c.name)?.push(s);
    }
  }
  const rows = contenders.map((c) => {
    const got = samples.get(c.name) ?? [];
    return {
      name: c.name,
      ms: median(got.map((s) => s.ms)),
      rss: median(got.map((s) => s.maxRssKiB / 1024)),
      heap: median(got.map((s) => s.peakHeapBytes / 2 ** 20)),
    };
  });
  const base = rows.find((r) => r.name === 'dockerode') ?? rows[0];
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '');
  const text = [
    `### ${title}`,
    '',
    '| client | median time (ms) | ratio vs dockerode | peak RSS (MiB) | ratio | peak heap (MiB) | ratio |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        // the floor does no work: only its memory means something
        `| ${r.name} | ${r.name.startsWith('none') ? ' | ' : `${r.ms.toFixed(1)} | ${ratio(r.ms, base?.ms)}`} | ${r.rss.toFixed(1)} | ${ratio(r.rss, base?.rss)} | ${r.heap.toFixed(1)} | ${ratio(r.heap, base?.heap)} |`,
    ),
  ].join('\n');
  console.log(`${text}\n`);
  return text;
}

const work = `/var/tmp/ocikit-engine-bench-${process.pid}`;
mkdirSync(work, { recursive: true });
const registry = await startRegistry();
const sections: string[] = [];
try {
  const busyboxLayout = join(work, 'busybox');
  buildBusyboxImage(busyboxLayout, 'busybox');
  const debian = buildDebianImage();
  const busybox = `${registry.host}/busybox:latest`;
  const debianRef = `${registry.host}/debian:bookworm`;
  for (const [layout, tag, ref] of [
    [busyboxLayout, 'busybox', busybox],
    [debian.layout, debian.ref, debianRef],
  ] as const) {
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${ref}`]);
  }

  await using dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  const docker = (...args: string[]) =>
    run('docker', args, { env: { ...process.env, ...dockerd.env }, maxBuffer: 1 << 24 });
  await docker('pull', '-q', busybox);
  const clients = (scenario: string, ref: string, count = 1, concurrency = 1): Contender[] =>
    ['dockerode', 'ocikit', 'none'].map((name) => ({
      name:
        name === 'none'
          ? 'none (a Node process that loads nothing: memory floor)'
          : name === 'ocikit'
            ? 'ocikit (@ocikit/engine docker driver)'
            : name,
      args: [name, scenario, dockerd.socket, ref, String(count), String(concurrency)],
    }));
  const nothing = async () => {};

  if (process.env['BENCH_SKIP_API'] !== '1') {
    sections.push(
      await compareClients(
        '50 containers, one at a time: create, start, wait, remove (busybox `true`, network none)',
        clients('cycle', busybox, 50, 1),
        nothing,
      ),
    );
    sections.push(
      await compareClients(
        '50 containers, 10 in flight: create, start, wait, remove (busybox `true`, network none)',
        clients('cycle', busybox, 50, 10),
        nothing,
      ),
    );
    sections.push(
      await compareClients(
        'pull of the Debian minbase image (49 MB gzip, one layer) from the registry on loopback',
        clients('pull', debianRef).filter((c) => !c.name.startsWith('none')),
        async () => {
          await docker('rmi', '-f', debianRef).catch(() => {});
        },
      ),
    );
  }

  if (process.env['BENCH_SKIP_CLI'] !== '1') {
    const md = join(work, 'hyperfine.md');
    // asynchronously: the registry this process started keeps draining its log meanwhile
    const hyperfine = spawn(
      'hyperfine',
      [
        '-N',
        '--warmup',
        '2',
        '--runs',
        String(Math.max(10, runs * 2)),
        '--export-markdown',
        md,
        '-n',
        'ocikit --host … run --rm',
        `${cli} --host ${dockerd.host} run --rm --network none ${busybox} true`,
        '-n',
        'ocikit --version (its start-up alone)',
        `${cli} --version`,
        '-n',
        'docker --host … run --rm',
        `docker --host ${dockerd.host} run --rm --network none ${busybox} true`,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DOCKER_CONFIG: dockerd.env['DOCKER_CONFIG'] },
      },
    );
    const status = await new Promise<number | null>((resolve, reject) => {
      hyperfine.on('error', reject);
      hyperfine.on('close', resolve);
    });
    if (status !== 0) throw new Error(`hyperfine failed (${status})`);
    const table = readFileSync(md, 'utf8').trim();
    sections.push(`### run --rm of busybox \`true\` through dockerd (hyperfine)\n\n${table}`);
  }
  writeFileSync('/var/tmp/ocikit-engine-bench.md', `${sections.join('\n\n')}\n`);
} finally {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
