// Benchmark (issue 15): networks, ocikit beside podman 4.3 with its CNI backend, both inside ONE
// network sandbox (@ocikit/test-engines: the bridges, veths, rules and leases live there only), the
// same busybox image, whole processes, rounds interleaved:
// 1. `run --rm --network bridge IMAGE true` (and `--network none`, to show what the network costs);
// 2. CNI ADD+DEL of one container alone, measured three ways: each engine's `run --rm --network
//    bridge` minus its `--network none` (medians of the same run); the plugins timed by themselves
//    (every plugin run through a wrapper logging its start and end; a container's ADD or DEL lasts
//    from its first plugin's start to its last one's end) for podman's run, ocikit's run and
//    @ocikit/network's addNetwork+delNetwork in one process (network-cni.ts); and that process's
//    own clock around createNetns+addNetwork+delNetwork+removeNetns;
// 3. 20 containers started at once (`run -d`) on one user network, then one more container that
//    pings all 20 by name: start to all reachable (the 20 are removed untimed between rounds); and
//    the same 20 on `--network none` (no pinger), to show what the network adds. busybox ping needs
//    a raw socket: the pinger gets NET_RAW on both sides (Debian's default capabilities leave it out).
// Run: pnpm turbo run build --filter @ocikit/cli... && pnpm --filter @ocikit/bench bench:network
// BENCH_RUNS (default 7): timed rounds; BENCH_MANY_RUNS (default 5) for scenario 3.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNetSandbox, startPodmanCni } from '@ocikit/test-engines';
import { buildBusyboxImage } from '@ocikit/test-images';
import { compare, median, type Result, report } from './harness.ts';

const cli = fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url));
const cniScript = fileURLToPath(new URL('./network-cni.ts', import.meta.url));
const runs = Number(process.env['BENCH_RUNS'] ?? 7);
const manyRuns = Number(process.env['BENCH_MANY_RUNS'] ?? 5);

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

  // 2b. each engine's own CNI ADD and DEL, timed by the plugins: every plugin is run through a
  // wrapper that logs its start and end (ns), one plugin dir per engine; a container's ADD (DEL)
  // lasts from its first plugin's start to its last plugin's end
  const timed = (engine: string) => {
    const dir = join(work, `cni-timed-${engine}`);
    mkdirSync(dir);
    for (const plugin of readdirSync('/usr/lib/cni')) {
      writeFileSync(
        join(dir, plugin),
        `#!/bin/sh\ns=$(date +%s%N)\n/usr/lib/cni/${plugin}\nrc=$?\necho "$CNI_CONTAINERID $CNI_COMMAND $s $(date +%s%N)" >> ${dir}.log\nexit $rc\n`,
        { mode: 0o755 },
      );
    }
    return dir;
  };
  const windows = (dir: string, command: 'ADD' | 'DEL', lib = false) => {
    const byId = new Map<string, { start: number; end: number }>();
    for (const line of readFileSync(`${dir}.log`, 'utf8').split('\n')) {
      const [id, cmd, start, end] = line.split(' ');
      if (cmd !== command || !id || id.startsWith('bench-') !== lib) continue;
      const w = byId.get(id) ?? { start: Number.POSITIVE_INFINITY, end: 0 };
      byId.set(id, {
        start: Math.min(w.start, Number(start) / 1e6),
        end: Math.max(w.end, Number(end) / 1e6),
      });
    }
    return [...byId.values()].map((w) => w.end - w.start);
  };
  const ocikitTimed = timed('ocikit');
  const podmanTimedDir = timed('podman');
  const podmanTimed = await startPodmanCni(sandbox, { cniPluginDirs: [podmanTimedDir] });
  try {
    const timedImage = await podmanTimed.loadImage(layout, 'busybox');
    const timedConf = `CONTAINERS_CONF=${podmanTimed.env['CONTAINERS_CONF']}`;
    compare(
      [
        {
          name: 'ocikit (timed plugins)',
          argv: sandbox.argv('env', [
            `CNI_PATH=${ocikitTimed}`,
            cli,
            '--root',
            root,
            'run',
            '--rm',
            '--network',
            'bridge',
            'busybox',
            'true',
          ]),
        },
        {
          name: 'podman (timed plugins)',
          argv: sandbox.argv('env', [
            timedConf,
            ...podmanTimed.command,
            'run',
            '--rm',
            ...podmanTimed.runFlags,
            '--network',
            'bridge',
            timedImage,
            'true',
          ]),
        },
      ],
      { runs, warmup: 2 },
    );
  } finally {
    await podmanTimed.stop();
  }
  // the library alone, through the same wrappers
  inSandbox(
    sandbox.argv(process.execPath, [
      '--conditions=@ocikit/source',
      cniScript,
      cniRoot,
      String(runs + 2),
      ocikitTimed,
    ]),
  );
  const row = (what: string, add: number[], del: number[], base: number) => {
    const a = median(add.slice(2));
    const d = median(del.slice(2));
    return `| ${what} | ${a.toFixed(1)} | ${d.toFixed(1)} | ${(a + d).toFixed(1)} | ${((a + d) / base).toFixed(2)}× |`;
  };
  const pAdd = windows(podmanTimedDir, 'ADD');
  const pDel = windows(podmanTimedDir, 'DEL');
  const pBase = median(pAdd.slice(2)) + median(pDel.slice(2));
  out.push(
    [
      '### CNI ADD and DEL of one container, timed by the plugins (first plugin start → last plugin end)',
      '',
      '| engine | ADD (ms) | DEL (ms) | ADD+DEL (ms) | ratio vs podman |',
      '|---|---|---|---|---|',
      row('podman run --rm --network bridge', pAdd, pDel, pBase),
      row(
        'ocikit run --rm --network bridge',
        windows(ocikitTimed, 'ADD'),
        windows(ocikitTimed, 'DEL'),
        pBase,
      ),
      row(
        '@ocikit/network addNetwork + delNetwork, in process',
        windows(ocikitTimed, 'ADD', true),
        windows(ocikitTimed, 'DEL', true),
        pBase,
      ),
    ].join('\n'),
  );
  console.log(`${out.at(-1)}\n`);

  // 3. 20 containers at once on one user network, all reachable by name
  const names = Array.from({ length: 20 }, (_, i) => `m${i}`);
  const sleeper = `sh -c 'trap "exit 0" TERM; busybox sleep 300 & wait'`;
  const pings = names.map((n) => `busybox ping -c1 -W2 ${n} >/dev/null`).join(' && ');
  // with `none`, the same 20 without a network and no pinger: what the network adds to the 20
  const script = (engine: string, img: string, net = 'many') =>
    [
      `for n in ${names.join(' ')}; do ${engine} run -d --name $n --network ${net} ${img} ${sleeper} >/dev/null & done`,
      'wait',
      net === 'none'
        ? `[ "$(${engine} ps -q | wc -l)" -ge 20 ] || exit 1`
        : `${engine} run --rm --network many --cap-add NET_RAW ${img} sh -c '${pings.replaceAll("'", "'\\''")}' || exit 1`,
    ].join('\n');
  const q = (args: readonly string[]) => args.map((a) => `'${a}'`).join(' ');
  const ocikitSh = q([cli, '--root', root]);
  const podmanSh = `env ${conf} ${q(podman.command)}`;
  inSandbox(ocikitArgv(['network', 'create', 'many']));
  inSandbox(podmanArgv(['network', 'create', 'many']));
  const scripts = {
    ocikit: join(work, 'many-ocikit.sh'),
    podman: join(work, 'many-podman.sh'),
    ocikitNone: join(work, 'none-ocikit.sh'),
    podmanNone: join(work, 'none-podman.sh'),
  };
  // podman's ulimit flags belong after `run`: they go in front of the image
  const podmanImageArgs = `${q(podman.runFlags)} ${image}`;
  writeFileSync(scripts.ocikit, script(ocikitSh, 'busybox'));
  writeFileSync(scripts.podman, script(podmanSh, podmanImageArgs));
  writeFileSync(scripts.ocikitNone, script(ocikitSh, 'busybox', 'none'));
  writeFileSync(scripts.podmanNone, script(podmanSh, podmanImageArgs, 'none'));
  const clean = (argv: (a: readonly string[]) => string[]) => () => {
    const rm = argv(['rm', '-f', ...names]);
    spawnSync(rm[0] as string, rm.slice(1), { stdio: 'ignore' });
  };
  const many = compare(
    [
      {
        name: 'ocikit: 20 × run -d, then all pinged by name',
        argv: sandbox.argv('sh', [scripts.ocikit]),
        setup: clean(ocikitArgv),
      },
      {
        name: 'podman: 20 × run -d, then all pinged by name',
        argv: sandbox.argv('sh', [scripts.podman]),
        setup: clean(podmanArgv),
      },
      {
        name: 'ocikit: 20 × run -d --network none',
        argv: sandbox.argv('sh', [scripts.ocikitNone]),
        setup: clean(ocikitArgv),
      },
      {
        name: 'podman: 20 × run -d --network none',
        argv: sandbox.argv('sh', [scripts.podmanNone]),
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
