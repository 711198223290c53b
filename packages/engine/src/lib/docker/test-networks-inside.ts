// Run by networks.test.ts under `unshare --net --mount --pid --propagation private`: it starts the
// engine named on its command line (dockerd or podman's service, from @ocikit/test-engines) inside
// the namespaces the test made, so the bridges, veths and CNI files the engine makes live there and
// vanish with them. Drives the docker driver's networks.* and network fields; prints one JSON line.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEngine } from '@ocikit/test-engines';
import { prepareNamespaces, reportResult, startDockerd, startPodmanService } from '@ocikit/test-engines';
import { buildBusyboxImage } from '@ocikit/test-images';
import type { OutputChunk } from '../contract.ts';
import { Engine } from '../engine.ts';
import { dockerDriver } from './driver.ts';

const [which] = process.argv.slice(2);
const must = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });

prepareNamespaces();

const errOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return { ok: true };
  } catch (e) {
    const x = e as Error & { code?: string; details?: { reason?: string } };
    return { name: x.name, code: x.code, reason: x.details?.reason, message: x.message };
  }
};

// containers sleep 600 s, long past the script's end (its namespace ends them): a loaded machine's
// script could outlast a shorter sleep
async function main(): Promise<unknown> {
  let running: RunningEngine | undefined;
  try {
    running = which === 'podman' ? await startPodmanService() : await startDockerd();
    const engine = await Engine.connect(dockerDriver, running.host);
    try {
      const layout = join(mkdtempSync('/run/ocikit-net-image-'), 'layout');
      buildBusyboxImage(layout, 'busybox');
      const archive = join(layout, '..', 'busybox.tar');
      const image = 'ocikit.test/net/busybox:1';
      must('skopeo', ['copy', '--quiet', `oci:${layout}:busybox`, `docker-archive:${archive}:${image}`]);
      await engine.images.load(createReadStream(archive));

      const n1 = await engine.networks.create({
        name: 'n1',
        subnet: '10.201.0.0/24',
        gateway: '10.201.0.1',
        labels: { team: 'net' },
      });
      const again = await errOf(engine.networks.create({ name: 'n1' }));
      const n2 = await engine.networks.create({ name: 'n2', subnet: '10.202.0.0/24', internal: true });
      await engine.networks.create({ name: 'unused', subnet: '10.203.0.0/24' });
      const listed = (await engine.networks.list()).map((n) => n.name);
      const missing = await errOf(engine.networks.inspect('nope'));

      const c1 = await engine.containers.create({
        image,
        name: 'c1',
        cmd: ['sleep', '600'],
        network: 'n1',
        ipAddress: '10.201.0.50',
        networkAliases: ['web'],
        hostname: 'h1',
        publish: [{ containerPort: 80, hostPort: 18080 }],
        exposedPorts: ['81/udp'],
        dns: ['10.201.0.1'],
        dnsSearch: ['example.test'],
        dnsOptions: ['ndots:2'],
        extraHosts: ['peer:10.201.0.99'],
      });
      await engine.containers.start(c1.id);
      const exec = async (id: string, cmd: string[]) => {
        const p = await engine.containers.exec(id, { cmd });
        const out: OutputChunk[] = [];
        for await (const c of p.output) out.push(c);
        return { code: await p.exitCode, out: Buffer.concat(out.map((c) => c.data)).toString() };
      };
      const files = await exec(c1.id, ['cat', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname']);
      const inspected = await engine.containers.inspect(c1.id);
      const summary = (await engine.containers.list()).find((c) => c.id === c1.id);
      const n1Inspect = await engine.networks.inspect('n1');

      const c2 = await engine.containers.create({
        image,
        name: 'c2',
        cmd: ['sleep', '600'],
        network: 'n1',
        publish: [{ containerPort: 80, hostPort: 18080 }],
      });
      const samePort = await errOf(engine.containers.start(c2.id));
      await engine.containers.remove(c2.id, { force: true });
      const c3 = await engine.containers.create({ image, name: 'c3', cmd: ['sleep', '600'], network: 'n1' });
      await engine.containers.start(c3.id);
      // docker refuses an unknown network at start, podman at create
      const unknownNet = await errOf(
        engine.containers
          .create({ image, name: 'c4', cmd: ['true'], network: 'nope' })
          .then(({ id }) => engine.containers.start(id)),
      );
      await engine.containers.remove('c4', { force: true }).catch(() => {});

      const c5 = await engine.containers.create({
        image,
        name: 'c5',
        cmd: ['sleep', '600'],
        network: 'n1',
        exposedPorts: ['90/tcp'],
        publishAll: true,
      });
      await engine.containers.start(c5.id);
      const publishedAll = (await engine.containers.inspect(c5.id)).network?.ports;
      await engine.containers.remove(c5.id, { force: true });
      const inUse = await errOf(engine.networks.remove('n1'));
      await engine.networks.connect('n2', c1.id, { ipAddress: '10.202.0.7', aliases: ['inner'] });
      const connected = (await engine.containers.inspect(c1.id)).network;
      await engine.networks.disconnect('n2', c1.id, {});
      const disconnected = (await engine.containers.inspect(c1.id)).network?.networks.map((n) => n.name);

      await engine.containers.remove(c1.id, { force: true });
      await engine.containers.remove(c3.id, { force: true });
      await engine.networks.remove('n1');
      const pruned = await engine.networks.prune();
      const afterPrune = (await engine.networks.list()).map((n) => n.name);
      const removeMissing = await errOf(engine.networks.remove('nope'));
      // dual-stack: a network with an IPv6 subnet, a container with a fixed IPv6 address on it
      const ds = await engine.networks.create({
        name: 'ds',
        subnet: '10.204.0.0/24',
        subnet6: 'fd00:204::/64',
        gateway6: 'fd00:204::1',
      });
      const c6 = await engine.containers.create({
        image,
        name: 'c6',
        cmd: ['sleep', '600'],
        network: 'ds',
        ip6Address: 'fd00:204::42',
      });
      await engine.containers.start(c6.id);
      const ds6 = {
        network: ds,
        attachment: (await engine.containers.inspect(c6.id)).network?.networks,
        containers: (await engine.networks.inspect('ds')).containers,
        addr: (await exec(c6.id, ['cat', '/proc/net/if_inet6'])).out,
      };
      await engine.containers.remove(c6.id, { force: true });
      await engine.networks.remove('ds');
      // ipv6 without an IPv6 subnet: the engine picks one, or says why not
      const auto6 = await engine.networks.create({ name: 'auto6', ipv6: true }).then(
        (n) => ({ ipv6: n.ipv6, subnets: n.subnets.map((x) => x.subnet) }),
        (e: Error & { details?: { reason?: string } }) => ({ reason: e.details?.reason, message: e.message }),
      );
      await engine.networks.remove('auto6').catch(() => {});
      const bridges = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout;
      return {
        n1,
        again,
        n2,
        listed,
        missing,
        files,
        inspected: { network: inspected.network, hostname: inspected.config.hostname },
        summary: { ports: summary?.ports, networks: summary?.networks },
        n1Inspect: { containers: n1Inspect.containers },
        samePort,
        publishedAll,
        unknownNet,
        inUse,
        connected,
        disconnected,
        pruned,
        afterPrune,
        removeMissing,
        ds6,
        auto6,
        bridges,
      };
    } finally {
      await engine.close();
    }
  } finally {
    await running?.stop();
  }
}

reportResult(main());
