// Run by network.test.ts under `unshare --net --mount --pid --propagation private`: starts the engine
// named on its command line (dockerd or podman's service from @ocikit/test-engines, or the local
// engine on a fresh root) inside the namespaces the test made, so every bridge, veth, rule and CNI
// file lives there and goes with them; runs the network commands of `ocikit` against it and prints
// what each printed, as one JSON line.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dockerDriver, Engine } from '@ocikit/engine';
import {
  prepareNamespaces,
  type RunningEngine,
  reportResult,
  startDockerd,
  startPodmanService,
} from '@ocikit/test-engines';
import { buildBusyboxImage } from '@ocikit/test-images';
import { type CliResult, runCli, runProcess, storeBusybox } from '../lib/test-cli.ts';

const [target = ''] = process.argv.slice(2);
const must = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });

prepareNamespaces();

async function main(): Promise<Record<string, CliResult | string>> {
  let running: RunningEngine | undefined;
  const work = mkdtempSync('/var/tmp/ocikit-net-cli-');
  try {
    let flags: string[];
    let image: string;
    if (target === 'local') {
      const root = join(work, 'root');
      await storeBusybox(root);
      flags = ['--root', root];
      image = 'busybox';
    } else {
      running = target === 'podman' ? await startPodmanService() : await startDockerd();
      flags = target === 'podman' ? ['--host', `podman+${running.host}`] : ['-H', running.host];
      const layout = join(work, 'layout');
      buildBusyboxImage(layout, 'busybox');
      image = 'ocikit.test/net/busybox:1';
      const archive = join(work, 'busybox.tar');
      must('skopeo', ['copy', '--quiet', `oci:${layout}:busybox`, `docker-archive:${archive}:${image}`]);
      const engine = await Engine.connect(dockerDriver, running.host);
      await engine.images.load(createReadStream(archive));
      await engine.close();
    }
    const cli = (args: string[]) =>
      runCli([...flags, ...args], { env: { DOCKER_HOST: '', CONTAINER_HOST: '' } });
    const out: Record<string, CliResult | string> = { image };
    const step = async (name: string, args: string[]) => {
      out[name] = await cli(args);
    };
    await step('create', [
      'network',
      'create',
      '--subnet',
      '10.210.0.0/24',
      '--gateway',
      '10.210.0.1',
      '--label',
      'team=net',
      'n1',
    ]);
    await step('createAgain', ['network', 'create', 'n1']);
    await step('createBad', ['network', 'create', '--subnet', '10.210.0.0/33', 'n9']);
    await step('create2', ['network', 'create', '--internal', '--subnet', '10.211.0.0/24', 'n2']);
    await step('ls', ['network', 'ls']);
    await step('lsQuiet', ['-q', 'network', 'ls', '--no-trunc']);
    await step('lsJson', ['--json', 'network', 'ls']);
    await step('inspect', ['network', 'inspect', 'n1']);
    await step('inspectMissing', ['network', 'inspect', 'nope']);
    await step('psBefore', ['ps', '-a', '-q']);
    await step('runBadPublish', ['run', '--rm', '--network', 'n1', '-p', '80:80/icmp', image, 'true']);
    await step('runBadHost', ['run', '--rm', '--network', 'n1', '--add-host', 'peer', image, 'true']);
    await step('runBadIp', ['run', '--rm', '--net', 'n1', '--ip', '10.210.0.300', image, 'true']);
    await step('psAfterBad', ['ps', '-a', '-q']);
    await step('run', [
      ...['run', '-d', '--name', 'web', '--network', 'n1', '--ip', '10.210.0.50'],
      ...['-p', '18080:80', '-p', '127.0.0.1:18081-18082:81-82/udp', '--expose', '83'],
      ...['--dns', '10.210.0.1', '--dns-search', 'example.test', '--dns-option', 'ndots:2'],
      ...['--add-host', 'peer:10.210.0.99', '-h', 'h1', '--network-alias', 'www'],
      // long past the script's end (the namespace ends it): a loaded machine's steps outlasted less
      ...[image, 'sleep', '600'],
    ]);
    await step('files', ['exec', 'web', 'cat', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname']);
    await step('port', ['port', 'web']);
    await step('port80', ['port', 'web', '80']);
    await step('port82', ['port', 'web', '82/udp']);
    await step('portMissing', ['port', 'web', '99']);
    await step('ps', ['ps']);
    await step('psPorts', ['ps', '--format', '{{.Names}}|{{.Ports}}']);
    if (running && target !== 'podman') {
      // the docker CLI on the same dockerd, for the same views
      const docker = (args: string[]) =>
        runProcess('docker', args, { env: { ...process.env, ...running?.env } });
      out['dockerPsPorts'] = await docker(['ps', '--format', '{{.Names}}|{{.Ports}}']);
      out['dockerPort'] = await docker(['port', 'web']);
    }
    await step('runSamePort', [
      'run',
      '-d',
      '--name',
      'web2',
      '--network',
      'n1',
      '-p',
      '18080:80',
      image,
      'sleep',
      '600',
    ]);
    await cli(['rm', '-f', 'web2']);
    await step('rmInUse', ['network', 'rm', 'n1']);
    await step('connect', ['network', 'connect', '--ip', '10.211.0.7', '--alias', 'inner', 'n2', 'web']);
    await step('connected', ['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'web']);
    await step('disconnect', ['network', 'disconnect', 'n2', 'web']);
    await step('disconnected', ['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'web']);
    await step('rmContainer', ['rm', '-f', 'web']);
    await step('rm', ['network', 'rm', 'n1']);
    await step('prune', ['network', 'prune', '-f']);
    await step('lsAfter', ['network', 'ls', '--format', '{{.Name}}']);
    out['bridges'] = must('ip', ['-o', 'link', 'show', 'type', 'bridge']);
    return out;
  } finally {
    await running?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

reportResult(main());
