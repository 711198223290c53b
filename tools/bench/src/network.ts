// Benchmark (issue 15): networks, ocikit beside podman 4.3 with its CNI backend, both inside ONE
// network sandbox (@ocikit/test-engines: the bridges, veths, rules and leases live there only), the
// same busybox image, whole processes, rounds interleaved:
// 1. `run --rm --network bridge IMAGE true` (and `--network none`, to show what the network costs);
// 2. CNI ADD+DEL of one container alone: @ocikit/network's createNetns+addNetwork+delNetwork+
//    removeNetns in one process (network-cni.ts), beside podman's network setup+teardown measured as
//    its `run --rm --network bridge` minus its `run --rm --network none` (medians of the same run);
//    ocikit's CLI difference is shown too;
// 3. 20 containers started at once (`run -d`) on one user network, then one more container that
//    pings all 20 by name: start to all reachable (the 20 are removed untimed between rounds). The
//    pinger gets NET_RAW on both sides (ocikit sets no ping_group_range yet, podman does).
// Run: pnpm turbo run build --filter @ocikit/cli... && pnpm --filter @ocikit/bench bench:network
// BENCH_RUNS (default 7): timed rounds; BENCH_MANY_RUNS (default 5) for scenario 3.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNetSandbox, startPodmanCni } from '@ocikit/test-engines';
import { buildBusyboxImage } from '@ocikit/test-images';
import { compare, type Result, report } from './harness.ts';

const cli = fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url));
const cniScript = fileURLToPath(new URL('./network-cni.ts', import.meta.url));
const runs = Number(process.env['BENCH_RUNS'] ?? 7);
const manyRuns = Number(process.env['BENCH_MANY_RUNS'] ?? 5);
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

// lower case: podman names an image pulled from oci:DIR after the path
const work = `/var/tmp/ocikit-net-bench-${process.pid}`;
mkdirSync(work, { recursive: true });
const layout = join(work, 'layout');
buildBusyboxImage(layout, 'busybox');
const root = mkdtempSync('/var/tmp/ocikit-net-bench-root-');
execFileSync(cli, ['--root', root, '-q', 'copy', `oci:${layout}:busybox`, 'local:busybox'], {
  stdio: 'inherit',
});

const sandbox = await startNetSandbox();
const podman = await startPodmanCni(sandbox);
const out: string[] = [];
try {
  const image = await podman.loadImage(layout, 'busybox');
  const conf = `CONTAINERS_CONF=${podman.env['CONTAINERS_CONF']}`;
  const ocikitArgv = (args: readonly string[]) => sandbox.argv(cli, ['--root', root, ...args]);
  const podmanArgv = (args: readonly string[]) => sandbox.argv('env', [conf, ...podman.command, ...args]);
  const inSandbox = (argv: readonly string[]) => {
    const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  // 1. run --rm, with and without the default bridge network
  const single = compare(
    [
      {
        name: 'ocikit run --rm --network bridge',
        argv: ocikitArgv(['run', '--rm', '--network', 'bridge', 'busybox', 'true']),
      },
      {
        name: 'podman run --rm --network bridge',
        argv: podmanArgv(['run', '--rm', ...podman.runFlags, '--network', 'bridge', image, 'true']),
      },
      {
        name: 'ocikit run --rm --network none',
        argv: ocikitArgv(['run', '--rm', '--network', 'none', 'busybox', 'true']),
      },
      {
        name: 'podman run --rm --network none',
        argv: podmanArgv(['run', '--rm', ...podman.runFlags, '--network', 'none', image, 'true']),
      },
    ],
    { runs, warmup: 2 },
  );
  out.push(report('run --rm of busybox `true`, in the sandbox', single, 'podman run --rm --network bridge'));

  // 2. CNI ADD+DEL alone
  const by = (name: string) => (single.find((r) => r.name === name) as Result).median;
  const podmanNet = by('podman run --rm --network bridge') - by('podman run --rm --network none');
  const ocikitNet = by('ocikit run --rm --network bridge') - by('ocikit run --rm --network none');
  const cniRoot = '/run/ocikit-net-bench-cni';
  const cni = JSON.parse(
    inSandbox(
      sandbox.argv(process.execPath, ['--conditions=@ocikit/source', cniScript, cniRoot, String(runs + 2)]),
    ),
  ) as { add: number[]; del: number[]; whole: number[] };
  const skip = (xs: number[]) => xs.slice(2);
  const whole = median(skip(cni.whole));
  out.push(
    [
      '### network setup + teardown of one container (default bridge network)',
      '',
      '| what | median (ms) | ratio vs podman |',
      '|---|---|---|',
      `| podman: run --network bridge − run --network none | ${podmanNet.toFixed(1)} | 1.00× |`,
      `| ocikit: run --network bridge − run --network none | ${ocikitNet.toFixed(1)} | ${(ocikitNet / podmanNet).toFixed(2)}× |`,
      `| @ocikit/network: netns + ADD + DEL + netns removal, in process | ${whole.toFixed(1)} | ${(whole / podmanNet).toFixed(2)}× |`,
      `| … of which ADD | ${median(skip(cni.add)).toFixed(1)} | |`,
      `| … of which DEL | ${median(skip(cni.del)).toFixed(1)} | |`,
    ].join('\n'),
  );
  console.log(`${out.at(-1)}\n`);

  // 3. 20 containers at once on one user network, all reachable by name
  const names = Array.from({ length: 20 }, (_, i) => `m${i}`);
  const sleeper = `sh -c 'trap "exit 0" TERM; busybox sleep 300 & wait'`;
  const pings = names.map((n) => `busybox ping -c1 -W2 ${n} >/dev/null`).join(' && ');
  const script = (engine: string, img: string) => `fail=0
for n in ${names.join(' ')}; do ${engine} run -d --name $n --network many ${img} ${sleeper} >/dev/null || fail=1 & done
wait
${engine} run --rm --network many --cap-add NET_RAW ${img} sh -c '${pings.replaceAll("'", "'\\''")}' || exit 1`;
  const q = (args: readonly string[]) => args.map((a) => `'${a}'`).join(' ');
  const ocikitSh = q([cli, '--root', root]);
  const podmanSh = `env ${conf} ${q(podman.command)}`;
  inSandbox(ocikitArgv(['network', 'create', 'many']));
  inSandbox(podmanArgv(['network', 'create', 'many']));
  const scriptO = join(work, 'many-ocikit.sh');
  const scriptP = join(work, 'many-podman.sh');
  writeFileSync(scriptO, script(ocikitSh, 'busybox'));
  // podman's ulimit flags belong after `run`: they go in front of the image
  writeFileSync(scriptP, script(podmanSh, `${q(podman.runFlags)} ${image}`));
  const clean = (argv: (a: readonly string[]) => string[]) => () => {
    spawnSync(argv(['rm', '-f', ...names])[0] as string, argv(['rm', '-f', ...names]).slice(1), {
      stdio: 'ignore',
    });
  };
  const many = compare(
    [
      {
        name: 'ocikit: 20 × run -d, then all pinged by name',
        argv: sandbox.argv('sh', [scriptO]),
        setup: clean(ocikitArgv),
      },
      {
        name: 'podman: 20 × run -d, then all pinged by name',
        argv: sandbox.argv('sh', [scriptP]),
        setup: clean(podmanArgv),
      },
    ],
    { runs: manyRuns, warmup: 1 },
  );
  clean(ocikitArgv)();
  clean(podmanArgv)();
  out.push(
    report(
      '20 containers started at once on one network, all reachable',
      many,
      'podman: 20 × run -d, then all pinged by name',
    ),
  );
  writeFileSync('/var/tmp/ocikit-network-bench.md', `${out.join('\n\n')}\n`);
} finally {
  await podman.stop();
  await sandbox.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
}
