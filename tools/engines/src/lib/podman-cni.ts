// podman 4.3 with its CNI network backend, run inside a network sandbox (sandbox.ts): its storage, run
// state, temp files, locks, events and CNI config lists under a fresh temp dir (the distribution's
// default capabilities and sysctls kept); its bridges, veths,
// iptables rules, leases (/var/lib/cni) and netns files (/run/netns) inside the sandbox only. Its
// default network and its pool for new ones are moved off ocikit's (10.88.0.0/16, 10.89.N.0/24), so
// both can run in one sandbox side by side.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '@ocikit/errors';
import { podmanGlobalFlags, podmanRunFlags } from '@ocikit/test-images';
import { podmanEngineConf } from './podman.ts';
import type { NetSandbox, SandboxResult, SandboxRunOptions } from './sandbox.ts';

/** podman's default network's subnet in the sandbox (ocikit's default is 10.88.0.0/16). */
export const PODMAN_CNI_DEFAULT_SUBNET = '10.188.0.0/16';
/** Where podman picks new networks' subnets from in the sandbox (ocikit picks 10.89.N.0/24). */
export const PODMAN_CNI_SUBNET_POOL = '10.190.0.0/16';

/** podman with its CNI backend in a sandbox (see {@link startPodmanCni}). */
export interface PodmanCni {
  /** The temp dir holding its storage, state, config and CNI config lists. */
  readonly dir: string;
  /** Its CNI config lists' directory (`network_config_dir`). */
  readonly cniConfigDir: string;
  /** The full command line prefix: `podman` and its global flags. */
  readonly command: readonly string[];
  /** Environment podman needs (`CONTAINERS_CONF`). */
  readonly env: Record<string, string>;
  /** The `run`/`create` flags this host needs (ulimits), without a `--network`. */
  readonly runFlags: readonly string[];
  /** Runs `podman ARGS…` in the sandbox. */
  cli(args: readonly string[], options?: SandboxRunOptions): Promise<SandboxResult>;
  /** `podman pull oci:LAYOUT:REF` in the sandbox (LAYOUT in lower case); resolves to the image id. */
  loadImage(layout: string, ref: string): Promise<string>;
  /** Force-removes its containers, pods and volumes and removes its dir (the sandbox keeps running). */
  stop(): Promise<void>;
  /** Same as {@link PodmanCni.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The distribution's `default_capabilities` and `default_sysctls` (Debian's: no NET_RAW, and
 * `net.ipv4.ping_group_range=0 0`): a CONTAINERS_CONF file replaces /usr/share/containers/containers.conf,
 * and podman's compiled-in defaults (NET_RAW, MKNOD, AUDIT_WRITE, no sysctls) are not what it runs with.
 */
function distributionDefaults(): string {
  let text = '';
  try {
    text = readFileSync('/usr/share/containers/containers.conf', 'utf8');
  } catch {
    return '';
  }
  return ['default_capabilities', 'default_sysctls']
    .map((key) => new RegExp(`^${key}\\s*=\\s*\\[[^\\]]*\\]`, 'm').exec(text)?.[0] ?? '')
    .filter(Boolean)
    .map((line) => `${line}\n`)
    .join('');
}

function containersConf(dir: string, pluginDirs: readonly string[]): string {
  return `[containers]
${distributionDefaults()}default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[network]
network_backend = "cni"
cni_plugin_dirs = ${JSON.stringify(pluginDirs)}
network_config_dir = "${join(dir, 'cni')}"
default_subnet = "${PODMAN_CNI_DEFAULT_SUBNET}"
default_subnet_pools = [{"base" = "${PODMAN_CNI_SUBNET_POOL}", "size" = 24}]

${podmanEngineConf(dir)}`;
}

/**
 * Sets up podman 4.3 with its CNI backend for `sandbox`: a temp dir under `parentDir` (default
 * `/var/tmp`: overlay storage wants a real file system) with its `--root`, `--runroot`, `--tmpdir`
 * and a containers.conf (`network_backend = "cni"`, `cni_plugin_dirs` = `cniPluginDirs`, default
 * `["/usr/lib/cni"]`, its own
 * `network_config_dir`). Name resolution on user networks needs the dnsname plugin
 * (golang-github-containernetworking-plugin-dnsname, installed by tools/run.sh), as podman 4.3 with
 * CNI has no resolver of its own.
 *
 * @example
 * await using sandbox = await startNetSandbox();
 * await using podman = await startPodmanCni(sandbox);
 * const image = await podman.loadImage(layout, 'busybox');
 * await podman.cli(['run', '--rm', ...podman.runFlags, '--network', 'bridge', image, 'true']);
 */
export async function startPodmanCni(
  sandbox: NetSandbox,
  options: { parentDir?: string; cniPluginDirs?: readonly string[] } = {},
): Promise<PodmanCni> {
  const dir = await mkdtemp(join(options.parentDir ?? '/var/tmp', 'ocikit-podman-cni-'));
  const cniConfigDir = join(dir, 'cni');
  await mkdir(cniConfigDir);
  await mkdir(join(dir, 'tmp'));
  const conf = join(dir, 'containers.conf');
  await writeFile(conf, containersConf(dir, options.cniPluginDirs ?? ['/usr/lib/cni']));
  const env = { CONTAINERS_CONF: conf };
  const command = ['podman', ...podmanGlobalFlags(dir)];
  const cli = (args: readonly string[], o: SandboxRunOptions = {}) =>
    sandbox.run(command[0] as string, [...command.slice(1), ...args], {
      ...o,
      env: { ...process.env, ...env, ...o.env },
    });
  const backend = await cli(['info', '--format', '{{.Host.NetworkBackend}}']);
  if (backend.code !== 0 || backend.stdout.trim() !== 'cni') {
    await rm(dir, { recursive: true, force: true });
    throw new UnavailableError(
      `podman with its CNI backend cannot run here: ${backend.stderr.trim() || backend.stdout.trim()}`,
      { details: { engine: 'podman', reason: 'start-failed' }, hint: 'install podman with tools/run.sh' },
    );
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await cli(['rm', '-af', '-t', '0']);
      await cli(['volume', 'prune', '-f']);
      // the overlay mounts are in the sandbox's mount namespace: unmount them there before removal
      await sandbox.run('sh', [
        '-c',
        `grep -o ' ${dir}/[^ ]*' /proc/self/mountinfo | sort -r | xargs -r umount -l`,
      ]);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  return {
    dir,
    cniConfigDir,
    command,
    env,
    runFlags: podmanRunFlags.filter((_, i, all) => all[i] !== '--network' && all[i - 1] !== '--network'),
    cli,
    async loadImage(layout, ref) {
      if (layout !== layout.toLowerCase())
        throw new Error(
          `podman names an image pulled from oci:DIR after DIR, which must be lower case: ${layout}`,
        );
      const pulled = await cli(['pull', '-q', `oci:${layout}:${ref}`]);
      if (pulled.code !== 0) throw new Error(`podman cannot load ${layout}:${ref}: ${pulled.stderr.trim()}`);
      return pulled.stdout.trim().split('\n').at(-1) ?? '';
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
