// The network cases of the engine contract, run by contract-networks.test.ts under `unshare --net
// --mount --pid --propagation private` for one target (argv: local | docker | docker-podman |
// podman): the engine, the test registry and every bridge, veth, rule and CNI file live in the
// namespaces the test made. Prints what each case gave, normalized so that every target's answer
// can be compared with the same expectation, as one JSON line.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dockerDriver, Engine, podmanDriver } from '@ocikit/engine';
import { isOcikitError } from '@ocikit/errors';
import { localDriver } from '@ocikit/local';
import {
  prepareNamespaces,
  type RunningEngine,
  reportResult,
  startDockerd,
  startPodmanService,
} from '@ocikit/test-engines';
import { buildBusyboxImage } from '@ocikit/test-images';
import { startRegistry } from '@ocikit/test-registry';

const run = promisify(execFile);
const [target = ''] = process.argv.slice(2);

prepareNamespaces();

/** A failure as the contract compares it: its code and reason (or `ok`). */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isOcikitError(e)
      ? `${e.code} ${String(e.details['reason'])}`
      : `not an ocikit error: ${String(e)}`;
  }
}

async function main(): Promise<unknown> {
  const work = mkdtempSync('/var/tmp/ocikit-contract-net-');
  const registry = await startRegistry();
  let running: RunningEngine | undefined;
  let engine: Engine | undefined;
  try {
    const layout = join(work, 'layout');
    buildBusyboxImage(layout, 'busybox');
    const image = `${registry.host}/contract/busybox:1`;
    await run('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${layout}:busybox`,
      `docker://${image}`,
    ]);
    const insecureRegistries = [registry.host];
    if (target === 'local') engine = await Engine.connect(localDriver(), `local:${join(work, 'root')}`);
    else if (target === 'docker') {
      running = await startDockerd({ insecureRegistries });
      engine = await Engine.connect(dockerDriver, running.host);
    } else {
      running = await startPodmanService({ insecureRegistries });
      engine = await Engine.connect(target === 'podman' ? podmanDriver : dockerDriver, running.host);
    }
    const e = engine;
    await e.images.pull(image);

    const out: Record<string, unknown> = {};
    const made = await e.networks.create({
      name: 'cn1',
      subnet: '10.220.0.0/24',
      gateway: '10.220.0.1',
      labels: { contract: '1' },
    });
    out['created'] = {
      name: made.name,
      driver: made.driver,
      subnets: made.subnets,
      internal: made.internal,
      labels: made.labels,
      hasId: made.id !== '',
    };
    out['inspected'] = (await e.networks.inspect('cn1')).subnets;
    out['createAgain'] = await outcome(e.networks.create({ name: 'cn1' }));
    await e.networks.create({ name: 'cn2', subnet: '10.221.0.0/24', internal: true });
    out['internal'] = (await e.networks.inspect('cn2')).internal;
    out['listed'] = (await e.networks.list()).map((n) => n.name).filter((n) => n.startsWith('cn'));

    const { id } = await e.containers.create({
      image,
      cmd: ['sleep', '300'],
      network: 'cn1',
      ipAddress: '10.220.0.40',
      networkAliases: ['svc'],
      publish: [{ containerPort: 80, hostPort: 18090 }],
    });
    await e.containers.start(id);
    const details = await e.containers.inspect(id);
    const attachment = details.network?.networks.find((n) => n.name === 'cn1');
    out['container'] = {
      mode: details.network?.mode,
      ipAddress: attachment?.ipAddress,
      ipPrefixLen: attachment?.ipPrefixLen,
      gateway: attachment?.gateway,
      aliased: attachment?.aliases.includes('svc'),
      ports: details.network?.ports,
    };
    const listed = (await e.containers.list()).find((c) => c.id === id);
    out['listedContainer'] = { ports: listed?.ports, networks: listed?.networks };
    const inUse = await e.networks.inspect('cn1');
    out['attached'] = inUse.containers?.map((c) => ({ id: c.id === id, ipAddress: c.ipAddress }));

    // the same host port again: refused at create or at start, and no container left running
    out['samePort'] = await outcome(
      e.containers
        .create({
          image,
          name: 'contract-net-port',
          cmd: ['sleep', '300'],
          network: 'cn1',
          publish: [{ containerPort: 80, hostPort: 18090 }],
        })
        .then((c) => e.containers.start(c.id)),
    );
    await e.containers.remove('contract-net-port', { force: true }).catch(() => {});
    // a network that is not there: refused at create or at start
    out['unknownNetwork'] = await outcome(
      e.containers
        .create({ image, name: 'contract-net-nope', cmd: ['true'], network: 'cn-nope' })
        .then((c) => e.containers.start(c.id)),
    );
    await e.containers.remove('contract-net-nope', { force: true }).catch(() => {});
    out['removeInUse'] = await outcome(e.networks.remove('cn1'));

    await e.networks.connect('cn2', id, { ipAddress: '10.221.0.9', aliases: ['inner'] });
    const connected = (await e.containers.inspect(id)).network?.networks.find((n) => n.name === 'cn2');
    out['connected'] = { ipAddress: connected?.ipAddress, aliased: connected?.aliases.includes('inner') };
    await e.networks.disconnect('cn2', id);
    out['disconnected'] = (await e.containers.inspect(id)).network?.networks.map((n) => n.name);

    await e.containers.remove(id, { force: true });
    await e.networks.remove('cn1');
    out['removed'] = await outcome(e.networks.inspect('cn1'));
    out['pruned'] = (await e.networks.prune()).removed.filter((n) => n.startsWith('cn'));
    out['afterPrune'] = (await e.networks.list()).map((n) => n.name).filter((n) => n.startsWith('cn'));
    return out;
  } finally {
    await engine?.close();
    await running?.stop();
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

reportResult(main());
