// Networks and volumes with `ocikit` and with podman 4.3 (its CNI backend), side by side (issue 15),
// both inside ONE network sandbox the test makes (@ocikit/test-engines: net+mount+pid namespaces,
// tmpfs /run and /var/lib/cni, an "outside" namespace behind a veth): every bridge, veth, iptables
// rule, lease and address lives there and vanishes with it; traffic goes only to addresses in it.
// Each case checks podman's outcome against what it must be, then ocikit's against podman's.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type NetSandbox,
  type PodmanCni,
  type SandboxResult,
  startNetSandbox,
  startPodmanCni,
} from '@ocikit/test-engines';
import { buildBusyboxImage, buildVolumeImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
let sandbox: NetSandbox;
let podman: PodmanCni;
let ocikitRoot: string;
const images = { podman: { busybox: '', vol: '' }, ocikit: { busybox: 'busybox', vol: 'vol' } };
// lower case: podman names an image pulled from oci:DIR after the path
const layoutDir = `/var/tmp/ocikit-net-cmp-layouts-${process.pid}`;

/** One engine under test, run in the sandbox. */
interface Side {
  name: 'ocikit' | 'podman';
  cli(args: readonly string[], stdin?: string): Promise<SandboxResult>;
  image(kind?: 'busybox' | 'vol'): string;
  runFlags: readonly string[];
  /** A host port of its own, so both can publish at once. */
  port: number;
  /** The IPAM leases (addresses) it holds on `network`. */
  leases(network: string): Promise<string[]>;
}

const sides: Side[] = [
  {
    name: 'ocikit',
    cli: (args, stdin) =>
      sandbox.run(process.execPath, ['--conditions=@ocikit/source', bin, '--root', ocikitRoot, ...args], {
        env: { ...process.env, NO_COLOR: '1' },
        ...(stdin === undefined ? {} : { stdin }),
      }),
    image: (kind = 'busybox') => images.ocikit[kind],
    runFlags: [],
    port: 18080,
    leases: async (network) => {
      const r = await sandbox.run('find', [
        ocikitRoot,
        '-path',
        `*/ipam/${network}/*`,
        '-name',
        '[0-9]*.[0-9]*',
      ]);
      return r.stdout.split('\n').filter(Boolean);
    },
  },
  {
    name: 'podman',
    cli: (args, stdin) => podman.cli(args, stdin === undefined ? {} : { stdin }),
    image: (kind = 'busybox') => images.podman[kind],
    get runFlags() {
      return podman.runFlags;
    },
    port: 18090,
    leases: async (network) => {
      const r = await sandbox.run('ls', [`/var/lib/cni/networks/${network}`]);
      return r.stdout.split('\n').filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    },
  },
];

/** Runs `each` with both engines at once; their results by name. */
async function both<T>(each: (s: Side) => Promise<T>): Promise<Record<Side['name'], T>> {
  const [ocikit, podmanResult] = await Promise.all(sides.map(each));
  return { ocikit: ocikit as T, podman: podmanResult as T };
}

const run = (s: Side, flags: readonly string[], command: readonly string[], kind?: 'busybox' | 'vol') =>
  s.cli(['run', ...s.runFlags, ...flags, s.image(kind), ...command]);

/** Starts a detached container; fails the test with the engine's words if it cannot. */
async function start(s: Side, flags: readonly string[], command: readonly string[]): Promise<void> {
  const r = await run(s, ['-d', ...flags], command);
  expect(r.code, `${s.name} run -d ${flags.join(' ')}: ${r.stderr}`).toBe(0);
}

/** A raw HTTP GET through busybox nc (from the sandbox host, or from the outside namespace). */
async function httpGet(host: string, port: number, outside = false): Promise<string> {
  const args = ['nc', '-w', '2', host, String(port)];
  const o = { stdin: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 10_000 };
  const r = outside ? await sandbox.runOutside('busybox', args, o) : await sandbox.run('busybox', args, o);
  return r.stdout;
}

/** Polls `get` until its answer contains `want` (up to 10 s); the last answer. */
async function until(get: () => Promise<string>, want: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    last = await get();
    if (last.includes(want)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

/**
 * Removes what a first attempt of a case may have left (containers, then networks, then volumes;
 * missing ones are fine): a retried case (decision 209) must not meet "name in use" or "exists".
 */
async function clear(
  s: Side,
  left: { containers?: readonly string[]; networks?: readonly string[]; volumes?: readonly string[] },
): Promise<void> {
  if (left.containers?.length) await s.cli(['rm', '-f', ...left.containers]);
  for (const net of left.networks ?? []) await s.cli(['network', 'rm', net]);
  for (const volume of left.volumes ?? []) await s.cli(['volume', 'rm', volume]);
}

/** Per-container traces in the sandbox: host-side veths, per-container iptables rules. */
async function traces(): Promise<{ veths: string[]; rules: string[] }> {
  const links = await sandbox.run('ip', ['-o', 'link', 'show', 'type', 'veth']);
  const rules = await sandbox.run('iptables-save', []);
  return {
    veths: links.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter((n) => n !== 'out0'),
    // a container's comment, its /32 address, its own CNI-<hash> or CNI-DN- chain
    rules: rules.stdout
      .split('\n')
      .filter((l) => /^-A/.test(l) && /id: "|10\.\d+\.\d+\.\d+\/32|CNI-[0-9a-f]{8,}|CNI-DN-/.test(l)),
  };
}

/**
 * Makes a dual-stack network `NAME-<engine>` with subnets of that engine's own (both engines'
 * bridges live in the one sandbox): 10.X.N.0/24 and fd00:X:N::/64, N 1 for podman, 2 for ocikit.
 * Fails the test with the engine's words if it cannot; the name, and `n` for addresses in it.
 */
async function dualNetwork(s: Side, name: string, x: number, flags: readonly string[] = []) {
  const n = s.name === 'podman' ? 1 : 2;
  const net = `${name}-${s.name}`;
  const made = await s.cli([
    'network',
    'create',
    ...flags,
    '--subnet',
    `10.${x}${n}.0.0/24`,
    '--subnet',
    `fd00:${x}${n}::/64`,
    net,
  ]);
  expect(made.code, `${s.name} network create ${flags.join(' ')}: ${made.stderr}`).toBe(0);
  return { net, n };
}

/** busybox ping opens a raw socket, and neither engine grants NET_RAW by default (Debian's podman). */
const pinger = ['--cap-add', 'NET_RAW'];

/** A container that runs until stopped and ends at once on SIGTERM (pid 1 ignores it otherwise). */
const sleeper = ['sh', '-c', 'trap "exit 0" TERM; busybox sleep 300 & wait'];

const web = (body: string, port = 80) => [
  'sh',
  '-c',
  `trap "exit 0" TERM; mkdir -p /www && echo ${body} > /www/index.html && busybox httpd -f -p ${port} -h /www & wait`,
];

beforeAll(async () => {
  sandbox = await startNetSandbox();
  podman = await startPodmanCni(sandbox);
  ocikitRoot = mkdtempSync(join(tmpdir(), 'ocikit-net-cmp-'));
  mkdirSync(layoutDir, { recursive: true });
  for (const kind of ['busybox', 'vol'] as const) {
    const layout = join(layoutDir, kind);
    if (kind === 'busybox') buildBusyboxImage(layout, kind);
    else buildVolumeImage(layout, kind);
    images.podman[kind] = await podman.loadImage(layout, kind);
    const copied = await runCli(['--root', ocikitRoot, 'copy', `oci:${layout}:${kind}`, `local:${kind}`]);
    if (copied.code !== 0) throw new Error(`cannot store the ${kind} test image: ${copied.stderr}`);
  }
}, 180_000);

afterAll(async () => {
  if (ocikitRoot) await sides[0]?.cli(['rm', '-f', '-a']).catch(() => undefined);
  await podman?.stop();
  await sandbox?.stop();
  if (ocikitRoot) rmSync(ocikitRoot, { recursive: true, force: true });
  rmSync(layoutDir, { recursive: true, force: true });
}, 120_000);

describe('networks: ocikit and podman (CNI) in one sandbox', () => {
  it('two containers on a user network reach each other by name (ping, wget, nc)', async () => {
    const seen = await both(async (s) => {
      const net = `byname-${s.name}`;
      await clear(s, { containers: ['srv'], networks: [net] });
      const made = await s.cli(['network', 'create', net]);
      expect(made.code, `${s.name} network create: ${made.stderr}`).toBe(0);
      await start(
        s,
        ['--name', 'srv', '--network', net],
        [
          'sh',
          '-c',
          // nc's stdin never ends: at end of input busybox nc shuts its side down, and a client that
          // sees that FIN before it sends exits 0 having sent nothing (an intermittent empty log)
          'mkdir /www && echo by-name-ok > /www/index.html && busybox httpd -p 8080 -h /www && busybox sleep 300 | busybox nc -l -p 7000',
        ],
      );
      const client = await run(
        s,
        ['--rm', ...pinger, '--network', net],
        [
          'sh',
          '-c',
          [
            // up to 30 s for the server and its name: a loaded machine starts slowly
            'for i in $(busybox seq 150); do busybox wget -q -O- http://srv:8080/ 2>/dev/null && break; busybox sleep 0.2; done',
            'busybox ping -c1 -W2 srv >/dev/null && echo ping-ok',
            'echo nc-ok | busybox nc -w2 srv 7000 && echo sent',
          ].join('; '),
        ],
      );
      // the server's line reaches its log a moment after the client is done (conmon's, either engine)
      let logs = await s.cli(['logs', 'srv']);
      for (let i = 0; i < 50 && logs.stdout === ''; i++) {
        await new Promise((r) => setTimeout(r, 100));
        logs = await s.cli(['logs', 'srv']);
      }
      await s.cli(['rm', '-f', 'srv']);
      await s.cli(['network', 'rm', net]);
      return { code: client.code, out: client.stdout, got: logs.stdout };
    });
    expect(seen.podman).toEqual({ code: 0, out: 'by-name-ok\nping-ok\nsent\n', got: 'nc-ok\n' });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('a dual-stack network (--ipv6): an IPv6 address each (--ip6 picks one), peers reach each other by name over IPv6', async () => {
    const seen = await both(async (s) => {
      await clear(s, { containers: ['srv6'], networks: [`dual-${s.name}`] });
      const { net, n } = await dualNetwork(s, 'dual', 12, ['--ipv6']);
      await start(
        s,
        ['--name', 'srv6', '--network', net, '--ip6', `fd00:12${n}::42`],
        ['sh', '-c', 'busybox sleep 300 | busybox nc -l -p 7000'],
      );
      const client = await run(
        s,
        ['--rm', ...pinger, '--network', net],
        [
          'sh',
          '-c',
          [
            // up to 100 tries: a new IPv6 address is tentative (duplicate address detection) for a
            // second or two, longer when loaded, and a ping from one fails at once
            'for i in $(busybox seq 100); do busybox ping -6 -c1 -W1 srv6 >/tmp/p && break; busybox sleep 0.2; done',
            'busybox head -1 /tmp/p',
            `echo v6-ok | busybox nc -w2 fd00:12${n}::42 7000 && echo sent`,
          ].join('; '),
        ],
      );
      let logs = await s.cli(['logs', 'srv6']);
      for (let i = 0; i < 50 && logs.stdout === ''; i++) {
        await new Promise((r) => setTimeout(r, 100));
        logs = await s.cli(['logs', 'srv6']);
      }
      const inspected = await s.cli(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'srv6']);
      const attachment = (JSON.parse(inspected.stdout) as Record<string, Record<string, unknown>>)[net];
      const bad = await run(s, ['--rm', '--network', net, '--ip6', `fd00:9${n}::5`], ['true']);
      await s.cli(['rm', '-f', 'srv6']);
      const rm = await s.cli(['network', 'rm', net]);
      const rules6 = (await sandbox.run('ip6tables-save', [])).stdout
        .split('\n')
        .filter((l) => l.includes(`fd00:12${n}:`));
      const same = (t: string) => t.replaceAll(`12${n}`, '12N');
      return {
        code: client.code,
        out: same(client.stdout),
        got: logs.stdout,
        ip6: same(String(attachment?.['GlobalIPv6Address'])),
        prefix6: attachment?.['GlobalIPv6PrefixLen'],
        gateway6: same(String(attachment?.['IPv6Gateway'])),
        ip4: same(String(attachment?.['IPAddress'])),
        badRefused: bad.code !== 0,
        rm: rm.code,
        rules6,
      };
    });
    expect(seen.podman).toEqual({
      code: 0,
      out: 'PING srv6 (fd00:12N::42): 56 data bytes\nsent\n',
      got: 'v6-ok\n',
      ip6: 'fd00:12N::42',
      prefix6: 64,
      gateway6: 'fd00:12N::1',
      ip4: '10.12N.0.2',
      badRefused: true,
      rm: 0,
      rules6: [],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('on a dual-stack network a published port answers on the host IPv6 addresses as on its IPv4 ones', async () => {
    const seen = await both(async (s) => {
      await clear(s, { containers: ['pub6'], networks: [`dualpub-${s.name}`] });
      const { net, n } = await dualNetwork(s, 'dualpub', 13);
      await start(
        s,
        ['--name', 'pub6', '--network', net, '-p', `${s.port}:80`, '-p', `[::1]:${s.port + 1}:80`],
        web('published-v6'),
      );
      const body = (t: string) => (t.includes('published-v6') ? 'published-v6' : t.slice(0, 200));
      const v4 = body(await until(() => httpGet('127.0.0.1', s.port), 'published-v6'));
      // the host's own IPv6 address on the network (the bridge's gateway)
      const v6 = body(await until(() => httpGet(`fd00:13${n}::1`, s.port), 'published-v6'));
      const loop6 = body(await httpGet('::1', s.port + 1));
      const ports = (await s.cli(['port', 'pub6'])).stdout;
      await s.cli(['rm', '-f', 'pub6']);
      const after = await httpGet(`fd00:13${n}::1`, s.port);
      const rm = await s.cli(['network', 'rm', net]);
      const rules6 = (await sandbox.run('ip6tables-save', [])).stdout
        .split('\n')
        .filter((l) => l.includes(`fd00:13${n}:`) || l.includes(`dport ${s.port}`));
      // `port` prints docker's `[::1]:PORT`, podman 4.3 `::1:PORT`: compared without the brackets.
      // podman 4.3 lists a port's bindings in Go map order (either may come first): compared sorted
      const ports6 = ports
        .replaceAll(String(s.port + 1), 'Q')
        .replaceAll(String(s.port), 'P')
        .replace(/\[(.*)\]:/g, '$1:')
        .split('\n')
        .filter((l) => l !== '')
        .sort()
        .join('\n');
      return { v4, v6, loop6, ports: ports6, after, rm: rm.code, rules6 };
    });
    // [::1] is taken, but answers nothing: portmap cannot DNAT IPv6 loopback (no route_localnet in IPv6)
    expect(seen.podman).toEqual({
      v4: 'published-v6',
      v6: 'published-v6',
      loop6: '',
      ports: '80/tcp -> 0.0.0.0:P\n80/tcp -> ::1:Q',
      after: '',
      rm: 0,
      rules6: [],
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('a dual-stack network reaches out over IPv6 through masquerade; an internal one cannot', async () => {
    // the sandbox's outside namespace gets an IPv6 address, with no route back to the containers'
    // subnets: their replies arrive only when what left was masqueraded
    const six = (args: string[]) => ['addr', ...args];
    expect((await sandbox.run('ip', six(['add', '2001:db8:5::1/64', 'dev', 'out0', 'nodad']))).code).toBe(0);
    expect(
      (await sandbox.runOutside('ip', six(['add', '2001:db8:5::2/64', 'dev', 'out1', 'nodad']))).code,
    ).toBe(0);
    // tries for up to 20 s or more: podman's bridge address is "tentative" (duplicate address
    // detection) for a second or two, longer when loaded, and a ping from one fails at once
    const ping = [
      'sh',
      '-c',
      'for i in $(busybox seq 20); do busybox ping -6 -c1 -W1 2001:db8:5::2 >/dev/null && echo out-ok && exit 0; busybox sleep 0.5; done; echo no-way-out',
    ];
    try {
      const seen = await both(async (s) => {
        await clear(s, { networks: [`out6-${s.name}`, `in6-${s.name}`] });
        const { net: open } = await dualNetwork(s, 'out6', 14);
        const { net: closed } = await dualNetwork(s, 'in6', 15, ['--internal']);
        const out = await run(s, ['--rm', ...pinger, '--network', open], ping);
        const internal = await run(s, ['--rm', ...pinger, '--network', closed], ping);
        for (const net of [open, closed]) await s.cli(['network', 'rm', net]);
        return { out: out.stdout, internal: internal.stdout };
      });
      expect(seen.podman).toEqual({ out: 'out-ok\n', internal: 'no-way-out\n' });
      expect(seen.ocikit).toEqual(seen.podman);
    } finally {
      await sandbox.run('ip', six(['del', '2001:db8:5::1/64', 'dev', 'out0']));
      await sandbox.runOutside('ip', six(['del', '2001:db8:5::2/64', 'dev', 'out1']));
    }
  }, 180_000);

  it('an IPv6-only network (--subnet V6 alone): an IPv6 address only, a peer by name over IPv6, published on IPv6 only, rules in ip6tables only; nothing left after rm', async () => {
    const seen = await both(async (s) => {
      const n = s.name === 'podman' ? 1 : 2;
      const net = `six-${s.name}`;
      await clear(s, { containers: ['web6o', 'pub4o'], networks: [net] });
      const made = await s.cli(['network', 'create', '--subnet', `fd00:14${n}::/64`, net]);
      expect(made.code, `${s.name} network create: ${made.stderr}`).toBe(0);
      // podman's inspect has its own shape: each side's read into one
      const shown = JSON.parse((await s.cli(['network', 'inspect', net])).stdout)[0] as Record<
        string,
        unknown
      >;
      const subnets =
        s.name === 'podman'
          ? (shown['subnets'] as { subnet: string; gateway: string }[]).map((x) => `${x.subnet} ${x.gateway}`)
          : (shown['IPAM'] as { Config: { Subnet: string; Gateway: string }[] }).Config.map(
              (x) => `${x.Subnet} ${x.Gateway}`,
            );
      const ipv6 = s.name === 'podman' ? shown['ipv6_enabled'] : shown['EnableIPv6'];
      await start(s, ['--name', 'web6o', '--network', net, '-p', `${s.port}:80`], web('six-ok'));
      const client = await run(
        s,
        ['--rm', '--network', net],
        [
          'sh',
          '-c',
          [
            'busybox ip -o -4 addr show eth0 | busybox wc -l',
            'busybox ip -o -6 addr show eth0 scope global | busybox wc -l',
            // a new IPv6 address is tentative for a second or two (duplicate address detection);
            // this busybox's wget crashes on an IPv6 address: HTTP by hand with nc
            'for i in $(busybox seq 50); do printf "GET / HTTP/1.0\\r\\n\\r\\n" | busybox nc -w 2 web6o 80 >/tmp/w 2>/dev/null; busybox grep -q six-ok /tmp/w && break; busybox sleep 0.2; done',
            'busybox grep six-ok /tmp/w',
          ].join('; '),
        ],
      );
      const inspected = await s.cli(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'web6o']);
      const a = (JSON.parse(inspected.stdout) as Record<string, Record<string, unknown>>)[net] ?? {};
      const body = (t: string) => (t.includes('six-ok') ? 'six-ok' : t.slice(0, 200));
      // published on the host's IPv6 addresses (the bridge's gateway). Not on IPv4 ones, but that is
      // not asked here: podman's conmon holds the host port open on 0.0.0.0 and answers nothing
      const v6 = body(await until(() => httpGet(`fd00:14${n}::1`, s.port), 'six-ok'));
      const badIp = await run(s, ['--rm', '--network', net, '--ip', `10.14${n}.0.5`], ['true']);
      const pub4 = await run(
        s,
        ['-d', '--name', 'pub4o', '--network', net, '-p', `127.0.0.1:${s.port + 2}:80`],
        web('x'),
      );
      await s.cli(['rm', '-f', 'web6o', 'pub4o']);
      const rm = await s.cli(['network', 'rm', net]);
      const ours = (l: string) => /^-A/.test(l) && (l.includes(`fd00:14${n}:`) || l.includes(net));
      const same = (t: string) => t.replaceAll(`14${n}`, '14N');
      return {
        subnets: subnets.map(same),
        ipv6,
        client: { code: client.code, out: client.stdout },
        attachment: {
          IPAddress: a['IPAddress'],
          IPPrefixLen: a['IPPrefixLen'],
          Gateway: a['Gateway'],
          GlobalIPv6Address: same(String(a['GlobalIPv6Address'])),
          GlobalIPv6PrefixLen: a['GlobalIPv6PrefixLen'],
          IPv6Gateway: same(String(a['IPv6Gateway'])),
        },
        v6,
        badIpRefused: badIp.code !== 0,
        pub4: { code: pub4.code, err: pub4.stderr.trim().split('\n').pop() ?? '' },
        rm: rm.code,
        rules: [
          ...(await sandbox.run('iptables-save', [])).stdout.split('\n').filter(ours),
          ...(await sandbox.run('ip6tables-save', [])).stdout.split('\n').filter(ours),
        ],
      };
    });
    const { pub4: podmanPub4, ...podman6 } = seen.podman;
    const { pub4: ocikitPub4, ...ocikit6 } = seen.ocikit;
    expect(podman6).toEqual({
      subnets: ['fd00:14N::/64 fd00:14N::1'],
      ipv6: true,
      client: { code: 0, out: '0\n1\nsix-ok\n' },
      attachment: {
        IPAddress: '',
        IPPrefixLen: 0,
        Gateway: '',
        GlobalIPv6Address: 'fd00:14N::2',
        GlobalIPv6PrefixLen: 64,
        IPv6Gateway: 'fd00:14N::1',
      },
      v6: 'six-ok',
      badIpRefused: true,
      rm: 0,
      rules: [],
    });
    expect(ocikit6).toEqual(podman6);
    // an IPv4 host address: podman's portmap publishes nothing for it, silently; ocikit refuses it
    expect(podmanPub4.code).toBe(0);
    expect(ocikitPub4).toEqual({
      code: 125,
      err: expect.stringMatching(
        /network six-ocikit is IPv6-only: container port 80\/tcp cannot be published on IPv4 host address 127\.0\.0\.1/,
      ),
    });
  }, 240_000);

  it('several --subnet of a family (decision 218): two IPv6 give an address from each, --ip6 in either; two IPv4 podman takes but cannot run on, ocikit refuses', async () => {
    const seen = await both(async (s) => {
      const n = s.name === 'podman' ? 1 : 2;
      const net = `two6-${s.name}`;
      const net4 = `two4-${s.name}`;
      await clear(s, { containers: ['m6b'], networks: [net, net4] });
      const made = await s.cli([
        'network',
        'create',
        '--subnet',
        `fd00:15${n}::/64`,
        '--subnet',
        `fd00:16${n}::/64`,
        net,
      ]);
      expect(made.code, `${s.name} network create: ${made.stderr}`).toBe(0);
      await start(s, ['--name', 'm6b', '--network', net, '--ip6', `fd00:16${n}::42`], sleeper);
      const client = await run(
        s,
        ['--rm', ...pinger, '--network', net],
        [
          'sh',
          '-c',
          [
            'busybox ip -o -6 addr show eth0 scope global',
            // a new IPv6 address is tentative for a second or two (duplicate address detection)
            `for i in $(busybox seq 100); do busybox ping -6 -c1 -W1 fd00:16${n}::42 >/tmp/p && break; busybox sleep 0.2; done`,
            'busybox head -1 /tmp/p',
          ].join('; '),
        ],
      );
      const inspected = await s.cli(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'm6b']);
      const a = (JSON.parse(inspected.stdout) as Record<string, Record<string, unknown>>)[net] ?? {};
      const bad = await run(s, ['--rm', '--network', net, '--ip6', `fd00:17${n}::5`], ['true']);
      const four = await s.cli([
        'network',
        'create',
        '--subnet',
        `10.15${n}.0.0/24`,
        '--subnet',
        `10.16${n}.0.0/24`,
        net4,
      ]);
      await s.cli(['rm', '-f', 'm6b']);
      const rm = await s.cli(['network', 'rm', net]);
      await s.cli(['network', 'rm', net4]);
      const same = (t: string) => t.replaceAll(`:15${n}:`, ':15N:').replaceAll(`:16${n}:`, ':16N:');
      const ours = (l: string) =>
        /^-A/.test(l) && (new RegExp(`fd00:1[567]${n}:`).test(l) || l.includes(net) || l.includes(net4));
      return {
        compared: {
          code: client.code,
          // sorted: podman 4.3's container lists the later range set's address first
          addresses: [...client.stdout.matchAll(/inet6 (\S+)/g)].map((m) => same(m[1] ?? '')).sort(),
          ping: same(client.stdout.split('\n').at(-2) ?? ''),
          global6: same(String(a['GlobalIPv6Address'])),
          badRefused: bad.code !== 0,
          rm: rm.code,
        },
        four: { code: four.code, err: four.stderr.trim() },
        rules: (await sandbox.run('ip6tables-save', [])).stdout.split('\n').filter(ours),
      };
    });
    expect(seen.podman.compared).toEqual({
      code: 0,
      // host-local goes on after the fixed address it gave m6b in the second set
      addresses: ['fd00:15N::3/64', 'fd00:16N::43/64'],
      ping: 'PING fd00:16N::42 (fd00:16N::42): 56 data bytes',
      global6: 'fd00:15N::2',
      badRefused: true,
      rm: 0,
    });
    expect(seen.ocikit.compared).toEqual(seen.podman.compared);
    // two IPv4 subnets: podman makes the network, but the bridge plugin then refuses every container
    // on it (one IPv4 gateway per bridge); ocikit refuses the network. Podman's DEL of a container
    // on several IPv6 subnets can fail and leave its chains (CHAIN_DEL busy): only ocikit's checked.
    expect(seen.podman.four.code).toBe(0);
    expect(seen.ocikit.four).toEqual({
      code: 1,
      err: expect.stringMatching(
        /give at most one IPv4 subnet \(got 2\): the CNI bridge plugin keeps one IPv4 gateway/,
      ),
    });
    expect(seen.ocikit.rules).toEqual([]);
  }, 240_000);

  it('a published port answers from the sandbox host (loopback and its outer address) and from outside', async () => {
    const seen = await both(async (s) => {
      await clear(s, { containers: ['pub'] });
      await start(s, ['--name', 'pub', '--network', 'bridge', '-p', `${s.port}:80`], web('published-ok'));
      const local = await until(() => httpGet('127.0.0.1', s.port), 'published-ok');
      const onHost = await httpGet(sandbox.hostAddress, s.port);
      const fromOutside = await httpGet(sandbox.hostAddress, s.port, true);
      await s.cli(['rm', '-f', 'pub']);
      const after = await httpGet('127.0.0.1', s.port);
      const body = (t: string) => (t.includes('published-ok') ? 'published-ok' : t.slice(0, 200));
      return { local: body(local), onHost: body(onHost), fromOutside: body(fromOutside), after };
    });
    expect(seen.podman).toEqual({
      local: 'published-ok',
      onHost: 'published-ok',
      fromOutside: 'published-ok',
      after: '',
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('--internal and --network none cannot reach out; the default bridge can', async () => {
    const ping = ['busybox', 'ping', '-c1', '-W2'];
    const seen = await both(async (s) => {
      const net = `closed-${s.name}`;
      await clear(s, { networks: [net] });
      const made = await s.cli(['network', 'create', '--internal', net]);
      expect(made.code, `${s.name} network create --internal: ${made.stderr}`).toBe(0);
      const internal = await run(s, ['--rm', ...pinger, '--network', net], [...ping, sandbox.outsideAddress]);
      const none = await run(s, ['--rm', ...pinger, '--network', 'none'], [...ping, sandbox.outsideAddress]);
      const bridge = await run(
        s,
        ['--rm', ...pinger, '--network', 'bridge'],
        [...ping, sandbox.outsideAddress],
      );
      await s.cli(['network', 'rm', net]);
      return { internal: internal.code !== 0, none: none.code !== 0, bridge: bridge.code };
    });
    expect(seen.podman).toEqual({ internal: true, none: true, bridge: 0 });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('network rm of a network in use is refused, and works once its container is gone', async () => {
    const seen = await both(async (s) => {
      const net = `busy-${s.name}`;
      await clear(s, { containers: ['busy'], networks: [net] });
      await s.cli(['network', 'create', net]);
      await start(s, ['--name', 'busy', '--network', net], sleeper);
      const refused = await s.cli(['network', 'rm', net]);
      const listed = await s.cli(['network', 'ls', '--format', '{{.Name}}']);
      await s.cli(['rm', '-f', 'busy']);
      const removed = await s.cli(['network', 'rm', net]);
      return {
        refused: refused.code !== 0,
        says: /in use|being used|associated containers/i.test(refused.stderr) || refused.stderr,
        stillListed: listed.stdout.split('\n').includes(net),
        removed: removed.code,
      };
    });
    expect(seen.podman).toEqual({ refused: true, says: true, stillListed: true, removed: 0 });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 180_000);

  it('20 containers started at once on one network all reach each other; after rm -f none leaves a veth, rule or lease', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const out: Record<string, unknown> = {};
    // one engine at a time: the sandbox-wide traces then belong to that engine
    for (const s of sides) {
      const net = `many-${s.name}`;
      await clear(s, { containers: names, networks: [net] });
      const made = await s.cli(['network', 'create', net]);
      expect(made.code, `${s.name} network create: ${made.stderr}`).toBe(0);
      const started = await Promise.all(
        names.map((n) => run(s, ['-d', '--name', n, '--network', net], sleeper)),
      );
      const pings = names.map((n) => `busybox ping -c1 -W2 ${n} >/dev/null && echo ${n}`).join('; ');
      const reach = await run(s, ['--rm', ...pinger, '--network', net], ['sh', '-c', pings]);
      const during = await traces();
      const leasesDuring = await s.leases(net);
      const removed = await s.cli(['rm', '-f', ...names]);
      const after = await traces();
      out[s.name] = {
        started: started.filter((r) => r.code === 0).length,
        // what a failed start said (podman 4.3 once started 5 of the 20 on a loaded machine, unsaid)
        startErrors: [
          ...new Set(started.filter((r) => r.code !== 0).map((r) => r.stderr.trim().slice(0, 300))),
        ],
        reached: reach.stdout.split('\n').filter(Boolean),
        vethsDuring: during.veths.length,
        leasesDuring: leasesDuring.length,
        removed: removed.code,
        after: { ...after, leases: await s.leases(net) },
      };
      await s.cli(['network', 'rm', net]);
    }
    const expected = {
      started: 20,
      startErrors: [],
      reached: names,
      vethsDuring: 20,
      leasesDuring: 20,
      removed: 0,
      after: { veths: [], rules: [], leases: [] },
    };
    expect(out['podman']).toEqual(expected);
    expect(out['ocikit']).toEqual(expected);
  }, 300_000);
});

describe('volumes: ocikit and podman in the sandbox', () => {
  it('a named volume keeps its data across two containers and their removal', async () => {
    const seen = await both(async (s) => {
      await clear(s, { containers: ['writer', 'reader'], volumes: ['keep'] });
      const w = await run(s, ['--name', 'writer', '-v', 'keep:/data'], ['sh', '-c', 'echo kept > /data/f']);
      const r = await run(s, ['--name', 'reader', '-v', 'keep:/data'], ['cat', '/data/f']);
      const rm = await s.cli(['rm', 'writer', 'reader']);
      const listed = await s.cli(['volume', 'ls', '-q']);
      const again = await run(s, ['--rm', '-v', 'keep:/data'], ['cat', '/data/f']);
      const volRm = await s.cli(['volume', 'rm', 'keep']);
      return {
        codes: [w.code, r.code, rm.code, again.code, volRm.code],
        read: r.stdout,
        listed: listed.stdout.split('\n').includes('keep'),
        again: again.stdout,
      };
    });
    expect(seen.podman).toEqual({ codes: [0, 0, 0, 0, 0], read: 'kept\n', listed: true, again: 'kept\n' });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 120_000);

  it('copy-up fills an anonymous volume with the image files and their owners', async () => {
    const list = 'find /data | sort | while read f; do echo "$f $(stat -c "%u:%g %a" "$f")"; done';
    const seen = await both(async (s) => {
      const r = await run(s, ['--rm', '-v', '/data'], ['sh', '-c', list], 'vol');
      return { code: r.code, out: r.stdout };
    });
    expect(seen.podman).toEqual({
      code: 0,
      out: '/data 1234:2345 751\n/data/sub 1234:2345 755\n/data/sub/file 1234:2345 640\n',
    });
    expect(seen.ocikit).toEqual(seen.podman);
  }, 120_000);
});
