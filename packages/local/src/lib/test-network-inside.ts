// Run by network.test.ts in a network sandbox of @ocikit/test-engines (decision 153): every bridge,
// veth, address, iptables rule and container namespace made here lives in the sandbox's namespaces
// (tmpfs on /run, which holds the state root); traffic goes only to them and to the sandbox's
// "outside" namespace (its address is the second argument). Prints one JSON line.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { type ContainerSpec, Engine } from '@ocikit/engine';
import { isOcikitError } from '@ocikit/errors';
import { reportResult } from '@ocikit/test-engines';
import { buildBusyboxImage } from '@ocikit/test-images';
import { localDriver } from './driver.ts';
import { pruneLocal } from './system.ts';

const sh = (cmd: string, args: string[], input?: string) =>
  spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000, ...(input !== undefined ? { input } : {}) });
const must = (cmd: string, args: string[]) => {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const [caseName, outside = ''] = process.argv.slice(2);
const root = mkdtempSync('/run/ocikit-local-net-');

async function setup(env: Record<string, string | undefined> = process.env): Promise<Engine> {
  const layout = join(root, 'layout');
  if (!existsSync(layout)) {
    buildBusyboxImage(layout, 'busybox');
    const store = await openLayout(join(root, 'content'), { create: true });
    await copy(await openLayout(layout), 'busybox', store, 'docker.io/library/busybox:latest');
  }
  return Engine.connect(localDriver(), `local:${root}`, { env });
}

const ls = (dir: string) => {
  try {
    return readdirSync(dir).filter((f) => !f.startsWith('.'));
  } catch {
    return [];
  }
};

/** What a container on a network could leave behind. */
function leftovers() {
  const links = must('ip', ['-o', 'link', 'show'])
    .split('\n')
    .filter((l) => /veth/.test(l));
  const rules = must('iptables-save', [])
    .split('\n')
    .filter((l) => /^-A/.test(l) && /id: "|10\.(88|9\d)\.\d+\.\d+\/32|CNI-[0-9a-f]{8}|CNI-DN-/.test(l));
  const ipam = join(root, 'networks', 'ipam');
  const leases = ls(ipam).flatMap((n) => ls(join(ipam, n)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)));
  return {
    links,
    rules,
    leases,
    cache: ls(join(root, 'networks', 'cache', 'results')),
    netns: ls(join(root, 'netns')),
    states: ls(join(root, 'container-networks')),
  };
}

const errOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return { name: 'none' };
  } catch (e) {
    return isOcikitError(e)
      ? { name: e.name, reason: e.details['reason'], message: e.message, details: e.details }
      : { name: 'other', message: String(e) };
  }
};

/**
 * A busybox container spec; `sleep 600` unless `s` says otherwise (long past the scenario, whose
 * namespace ends every process: a loaded machine's scenario could outlast a minute).
 */
const spec = (s: Partial<ContainerSpec>): ContainerSpec => ({
  image: 'busybox',
  cmd: ['sleep', '600'],
  ...s,
});

const httpGet = (host: string, port: number) =>
  sh('busybox', ['nc', '-w', '2', host, String(port)], 'GET / HTTP/1.0\r\n\r\n').stdout;

const httpd = (body: string) => [
  'sh',
  '-c',
  `mkdir -p /www && echo ${body} > /www/index.html && exec busybox httpd -f -p 80 -h /www`,
];

async function until<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const hostsOf = async (engine: Engine, id: string) => {
  const pid = (await engine.containers.inspect(id)).state.pid;
  return readFileSync(`/proc/${pid}/root/etc/hosts`, 'utf8');
};

/** A container's log once it holds `want` (up to 5 s). */
const logsWith = (engine: Engine, id: string, want: string) =>
  until(
    async () => {
      let t = '';
      for await (const c of engine.containers.logs(id)) t += Buffer.from(c.data).toString();
      return t;
    },
    (t) => t.includes(want),
  );

const cases: Record<string, () => Promise<unknown>> = {
  async lifecycle() {
    const engine = await setup();
    const out: Record<string, unknown> = {};
    await engine.networks.create({ name: 'n1', subnet: '10.90.0.0/24', labels: { app: 'shop' } });
    // by name: srv listens, a foreground run on the same network talks to it by name
    const srv = await engine.containers.create(
      spec({
        name: 'srv',
        network: 'n1',
        networkAliases: ['db'],
        // nc's stdin never ends: at end of input busybox nc shuts its side down, and a client that
        // sees that FIN before it sends exits 0 having sent nothing (the log was read empty, rarely)
        cmd: ['sh', '-c', 'sleep 600 | busybox nc -l -p 7000'],
      }),
    );
    await engine.containers.start(srv.id);
    const peer = await engine.containers.create(spec({ name: 'peer', network: 'n1', cmd: ['sleep', '600'] }));
    await engine.containers.start(peer.id);
    out['srvHostsWithPeer'] = await hostsOf(engine, srv.id);
    let said = '';
    const talk = await engine.containers.run(
      spec({
        network: 'n1',
        hostname: 'talker',
        dns: ['192.0.2.53'],
        dnsSearch: ['example.test'],
        dnsOptions: ['ndots:2'],
        extraHosts: ['gw.test:192.0.2.1'],
        cmd: [
          'sh',
          '-c',
          'echo hello-srv | busybox nc -w 2 srv 7000 && cat /proc/sys/net/ipv4/ping_group_range /etc/hostname /etc/resolv.conf /etc/hosts',
        ],
        autoRemove: true,
      }),
      {
        onOutput: (c) => {
          said += Buffer.from(c.data).toString();
        },
      },
    );
    out['talk'] = { exitCode: talk.exitCode, said };
    out['srvLogs'] = await logsWith(engine, srv.id, 'hello');
    out['inspect'] = (await engine.containers.inspect(peer.id)).network;
    out['networkInspect'] = await engine.networks.inspect('n1');
    // peer leaves: srv's hosts file no longer names it
    await engine.containers.remove(peer.id, { force: true });
    out['srvHostsAfter'] = await until(
      () => hostsOf(engine, srv.id),
      (h) => !h.includes('peer'),
    );
    out['rmInUse'] = await errOf(engine.networks.remove('n1'));
    out['rmBridge'] = await errOf(engine.networks.remove('bridge'));

    // published ports: -p and -P, answered from this (the host's) namespace through the gateway
    const web = await engine.containers.create(
      spec({
        name: 'web',
        network: 'n1',
        publish: [{ containerPort: 80, hostPort: 18080 }],
        cmd: httpd('published-ok'),
      }),
    );
    await engine.containers.start(web.id);
    const all = await engine.containers.create(
      spec({
        name: 'all',
        network: 'bridge',
        publishAll: true,
        exposedPorts: ['80/tcp'],
        cmd: httpd('all-ok'),
      }),
    );
    await engine.containers.start(all.id);
    const allPorts = (await engine.containers.inspect(all.id)).network?.ports ?? [];
    const allGw = (await engine.containers.inspect(all.id)).network?.networks[0]?.gateway ?? '';
    out['web'] = await until(
      () => httpGet('10.90.0.1', 18080),
      (b) => b.includes('published-ok'),
    );
    out['allPorts'] = allPorts;
    out['all'] = await until(
      () => httpGet(allGw, allPorts[0]?.hostPort ?? 1),
      (b) => b.includes('all-ok'),
    );
    out['list'] = (await engine.containers.list({})).map((c) => ({
      name: c.name,
      ports: c.ports,
      networks: c.networks,
    }));
    // stop releases the address and the port
    await engine.containers.stop(web.id, { timeout: 1 });
    out['stopped'] = (await engine.containers.inspect(web.id)).network;
    out['afterStop'] = httpGet('10.90.0.1', 18080);
    await engine.containers.remove(web.id, {});
    await engine.containers.remove(all.id, { force: true });

    // internal and none reach nothing outside (a server in the sandbox's outside namespace); the
    // default bridge network does
    await engine.networks.create({ name: 'closed', internal: true });
    const server = spawn(
      'ip',
      [
        'netns',
        'exec',
        'outside',
        'busybox',
        'sh',
        '-c',
        'while true; do echo outside-ok | busybox nc -l -p 9999; done',
      ],
      { stdio: 'ignore' },
    );
    await until(
      () => sh('ip', ['netns', 'exec', 'outside', 'cat', '/proc/net/tcp', '/proc/net/tcp6']).stdout,
      (t) => / 00000000:270F | 0{32}:270F /.test(t),
    );
    const reach = async (network: string) => {
      let text = '';
      const { exitCode } = await engine.containers.run(
        spec({ network, cmd: ['busybox', 'nc', '-w', '2', outside, '9999'], autoRemove: true }),
        { onOutput: (c) => (text += Buffer.from(c.data).toString()) },
      );
      return { exitCode, text };
    };
    out['reach'] = {
      internal: await reach('closed'),
      none: await reach('none'),
      bridge: await reach('bridge'),
    };
    server.kill('SIGKILL');

    // host: the host's resolv.conf and hosts, copied
    let hostSaw = '';
    await engine.containers.run(
      spec({
        network: 'host',
        extraHosts: ['gw.test:192.0.2.1'],
        cmd: ['cat', '/etc/resolv.conf', '/etc/hosts'],
        autoRemove: true,
      }),
      { onOutput: (c) => (hostSaw += Buffer.from(c.data).toString()) },
    );
    out['hostMode'] = {
      saw: hostSaw,
      want: `${readFileSync('/etc/resolv.conf', 'utf8')}192.0.2.1\tgw.test\n${readFileSync('/etc/hosts', 'utf8')}`,
    };
    // none: its own hosts file and hostname, as podman gives (the image has neither)
    let noneSaw = '';
    await engine.containers.run(
      spec({
        name: 'lonely',
        hostname: 'solo',
        // busybox ping needs it without ping_group_range, which only networked containers get
        capAdd: ['NET_RAW'],
        extraHosts: ['gw.test:192.0.2.1'],
        cmd: [
          'sh',
          '-c',
          'cat /etc/hosts /etc/hostname; hostname; busybox ping -c1 -W1 solo | grep -o "(127.0.1.1)"',
        ],
        autoRemove: true,
      }),
      { onOutput: (c) => (noneSaw += Buffer.from(c.data).toString()) },
    );
    out['noneFiles'] = noneSaw;
    out['noneBadHost'] = await errOf(engine.containers.create(spec({ extraHosts: ['nocolon'] })));

    // a detached --rm container: its exit command tears it down
    const rmd = await engine.containers.create(spec({ network: 'n1', cmd: ['true'], autoRemove: true }));
    await engine.containers.start(rmd.id);
    out['rmWait'] = await engine.containers.wait(rmd.id, { condition: 'removed' });
    await engine.containers.remove(srv.id, { force: true });
    out['rmFree'] = await errOf(engine.networks.remove('n1'));
    out['prune'] = await engine.networks.prune({});
    out['networks'] = (await engine.networks.list()).map((n) => n.name);
    out['left'] = leftovers();
    return out;
  },

  async connect() {
    const engine = await setup();
    const out: Record<string, unknown> = {};
    await engine.networks.create({ name: 'front', subnet: '10.98.0.0/24' });
    await engine.networks.create({ name: 'back', subnet: '10.99.0.0/24' });
    const app = await engine.containers.create(spec({ name: 'app', network: 'front' }));
    await engine.containers.start(app.id);
    const db = await engine.containers.create(spec({ name: 'dbs', network: 'back' }));
    await engine.containers.start(db.id);
    out['appHostsBefore'] = await hostsOf(engine, app.id);
    // a running container joins back: eth1 in its namespace, both hosts files name each other
    await engine.networks.connect('back', 'app', { aliases: ['api'] });
    const pid = (await engine.containers.inspect(app.id)).state.pid;
    out['links'] = must('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', '-4', 'addr', 'show'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(/\s+/).slice(1, 4).join(' '));
    out['inspect'] = (await engine.containers.inspect(app.id)).network?.networks;
    out['appHosts'] = await hostsOf(engine, app.id);
    out['dbHosts'] = await hostsOf(engine, db.id);
    out['twice'] = await errOf(engine.networks.connect('back', 'app', {}));
    out['noneJoin'] = await errOf(
      (async () => {
        const n = await engine.containers.create(spec({ name: 'lonely' }));
        await engine.networks.connect('back', n.id, {});
      })(),
    );
    await engine.networks.disconnect('back', 'app');
    out['dbHostsAfter'] = await hostsOf(engine, db.id);
    out['linksAfter'] = must('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', 'link']).includes('eth1');
    out['notOn'] = await errOf(engine.networks.disconnect('back', 'app'));
    // an exited container: recorded only; it exits on its own and its exit command frees its address
    const short = await engine.containers.create(spec({ name: 'short', network: 'front', cmd: ['true'] }));
    await engine.containers.start(short.id);
    await engine.containers.wait(short.id, {});
    out['exited'] = await until(
      async () => (await engine.containers.inspect(short.id)).network?.networks[0]?.ipAddress,
      (ip) => ip === '',
    );
    await engine.networks.connect('back', 'short', {});
    out['exitedConnect'] = (await engine.containers.inspect(short.id)).network?.networks;
    // a command that cannot start: the container stays exited (127), off its network
    out['cannot'] = await errOf(
      engine.containers.create(spec({ name: 'cannot', network: 'front', cmd: ['no-such-command'] })),
    );
    out['cannotNet'] = (await engine.containers.inspect('cannot')).network?.networks;
    // only app's and dbs's veths are left (short and cannot are off their networks)
    out['linksLeft'] = leftovers().links.length;
    for (const c of await engine.containers.list({ all: true }))
      await engine.containers.remove(c.id, { force: true });
    out['left'] = leftovers();
    return out;
  },

  async dualstack() {
    const engine = await setup();
    const out: Record<string, unknown> = {};
    out['created'] = await engine.networks.create({
      name: 'ds',
      subnet: '10.97.0.0/24',
      subnet6: 'fd00:97::/64',
    });
    const srv = await engine.containers.create(
      spec({
        name: 'srv6',
        network: 'ds',
        ip6Address: 'fd00:97::42',
        cmd: ['sh', '-c', 'sleep 600 | busybox nc -l -p 7000'],
      }),
    );
    await engine.containers.start(srv.id);
    const cli = await engine.containers.create(spec({ name: 'cli6', network: 'ds' }));
    await engine.containers.start(cli.id);
    out['inspect'] = (await engine.containers.inspect(srv.id)).network?.networks;
    out['cliHosts'] = await hostsOf(engine, cli.id);
    const pid = (await engine.containers.inspect(cli.id)).state.pid;
    const inCli = (args: string[], input?: string) =>
      sh(
        'nsenter',
        [`--net=/proc/${pid}/ns/net`, `--mount=/proc/${pid}/ns/mnt`, '/bin/busybox', ...args],
        input,
      );
    // by name over IPv6: the peer's v6 line in the hosts file
    out['ping6'] = inCli(['ping', '-6', '-c1', '-W2', 'srv6']).stdout;
    out['nc6'] = inCli(['nc', '-w', '2', 'fd00:97::42', '7000'], 'hello-v6\n').status;
    out['srvLogs'] = await logsWith(engine, srv.id, 'hello');
    out['details'] = await engine.networks.inspect('ds');
    // an exited container holds no address of either family
    const short = await engine.containers.create(spec({ name: 'short6', network: 'ds', cmd: ['true'] }));
    await engine.containers.start(short.id);
    await engine.containers.wait(short.id, {});
    out['exited'] = await until(
      async () => (await engine.containers.inspect(short.id)).network?.networks[0],
      (a) => a?.ipAddress === '',
    );
    // a running container joins with a fixed v6 address
    await engine.networks.create({ name: 'ds2', ipv6: true });
    const ds2 = await engine.networks.inspect('ds2');
    const sub6 = ds2.subnets[1]?.subnet ?? '';
    const fixed = `${sub6.split('/')[0]}77`;
    await engine.networks.connect('ds2', 'cli6', { ip6Address: fixed });
    out['connected'] = { sub6, fixed, networks: (await engine.containers.inspect(cli.id)).network?.networks };
    // bad input: --ip6 on an IPv4-only network, outside the subnet; nothing made
    await engine.networks.create({ name: 'v4only', subnet: '10.96.0.0/24' });
    out['onV4'] = await errOf(
      engine.containers.create(spec({ name: 'bad1', network: 'v4only', ip6Address: 'fd00:97::5' })),
    );
    out['outside'] = await errOf(
      engine.containers.create(spec({ name: 'bad2', network: 'ds', ip6Address: 'fd00:98::5' })),
    );
    out['onNone'] = await errOf(engine.containers.create(spec({ name: 'bad3', ip6Address: 'fd00:97::5' })));
    out['connectV4'] = await errOf(engine.networks.connect('v4only', 'cli6', { ip6Address: 'fd00:97::5' }));
    out['badCreate'] = await errOf(engine.networks.create({ name: 'bad6', subnet6: 'fd00:99::1/64' }));
    out['overlap'] = await errOf(engine.networks.create({ name: 'bad6', subnet6: 'fd00:97:0:0:1::/80' }));
    out['names'] = (await engine.containers.list({ all: true })).map((c) => c.name).sort();
    for (const c of await engine.containers.list({ all: true }))
      await engine.containers.remove(c.id, { force: true });
    for (const n of ['ds', 'ds2', 'v4only']) await engine.networks.remove(n);
    const ipam = join(root, 'networks', 'ipam');
    out['leases6'] = ls(ipam).flatMap((n) => ls(join(ipam, n)).filter((f) => f.includes(':')));
    out['rules6'] = must('ip6tables-save', [])
      .split('\n')
      .filter((l) => /^-A/.test(l) && /OCIKIT-|CNI-|fd00:97/.test(l));
    out['left'] = leftovers();
    return out;
  },

  async v6only() {
    // an IPv6-only network (decision 217): containers get an IPv6 address alone, peers list each
    // other by it; an IPv4 address or a port on an IPv4 host address is refused; nothing left
    const engine = await setup();
    const out: Record<string, unknown> = {};
    out['created'] = await engine.networks.create({ name: 'six', subnet6: 'fd00:95::/64' });
    const srv = await engine.containers.create(spec({ name: 'srv-s', network: 'six' }));
    await engine.containers.start(srv.id);
    const cli = await engine.containers.create(spec({ name: 'cli-s', network: 'six' }));
    await engine.containers.start(cli.id);
    out['inspect'] = (await engine.containers.inspect(srv.id)).network?.networks;
    out['cliHosts'] = await hostsOf(engine, cli.id);
    out['details'] = (await engine.networks.inspect('six')).containers;
    out['ip4'] = await errOf(
      engine.containers.create(spec({ name: 'bad1', network: 'six', ipAddress: '10.95.0.5' })),
    );
    out['port4'] = await errOf(
      engine.containers.create(
        spec({
          name: 'bad2',
          network: 'six',
          publish: [{ containerPort: 80, hostPort: 18555, hostIp: '127.0.0.1' }],
        }),
      ),
    );
    out['connect4'] = await errOf(engine.networks.connect('six', 'cli-s', { ipAddress: '10.95.0.6' }));
    out['names'] = (await engine.containers.list({ all: true })).map((c) => c.name).sort();
    for (const c of await engine.containers.list({ all: true }))
      await engine.containers.remove(c.id, { force: true });
    await engine.networks.remove('six');
    const ours = (l: string) => /^-A/.test(l) && /OCIKIT-|CNI-|fd00:95/.test(l);
    out['rules'] = [
      ...must('iptables-save', []).split('\n').filter(ours),
      ...must('ip6tables-save', []).split('\n').filter(ours),
    ];
    out['left'] = leftovers();
    return out;
  },

  async many() {
    const engine = await setup();
    await engine.networks.create({ name: 'many', subnet: '10.93.0.0/24' });
    const t0 = Date.now();
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const { id } = await engine.containers.create({
          image: 'busybox',
          name: `m${i}`,
          network: 'many',
          publish: [{ containerPort: 80, hostPort: 20000 + i }],
          cmd: ['sleep', '600'],
        });
        await engine.containers.start(id);
        return id;
      }),
    );
    const startMs = Date.now() - t0;
    const hosts = await hostsOf(engine, ids[0] ?? '');
    const during = leftovers();
    const t1 = Date.now();
    await Promise.all(ids.map((id) => engine.containers.remove(id, { force: true })));
    return {
      startMs,
      rmMs: Date.now() - t1,
      peersInHosts: hosts.split('\n').filter((l) => /\tm\d+ /.test(l)).length,
      during: { links: during.links.length, leases: during.leases.length, rules: during.rules.length },
      left: leftovers(),
    };
  },

  async failures() {
    const engine = await setup();
    const out: Record<string, unknown> = {};
    await engine.networks.create({ name: 'a', subnet: '10.97.0.0/16' });
    out['overlap'] = await errOf(engine.networks.create({ name: 'b', subnet: '10.97.5.0/24' }));
    out['badName'] = await errOf(engine.networks.create({ name: 'bad/name' }));
    out['unknown'] = await errOf(engine.containers.create(spec({ network: 'nope' })));
    out['noneWithPorts'] = await errOf(engine.containers.create(spec({ publish: [{ containerPort: 80 }] })));
    await engine.networks.create({ name: 'tiny', subnet: '10.94.0.0/30' });
    const first = await engine.containers.create(spec({ network: 'tiny' }));
    out['exhausted'] = await errOf(engine.containers.create(spec({ name: 'second', network: 'tiny' })));
    await engine.containers.remove(first.id, { force: true });
    // a host port another container publishes, and one a process on this host listens on
    const p1 = await engine.containers.create(
      spec({ network: 'a', publish: [{ containerPort: 80, hostPort: 18090 }] }),
    );
    out['portTaken'] = await errOf(
      engine.containers.create(
        spec({ name: 'p2', network: 'a', publish: [{ containerPort: 81, hostPort: 18090 }] }),
      ),
    );
    const server = createServer();
    await new Promise<void>((r) => server.listen(18091, '0.0.0.0', r));
    out['portListened'] = await errOf(
      engine.containers.create(
        spec({ name: 'p3', network: 'a', publish: [{ containerPort: 80, hostPort: 18091 }] }),
      ),
    );
    server.close();
    await engine.containers.remove(p1.id, { force: true });
    // no plugins where CNI_PATH points
    const empty = join(root, 'no-plugins');
    mkdirSync(empty);
    const bare = await setup({ ...process.env, CNI_PATH: empty });
    out['missing'] = await errOf(bare.containers.run(spec({ name: 'np', network: 'a', cmd: ['true'] }), {}));
    // none of the failed creates left a container, a namespace, an address or a rule
    out['afterFailures'] = {
      ...leftovers(),
      containers: (await engine.containers.list({ all: true })).length,
    };
    // a killed ocikit: the container and its monitor die without the exit command; ps (and a
    // system prune) clean up. It publishes a port: its own rules are portmap's (the network's
    // masquerade and forward rules are the network's, decision 193)
    const killed = async () => {
      const k = await engine.containers.create(
        spec({ network: 'a', publish: [{ containerPort: 80, hostPort: 18097 }] }),
      );
      await engine.containers.start(k.id);
      const raw = (await engine.containers.inspect(k.id)).raw as { pid: number; monitorPid: number };
      process.kill(raw.monitorPid, 'SIGKILL');
      process.kill(raw.pid, 'SIGKILL');
      await until(
        () => sh('kill', ['-0', String(raw.pid)]).status,
        (s) => s !== 0,
      );
      return k.id;
    };
    const k = await killed();
    out['killedLeft'] = leftovers();
    await engine.containers.list({ all: true });
    out['afterPs'] = leftovers();
    await engine.containers.remove(k, { force: true });
    await killed();
    out['killedLeft2'] = leftovers().links.length;
    await pruneLocal({ root });
    out['afterPrune'] = { ...leftovers(), containers: (await engine.containers.list({ all: true })).length };
    // network prune also takes a killed ocikit's attachments down (the network stays: its exited
    // container still names it)
    const k3 = await killed();
    out['killedLeft3'] = leftovers().links.length;
    out['networkPrune'] = await engine.networks.prune();
    out['afterNetworkPrune'] = leftovers();
    await engine.containers.remove(k3, { force: true });
    // an engine with its own CNI_PATH: the exit command of its --rm container runs DEL from there
    const logged = join(root, 'cni-logged');
    mkdirSync(logged);
    for (const plugin of readdirSync('/usr/lib/cni'))
      writeFileSync(
        join(logged, plugin),
        `#!/bin/sh\necho "$CNI_COMMAND ${plugin}" >> ${logged}/calls\nexec /usr/lib/cni/${plugin} "$@"\n`,
        { mode: 0o755 },
      );
    const own = await setup({ ...process.env, CNI_PATH: logged });
    const gone = await own.containers.create(spec({ network: 'a', cmd: ['true'], autoRemove: true }));
    await own.containers.start(gone.id);
    // watched on disk: a list would sweep the exited container itself, with this engine's CNI_PATH
    out['exitDel'] = await until(
      () => ({
        gone: !existsSync(join(root, 'containers', gone.id)),
        calls: existsSync(join(logged, 'calls')) ? readFileSync(join(logged, 'calls'), 'utf8') : '',
      }),
      (v) => v.gone && v.calls.includes('DEL'),
      10_000,
    );
    out['left'] = leftovers();
    return out;
  },
};

const fn = caseName ? cases[caseName] : undefined;
if (!fn) throw new Error(`unknown case ${caseName}`);
reportResult(
  fn().finally(async () => {
    // whatever a failed case left running
    const engine = await setup();
    for (const c of await engine.containers.list({ all: true }))
      await engine.containers.remove(c.id, { force: true }).catch(() => {});
  }),
);
