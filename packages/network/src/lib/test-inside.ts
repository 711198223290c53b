// Run by network.test.ts under `unshare --net --mount --propagation private`: every bridge, veth,
// address and iptables rule made here lives in namespaces the test made. Prints one JSON line.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addNetwork, cachedResult, checkNetwork, delNetwork } from './cni.ts';
import { type CreateNetworkOptions, createNetwork, removeNetwork } from './config.ts';
import { containerAddresses, hostsFile } from './files.ts';
import { createNetns, removeNetns } from './netns.ts';
import { ensureNetworkRules, networkChain, removeNetworkRules } from './rules.ts';

const run = promisify(execFile);
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
const must = (cmd: string, args: string[]) => {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const bb = '/bin/busybox';
const inNs = (ns: string, args: string[]) => sh('nsenter', [`--net=${ns}`, bb, ...args]);

const [caseName, rootArg] = process.argv.slice(2);
if (!rootArg) {
  // first entry: make the sandbox (loopback, private tmpfs for state, /var/lib/cni and /run; not
  // /tmp, which may hold the checkout this script runs from: a fresh clone in CI is under /tmp)
  must('ip', ['link', 'set', 'lo', 'up']);
  // an address of the outer (test) namespace that containers try to reach
  must('ip', ['addr', 'add', '192.0.2.1/32', 'dev', 'lo']);
  for (const d of ['/var/lib/cni', '/run']) must('mount', ['-t', 'tmpfs', 'tmpfs', d]);
}
const root = rootArg ?? mkdtempSync('/run/ocikit-net-');
const nsDir = join(root, 'netns');

function leftovers(network: string) {
  const links = must('ip', ['-o', 'link', 'show'])
    .split('\n')
    .filter((l) => /veth/.test(l));
  const rules = must('iptables-save', [])
    .split('\n')
    // per-container rules: a container's comment, its /32 address, its own CNI-<hash> or CNI-DN- chain
    .filter((l) => /^-A/.test(l) && /id: "|10\.(88|9\d)\.\d+\.\d+\/32|CNI-[0-9a-f]{8}|CNI-DN-/.test(l));
  const leaseDir = join(root, 'networks', 'ipam', network);
  let leases: string[] = [];
  try {
    leases = readdirSync(leaseDir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  } catch {
    // no lease dir: nothing leased
  }
  const cache = (() => {
    try {
      return readdirSync(join(root, 'networks', 'cache', 'results'));
    } catch {
      return [];
    }
  })();
  return { links, rules, leases, cache };
}

const httpGet = (host: string, port: number) =>
  spawnSync(bb, ['nc', '-w', '2', host, String(port)], {
    input: 'GET / HTTP/1.0\r\n\r\n',
    encoding: 'utf8',
    timeout: 5000,
  });

/**
 * Network `name` made with `options` and its rules, and two containers on it in namespaces of their
 * own, the first publishing a port and CHECKed, the second at IPv6 address `ip6`.
 */
async function twoOn(name: string, options: CreateNetworkOptions, ids: [string, string], ip6: string) {
  const net = await createNetwork(root, name, options);
  const lean = await ensureNetworkRules(root, net);
  const a = await createNetns(nsDir, ids[0]);
  const b = await createNetns(nsDir, ids[1]);
  // a published port: portmap's CHECK of it (cni.ts works around its checks of the wrong family)
  const ra = await addNetwork(root, lean, {
    containerId: ids[0],
    netns: a,
    portMappings: [{ hostPort: 18555, containerPort: 80 }],
  });
  const rb = await addNetwork(root, lean, { containerId: ids[1], netns: b, ip6 });
  await checkNetwork(root, name, { containerId: ids[0], netns: a });
  return { net, a, b, ra, rb };
}

/**
 * A rule a network or container left: ocikit's chains, or CNI's but portmap's two shared ones (made
 * on first use and left, as podman leaves them).
 */
const leftRule = (l: string) =>
  l.includes('OCIKIT-') || (/^-A CNI-/.test(l) && !/^-A CNI-HOSTPORT-(MASQ|SETMARK) /.test(l));

/**
 * DEL of the containers `c-a` and `c-b` (namespaces `netns`) from `network`, their namespaces and the
 * network removed; what is left: rules of either family, the bridge (`ip link show` status: 1 gone),
 * rule markers.
 */
async function tearDown(network: string, bridge: string, netns: [string, string]) {
  for (const [i, ns] of netns.entries())
    await delNetwork(root, network, { containerId: i === 0 ? 'c-a' : 'c-b', netns: ns });
  for (const ns of netns) await removeNetns(ns);
  await removeNetwork(root, network);
  return {
    left4: must('iptables-save', []).split('\n').filter(leftRule),
    left6: must('ip6tables-save', []).split('\n').filter(leftRule),
    bridge: sh('ip', ['link', 'show', bridge]).status,
    markers: readdirSync(join(root, 'networks', 'rules')).filter((f) => !f.endsWith('.lock')),
  };
}

/** Servers a case started: killed when the case ends, however it ends. */
const children: ChildProcess[] = [];
function track<T extends ChildProcess>(c: T): T {
  children.push(c);
  return c;
}

/** Waits (up to 5 s) until a TCP socket listens on `port` in namespace `ns`. */
async function listening(ns: string, port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let i = 0; i < 100; i++) {
    // busybox listens on :: when IPv6 is there, so look in tcp6 as well
    const tcp = must('nsenter', [`--net=${ns}`, 'cat', '/proc/net/tcp', '/proc/net/tcp6']);
    if (tcp.split('\n').some((l) => l.includes(hex) && / 0A /.test(l))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port} in ${ns}`);
}

const ip4 = (cidr: string | undefined) => (cidr ?? '').split('/')[0] ?? '';

const cases: Record<string, () => Promise<unknown>> = {
  async reach() {
    const n1 = await createNetwork(root, 'n1', { subnet: '10.90.0.0/24' });
    const a = await createNetns(nsDir, 'c-a');
    const b = await createNetns(nsDir, 'c-b');
    const ra = await addNetwork(root, 'n1', { containerId: 'c-a', netns: a });
    const rb = await addNetwork(root, 'n1', { containerId: 'c-b', netns: b });
    await checkNetwork(root, 'n1', { containerId: 'c-a', netns: a });
    const ping = inNs(a, ['ping', '-c1', '-W2', ip4(rb.ips[0]?.address)]);
    const srv = track(
      // its stdin a pipe we never end: at end of input busybox nc shuts its side down, and a client
      // that sees that FIN before it sends exits 0 having sent nothing
      spawn('nsenter', [`--net=${b}`, bb, 'nc', '-l', '-p', '7000'], {
        stdio: ['pipe', 'pipe', 'ignore'],
      }),
    );
    let got = '';
    srv.stdout.on('data', (d: Buffer) => {
      got += d.toString();
    });
    await listening(b, 7000);
    const nc = spawnSync('nsenter', [`--net=${a}`, bb, 'nc', '-w', '2', ip4(rb.ips[0]?.address), '7000'], {
      input: 'hello-b\n',
      encoding: 'utf8',
      timeout: 5000,
    });
    await new Promise((r) => srv.on('close', r));
    // by name: c-a's /etc/hosts, rendered with c-b as a peer, bind-mounted in a mount namespace of its own
    const hosts = join(root, 'hosts-a');
    writeFileSync(
      hosts,
      hostsFile({
        hostname: 'c-a',
        addresses: containerAddresses(ra),
        peers: [{ names: ['peer-b'], ip: ip4(rb.ips[0]?.address) }],
      }),
    );
    const byName = sh('unshare', [
      '--mount',
      'sh',
      '-c',
      `mount --bind ${hosts} /etc/hosts && exec nsenter --net=${a} ${bb} ping -c1 -W2 peer-b`,
    ]);
    const cached = await cachedResult(root, 'n1', 'c-a');
    await delNetwork(root, 'n1', { containerId: 'c-a', netns: a });
    await delNetwork(root, 'n1', { containerId: 'c-b', netns: b });
    await removeNetns(a);
    await removeNetns(b);
    const bridgeBeforeRm = sh('ip', ['link', 'show', n1.bridge]).status;
    await removeNetwork(root, 'n1');
    return {
      bridgeBeforeRm,
      bridgeAfterRm: sh('ip', ['link', 'show', n1.bridge]).status,
      ra,
      rb,
      ping: ping.status,
      byName: byName.stdout,
      nc: nc.status,
      got,
      cached,
      left: leftovers('n1'),
      nsLeft: readdirSync(nsDir),
    };
  },
  async port() {
    await createNetwork(root, 'web', { subnet: '10.91.0.0/24' });
    const a = await createNetns(nsDir, 'c-web');
    const www = join(root, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'published-ok\n');
    const r = await addNetwork(root, 'web', {
      containerId: 'c-web',
      netns: a,
      portMappings: [
        { hostPort: 18080, containerPort: 80 },
        { hostPort: 18081, containerPort: 80, hostIP: '192.0.2.1' },
      ],
    });
    const httpd = track(
      spawn('nsenter', [`--net=${a}`, bb, 'httpd', '-f', '-p', '80', '-h', www], {
        stdio: 'ignore',
      }),
    );
    await listening(a, 80);
    const gw = r.ips[0]?.gateway ?? '';
    // busybox-static's wget crashes here; a raw HTTP request through nc does the same
    const get = httpGet(gw, 18080);
    // a mapping bound to one host address answers there only
    const onHostIp = httpGet('192.0.2.1', 18081);
    const offHostIp = httpGet(gw, 18081);
    const rulesWhile = must('iptables-save', ['-t', 'nat'])
      .split('\n')
      .filter((l) => /18080/.test(l)).length;
    httpd.kill();
    await delNetwork(root, 'web', { containerId: 'c-web', netns: a });
    await removeNetns(a);
    const after = httpGet(gw, 18080);
    return {
      body: get.stdout,
      onHostIp: onHostIp.stdout,
      offHostIp: offHostIp.stdout,
      rulesWhile,
      afterBody: after.stdout,
      left: leftovers('web'),
    };
  },
  async internal() {
    await createNetwork(root, 'closed', { subnet: '10.92.0.0/24', internal: true });
    const a = await createNetns(nsDir, 'c-in');
    const b = await createNetns(nsDir, 'c-out');
    const ri = await addNetwork(root, 'closed', { containerId: 'c-in', netns: a });
    await addNetwork(root, 'bridge', { containerId: 'c-out', netns: b });
    const routesIn = must('nsenter', [`--net=${a}`, 'ip', 'route', 'show']);
    const pingIn = inNs(a, ['ping', '-c1', '-W1', '192.0.2.1']);
    const pingOut = inNs(b, ['ping', '-c1', '-W2', '192.0.2.1']);
    await delNetwork(root, 'closed', { containerId: 'c-in', netns: a });
    await delNetwork(root, 'bridge', { containerId: 'c-out', netns: b });
    await removeNetns(a);
    await removeNetns(b);
    return { ri, routesIn, pingIn: pingIn.status, pingOut: pingOut.status, left: leftovers('closed') };
  },
  async many() {
    await createNetwork(root, 'many', { subnet: '10.93.0.0/24' });
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const t0 = Date.now();
    const nss = await Promise.all(ids.map((id) => createNetns(nsDir, id)));
    const results = await Promise.all(
      ids.map((id, i) =>
        addNetwork(root, 'many', {
          containerId: id,
          netns: nss[i] ?? '',
          portMappings: [{ hostPort: 20000 + i, containerPort: 80 }],
        }),
      ),
    );
    const addMs = Date.now() - t0;
    const addrs = new Set(results.map((r) => r.ips[0]?.address));
    const last = ip4(results[19]?.ips[0]?.address);
    const ping = inNs(nss[0] ?? '', ['ping', '-c1', '-W2', last]);
    const during = leftovers('many');
    await Promise.all(ids.map((id, i) => delNetwork(root, 'many', { containerId: id, netns: nss[i] ?? '' })));
    await Promise.all(nss.map((p) => removeNetns(p)));
    return {
      count: results.length,
      distinct: addrs.size,
      ping: ping.status,
      addMs,
      during: { links: during.links.length, leases: during.leases.length, rules: during.rules.length },
      left: leftovers('many'),
    };
  },
  async failures() {
    await createNetwork(root, 'tiny', { subnet: '10.94.0.0/30' });
    const a = await createNetns(nsDir, 'f1');
    const b = await createNetns(nsDir, 'f2');
    const out: Record<string, unknown> = {};
    const empty = join(root, 'no-plugins');
    mkdirSync(empty);
    try {
      await addNetwork(root, 'tiny', { containerId: 'f1', netns: a, cniPath: empty });
    } catch (e) {
      out['missing'] = {
        name: (e as Error).name,
        message: (e as Error).message,
        details: (e as { details: unknown }).details,
      };
    }
    await addNetwork(root, 'tiny', { containerId: 'f1', netns: a });
    try {
      await addNetwork(root, 'tiny', { containerId: 'f2', netns: b });
    } catch (e) {
      out['failing'] = {
        name: (e as Error).name,
        message: (e as Error).message,
        details: (e as { details: unknown }).details,
      };
    }
    out['linksAfterFail'] = must('nsenter', [`--net=${b}`, 'ip', '-o', 'link'])
      .split('\n')
      .filter(Boolean).length;
    await delNetwork(root, 'tiny', { containerId: 'f1', netns: a });
    await removeNetns(a);
    await removeNetns(b);
    out['left'] = leftovers('tiny');
    return out;
  },
  async restart() {
    await createNetwork(root, 'rs', { subnet: '10.95.0.0/24' });
    const a = await createNetns(nsDir, 'c-rs');
    const r = await addNetwork(root, 'rs', {
      containerId: 'c-rs',
      netns: a,
      portMappings: [{ hostPort: 18181, containerPort: 80 }],
    });
    const during = leftovers('rs');
    // a new process, as after a restart: DEL from the cache only
    await run(process.execPath, [...process.execArgv, process.argv[1] ?? '', 'del-rs', root]);
    const afterDel = leftovers('rs');
    await removeNetns(a);
    return {
      r,
      during: { links: during.links.length, leases: during.leases.length, rules: during.rules.length },
      left: afterDel,
    };
  },
  async gone() {
    await createNetwork(root, 'g', { subnet: '10.96.0.0/24' });
    const a = await createNetns(nsDir, 'g-a');
    const b = await createNetns(nsDir, 'g-b');
    const err = async (p: Promise<unknown>) => {
      try {
        await p;
        return { name: 'none', message: '' };
      } catch (e) {
        return { name: (e as Error).name, message: (e as Error).message };
      }
    };
    const port = [{ hostPort: 18282, containerPort: 80 }];
    await addNetwork(root, 'g', { containerId: 'g-a', netns: a, portMappings: port });
    const samePort = await err(addNetwork(root, 'g', { containerId: 'g-b', netns: b, portMappings: port }));
    const twice = await err(addNetwork(root, 'g', { containerId: 'g-a', netns: a }));
    const rb = await addNetwork(root, 'g', { containerId: 'g-b', netns: b, ip: '10.96.0.50' });
    const checkOk = await err(checkNetwork(root, 'g', { containerId: 'g-a', netns: a }));
    must('nsenter', [`--net=${a}`, 'ip', 'addr', 'flush', 'dev', 'eth0']);
    const checkBad = await err(checkNetwork(root, 'g', { containerId: 'g-a', netns: a }));
    await removeNetns(a);
    const delGone = await err(delNetwork(root, 'g', { containerId: 'g-a', netns: a }));
    const delAgain = await err(delNetwork(root, 'g', { containerId: 'g-a', netns: a }));
    await delNetwork(root, 'g', { containerId: 'g-b', netns: b });
    await removeNetns(b);
    const removeAgain = await err(removeNetns(b));
    return {
      samePort,
      twice,
      ipB: rb.ips[0]?.address,
      checkOk,
      checkBad,
      delGone,
      delAgain,
      removeAgain,
      left: leftovers('g'),
    };
  },
  async rules() {
    // an "outside" namespace behind a veth, with no route to the containers' subnet: replies reach a
    // container only when its traffic was masqueraded; and forwarding dropped unless accepted
    const outside = await createNetns(nsDir, 'outside');
    must('ip', ['link', 'add', 'ox0', 'type', 'veth', 'peer', 'name', 'ox1']);
    must('ip', ['link', 'set', 'ox1', 'netns', outside]);
    must('ip', ['addr', 'add', '198.51.100.1/24', 'dev', 'ox0']);
    must('ip', ['link', 'set', 'ox0', 'up']);
    for (const args of [
      ['addr', 'add', '198.51.100.2/24', 'dev', 'ox1'],
      ['link', 'set', 'ox1', 'up'],
      ['link', 'set', 'lo', 'up'],
    ])
      must('nsenter', [`--net=${outside}`, 'ip', ...args]);
    must('iptables', ['-P', 'FORWARD', 'DROP']);
    const net = await createNetwork(root, 'r1', { subnet: '10.94.0.0/24' });
    const lean = await ensureNetworkRules(root, net);
    // without iptables-save's '# Generated … on <time>' lines: two calls a second apart differ there
    const rules = () =>
      must('iptables-save', [])
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n');
    const rulesOnce = rules();
    await ensureNetworkRules(root, net);
    const rulesTwice = rules();
    const c = await createNetns(nsDir, 'c-r');
    await addNetwork(root, lean, { containerId: 'c-r', netns: c });
    const reach = async () => {
      const srv = track(
        spawn('nsenter', [`--net=${outside}`, bb, 'nc', '-l', '-p', '7001'], { stdio: 'ignore' }),
      );
      await listening(outside, 7001);
      const r = inNs(c, ['nc', '-w', '2', '198.51.100.2', '7001']);
      srv.kill('SIGKILL');
      return r.status;
    };
    const reachWith = await reach();
    const masqueraded = must('iptables-save', ['-c', '-t', 'nat'])
      .split('\n')
      .find((l) => l.endsWith(`-A ${networkChain(net)} -j MASQUERADE`));
    await removeNetworkRules(root, net);
    const reachWithout = await reach();
    // made again: its marker went with them
    await ensureNetworkRules(root, net);
    const reachAgain = await reach();
    await delNetwork(root, 'r1', { containerId: 'c-r', netns: c });
    await removeNetns(c);
    await removeNetwork(root, 'r1');
    const closed = await createNetwork(root, 'r2', { subnet: '10.95.0.0/24', internal: true });
    await ensureNetworkRules(root, closed);
    const internalRules = must('iptables-save', [])
      .split('\n')
      .filter((l) => l.includes('OCIKIT-'));
    await removeNetwork(root, 'r2');
    return {
      plugins: lean.config.plugins.map((p) => `${p.type}${p['ipMasq'] === false ? ' -ipMasq' : ''}`),
      rulesOnce: rulesOnce.split('\n').filter((l) => l.includes('OCIKIT-')),
      sameTwice: rulesOnce === rulesTwice,
      reachWith,
      masqueraded,
      reachWithout,
      reachAgain,
      internalRules,
      rulesLeft: must('iptables-save', [])
        .split('\n')
        .filter((l) => l.includes('OCIKIT-')),
      markers: readdirSync(join(root, 'networks', 'rules')).filter((f) => !f.endsWith('.lock')),
    };
  },
  async dual() {
    // dual-stack: containers get an address of each family and reach each other over IPv6, by
    // address and by name; an IPv6-only "outside" namespace with no route back is reachable only
    // while the network's ip6tables rules masquerade; an internal network's containers cannot get
    // out; nothing is left in ip6tables afterwards
    const sysctl = (k: string) => must('sysctl', ['-n', k]).trim();
    const outside = await createNetns(nsDir, 'outside6');
    must('ip', ['link', 'add', 'oy0', 'type', 'veth', 'peer', 'name', 'oy1']);
    must('ip', ['link', 'set', 'oy1', 'netns', outside]);
    must('ip', ['addr', 'add', '2001:db8:99::1/64', 'dev', 'oy0', 'nodad']);
    must('ip', ['link', 'set', 'oy0', 'up']);
    for (const args of [
      ['addr', 'add', '2001:db8:99::2/64', 'dev', 'oy1', 'nodad'],
      ['link', 'set', 'oy1', 'up'],
      ['link', 'set', 'lo', 'up'],
    ])
      must('nsenter', [`--net=${outside}`, 'ip', ...args]);
    must('ip6tables', ['-P', 'FORWARD', 'DROP']);
    const { net, a, b, ra, rb } = await twoOn(
      'd1',
      { subnet: '10.96.0.0/24', subnet6: 'fd00:96::/64' },
      ['c-a6', 'c-b6'],
      'fd00:96::42',
    );
    const v6Of = (r: typeof ra) => ip4(r.ips.find((i) => i.address.includes(':'))?.address);
    const ping6 = inNs(a, ['ping', '-6', '-c1', '-W2', v6Of(rb)]);
    const ping4 = inNs(a, ['ping', '-c1', '-W2', ip4(rb.ips[0]?.address)]);
    const hosts = join(root, 'hosts-a6');
    writeFileSync(
      hosts,
      hostsFile({
        hostname: 'c-a6',
        addresses: containerAddresses(ra),
        peers: [
          { names: ['peer-b'], ip: ip4(rb.ips[0]?.address) },
          { names: ['peer-b'], ip: v6Of(rb) },
        ],
      }),
    );
    const byName = sh('unshare', [
      '--mount',
      'sh',
      '-c',
      `mount --bind ${hosts} /etc/hosts && exec nsenter --net=${a} ${bb} ping -6 -c1 -W2 peer-b`,
    ]);
    const reach = async (c: string) => {
      const srv = track(
        spawn('nsenter', [`--net=${outside}`, bb, 'nc', '-l', '-p', '7002'], { stdio: 'ignore' }),
      );
      await listening(outside, 7002);
      const r = inNs(c, ['nc', '-w', '2', '2001:db8:99::2', '7002']);
      srv.kill('SIGKILL');
      return r.status;
    };
    // the gateway is usable at once (no duplicate address detection on the bridge)
    const tentative = must('ip', ['-6', 'addr', 'show', 'dev', net.bridge, 'tentative']);
    const reachWith = await reach(a);
    const rules6 = must('ip6tables-save', [])
      .split('\n')
      .filter((l) => l.includes('OCIKIT-'));
    await removeNetworkRules(root, net);
    const reachWithout = await reach(a);
    await delNetwork(root, 'd1', { containerId: 'c-a6', netns: a });
    await delNetwork(root, 'd1', { containerId: 'c-b6', netns: b });
    await removeNetns(b);
    await removeNetwork(root, 'd1');
    const closed = await createNetwork(root, 'd2', { subnet: '10.97.0.0/24', ipv6: true, internal: true });
    const leanClosed = await ensureNetworkRules(root, closed);
    const rc = await addNetwork(root, leanClosed, { containerId: 'c-a6', netns: a });
    const reachInternal = await reach(a);
    await delNetwork(root, 'd2', { containerId: 'c-a6', netns: a });
    await removeNetns(a);
    await removeNetwork(root, 'd2');
    return {
      tentative,
      forwarding: sysctl('net.ipv6.conf.all.forwarding'),
      disabled: sysctl('net.ipv6.conf.all.disable_ipv6'),
      ra: ra.ips.map((i) => i.address),
      rb: rb.ips.map((i) => i.address),
      rc: rc.ips.map((i) => i.address),
      ping6: ping6.status,
      ping4: ping4.status,
      byName: byName.stdout,
      reachWith,
      rules6,
      reachWithout,
      reachInternal,
      left6: must('ip6tables-save', []).split('\n').filter(leftRule),
      leases: [...leftovers('d1').leases, ...leftovers('d2').leases],
      markers: readdirSync(join(root, 'networks', 'rules')).filter((f) => !f.endsWith('.lock')),
    };
  },
  async v6only() {
    // IPv6-only (decision 217): an IPv6 address alone for each container, peers reach each other
    // over it; the network's rules in ip6tables only; nothing left in either after DEL and removal
    const { net, a, b, ra, rb } = await twoOn(
      's1',
      { subnet6: 'fd00:95::/64' },
      ['c-a', 'c-b'],
      'fd00:95::42',
    );
    const ping6 = inNs(a, ['ping', '-6', '-c1', '-W2', 'fd00:95::42']);
    const inside4 = must('nsenter', [`--net=${a}`, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    const ours = (l: string) => l.includes('OCIKIT-');
    const rules4 = must('iptables-save', []).split('\n').filter(ours);
    const rules6 = must('ip6tables-save', []).split('\n').filter(ours);
    const left = await tearDown('s1', net.bridge, [a, b]);
    return {
      subnet: net.subnet ?? null,
      ra: ra.ips.map((i) => i.address),
      rb: rb.ips.map((i) => i.address),
      ping6: ping6.status,
      inside4,
      rules4,
      rules6,
      ...left,
      leases: leftovers('s1'),
    };
  },
  async two6() {
    // several IPv6 subnets (decision 218): an address from each range set, a fixed one in the second;
    // the rules cover each subnet; nothing left after DEL and removal
    const { net, a, b, ra, rb } = await twoOn(
      's2',
      { subnet6: 'fd00:93::/64', moreSubnets6: [{ subnet: 'fd00:94::/64' }] },
      ['c-a', 'c-b'],
      'fd00:94::42',
    );
    const ping = inNs(a, ['ping', '-6', '-c1', '-W2', 'fd00:94::42']);
    const ours = (l: string) => l.includes('OCIKIT-');
    const rules6 = must('ip6tables-save', []).split('\n').filter(ours);
    const left = await tearDown('s2', net.bridge, [a, b]);
    return {
      ra: ra.ips.map((i) => i.address),
      rb: rb.ips.map((i) => i.address),
      ping: ping.status,
      rules4: must('iptables-save', []).split('\n').filter(ours),
      rules6,
      ...left,
    };
  },
  async 'del-rs'() {
    await delNetwork(root, 'rs', { containerId: 'c-rs' });
    return {};
  },
};

const fn = caseName ? cases[caseName] : undefined;
if (!fn) throw new Error(`unknown case ${caseName}`);
fn()
  .finally(() => {
    for (const c of children) c.kill('SIGKILL');
  })
  .then(
    (v) => {
      process.stdout.write(`${JSON.stringify(v)}\n`);
    },
    (e: unknown) => {
      process.stdout.write(`${JSON.stringify({ error: String(e), stack: (e as Error).stack })}\n`);
      process.exitCode = 1;
    },
  );
