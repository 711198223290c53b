// A test script run in network, mount and pid namespaces made for it: the parent (a vitest test)
// starts it with `runInNewNamespaces`, the script calls `prepareNamespaces` first (loopback up, tmpfs
// over the host paths engines and CNI write network state to) and ends with `reportResult`, which
// prints its result as one JSON line for the parent. Whatever the script starts (dockerd, podman's
// service, the local engine, a registry) and every bridge, veth, rule and CNI file they make live in
// those namespaces and vanish with them; the script is pid 1 there, so its children end with it.
import { execFileSync, spawn } from 'node:child_process';

/** Options of {@link runInNewNamespaces}. */
export interface RunInNewNamespacesOptions {
  /** Killed (SIGTERM) after this long (default 280 s). */
  timeoutMs?: number;
}

/**
 * Runs `node --conditions=@ocikit/source SCRIPT ARGS…` under `unshare --net --mount --pid --fork
 * --kill-child --mount-proc --propagation private` and resolves to the JSON value its last stdout
 * line holds; rejects naming the script's error (and its stderr's tail) when it printed one or none.
 *
 * @example
 * const r = await runInNewNamespaces<{ ok: boolean }>(fileURLToPath(new URL('./inside.ts', import.meta.url)), ['dockerd']);
 */
export async function runInNewNamespaces<T>(
  script: string,
  args: readonly string[],
  options: RunInNewNamespacesOptions = {},
): Promise<T> {
  const child = spawn(
    'unshare',
    [
      ...['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private'],
      process.execPath,
      '--conditions=@ocikit/source',
      script,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 280_000 },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await new Promise<number | null>((r) => child.on('close', r));
  const what = `${script} ${args.join(' ')}`;
  const line = out.trim().split('\n').pop() ?? '';
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`${what}: no result (status ${status}): ${out}\n${err.slice(-3000)}`);
  }
  const failed = v as { error?: string; stack?: string } | null;
  if (failed && typeof failed === 'object' && failed.error)
    throw new Error(`${what}: ${failed.stack ?? failed.error}\n${err.slice(-3000)}`);
  return v as T;
}

/**
 * In a script {@link runInNewNamespaces} started: brings loopback up and mounts a tmpfs on `/run`,
 * `/var/lib/cni` and `/etc/cni/net.d` (never on `/tmp`: the checkout may be under it), so engines
 * and CNI plugins write their network state there.
 */
export function prepareNamespaces(): void {
  const must = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  must('ip', ['link', 'set', 'lo', 'up']);
  for (const d of ['/run', '/var/lib/cni', '/etc/cni/net.d']) must('mount', ['-t', 'tmpfs', 'tmpfs', d]);
}

/** Prints what `result` resolves to as one JSON line, or `{error, stack}` (exit code 1) when it rejects. */
export function reportResult(result: Promise<unknown>): void {
  result.then(
    (v) => {
      process.stdout.write(`${JSON.stringify(v)}\n`);
    },
    (e: unknown) => {
      process.stdout.write(`${JSON.stringify({ error: String(e), stack: (e as Error).stack })}\n`);
      process.exitCode = 1;
    },
  );
}
