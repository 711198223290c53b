// A network sandbox for tests that run container engines with real networks: a process tree in a
// network, mount and pid namespace of its own (`unshare --net --mount --pid`), so every bridge, veth,
// address, iptables rule, CNI lease and netns an engine makes lives there and vanishes with it.
// Inside: loopback up, tmpfs on /run and /var/lib/cni (never on /tmp, which may hold the checkout),
// and one more namespace, "outside", joined by a veth pair: the address containers try to reach out
// to. Commands enter it with nsenter; its init is podman's catatonit (it reaps the orphans conmon
// leaves), whose child waits on a pipe from this process: when the test process ends, however it
// ends, the pipe closes and every process in the sandbox ends with it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '@ocikit/errors';

/** What one command run in the sandbox printed and how it ended. */
export interface SandboxResult {
  /** Exit code; 128 + N when killed by signal N; -1 when it could not start. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link NetSandbox.run}. */
export interface SandboxRunOptions {
  /** What the command reads on stdin (default: nothing). */
  stdin?: string;
  /** Its environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long (default 120 s). */
  timeoutMs?: number;
}

/** A running network sandbox (see {@link startNetSandbox}). */
export interface NetSandbox {
  /** The host pid of the sandbox's init process (the target of `nsenter -t`). */
  readonly pid: number;
  /** The sandbox host's address on the link to the outside namespace. */
  readonly hostAddress: string;
  /** An address in the "outside" namespace: what a container with a route out can reach. */
  readonly outsideAddress: string;
  /** The path of the outside namespace, inside the sandbox (`ip netns exec outside …`). */
  readonly outsideNetns: string;
  /** `argv` turned into a command line that runs it in the sandbox (for spawn or benchmarks). */
  argv(file: string, args: readonly string[]): string[];
  /** Runs a command in the sandbox and collects its output. */
  run(file: string, args: readonly string[], options?: SandboxRunOptions): Promise<SandboxResult>;
  /** Runs a command in the outside namespace (a client beyond the sandbox host). */
  runOutside(file: string, args: readonly string[], options?: SandboxRunOptions): Promise<SandboxResult>;
  /** Ends every process in the sandbox; its namespaces and mounts go with them. Safe to call twice. */
  stop(): Promise<void>;
  /** Same as {@link NetSandbox.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

const CATATONIT = '/usr/libexec/podman/catatonit';
const HOST_ADDRESS = '198.51.100.1';
const OUTSIDE_ADDRESS = '198.51.100.2';

const setup = `set -e
ip link set lo up
mkdir -p /var/lib/cni
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib/cni
mkdir -p /run/netns
ip netns add outside
ip link add out0 type veth peer name out1 netns outside
ip addr add ${HOST_ADDRESS}/24 dev out0
ip link set out0 up
ip -n outside link set lo up
ip -n outside addr add ${OUTSIDE_ADDRESS}/24 dev out1
ip -n outside link set out1 up
ip -n outside route add default via ${HOST_ADDRESS}
sysctl -q -w net.ipv4.ip_forward=1
echo ready
exec ${CATATONIT} -- sh -c 'read -r _'
`;

/** Runs a command and collects its output (never rejects). */
export function collect(
  file: string,
  args: readonly string[],
  options: SandboxRunOptions = {},
): Promise<SandboxResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const signo = sig ? ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[sig] : undefined;
      resolve({ code: code ?? 128 + (signo ?? 0), stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

/** The pid of `parent`'s only child (unshare --fork's child: the sandbox's pid 1). */
async function childOf(parent: number): Promise<number | undefined> {
  for (let i = 0; i < 100; i++) {
    try {
      const kids = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
      if (kids) return Number(kids.split(' ')[0]);
    } catch {
      return undefined;
    }
    await sleep(20);
  }
  return undefined;
}

/**
 * Makes a network sandbox and waits until it is ready. Needs root, `unshare`/`nsenter`
 * (util-linux), `ip` (iproute2) and podman's catatonit.
 *
 * @example
 * await using sandbox = await startNetSandbox();
 * const r = await sandbox.run('ip', ['-o', 'link']); // lo and out0 only
 */
export async function startNetSandbox(): Promise<NetSandbox> {
  if (!existsSync(CATATONIT))
    throw new UnavailableError(`the network sandbox needs ${CATATONIT}`, {
      details: { missing: CATATONIT },
      hint: 'install podman with tools/run.sh (catatonit comes with it)',
    });
  const holder: ChildProcess = spawn(
    'unshare',
    [
      '--net',
      '--mount',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '--propagation',
      'private',
      'sh',
      '-c',
      setup,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  holder.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  holder.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  let ended = false;
  const gone = new Promise<void>((resolve) => {
    holder.on('close', () => {
      ended = true;
      resolve();
    });
    holder.on('error', (e) => {
      err += e.message;
      ended = true;
      resolve();
    });
  });
  for (let i = 0; i < 200 && !out.includes('ready') && !ended; i++) await sleep(25);
  const pid = ended || holder.pid === undefined ? undefined : await childOf(holder.pid);
  if (!out.includes('ready') || pid === undefined) {
    holder.kill('SIGKILL');
    throw new UnavailableError(
      `cannot make the network sandbox (run as root): ${err.trim() || 'no answer'}`,
      {
        details: { reason: 'sandbox-failed' },
      },
    );
  }
  const argv = (file: string, args: readonly string[]) => [
    'nsenter',
    '-t',
    String(pid),
    '--net',
    '--mount',
    '--pid',
    '--',
    file,
    ...args,
  ];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      holder.stdin?.end();
      const timer = setTimeout(() => holder.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    })();
    return stopped;
  };
  return {
    pid,
    hostAddress: HOST_ADDRESS,
    outsideAddress: OUTSIDE_ADDRESS,
    outsideNetns: '/run/netns/outside',
    argv,
    run: (file, args, options) => {
      const [cmd, ...rest] = argv(file, args);
      return collect(cmd as string, rest, options);
    },
    runOutside: (file, args, options) => {
      const [cmd, ...rest] = argv('ip', ['netns', 'exec', 'outside', file, ...args]);
      return collect(cmd as string, rest, options);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
