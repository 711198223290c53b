// A real forward proxy for tests: Debian's tinyproxy on a free loopback port, with a recorder in
// front of it that keeps every byte clients send, so a test can check what reached the proxy.
//
// Go's container tools never proxy loopback addresses, so a test reaches its registry by a name only
// the proxy can resolve (say `registry.test`): tinyproxy runs in a private mount namespace
// (`unshare -m`) whose /etc/hosts is a bind mount of a file of our own that names the registry. The
// machine's /etc/hosts is untouched and the test process cannot resolve the name, so a request that
// bypassed the proxy would fail to connect instead of passing unnoticed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throwIfAborted, truncate, UnavailableError } from '@ocikit/errors';
import { freePort } from './ports.ts';
import { startService } from './service.ts';

/** Options of {@link startTinyproxy}. */
export interface TinyproxyOptions {
  /** Names only the proxy resolves, and their addresses (e.g. `{ 'registry.test': '127.0.0.1' }`). */
  hosts?: Record<string, string>;
  /** Aborts start-up. */
  signal?: AbortSignal;
}

/** A running tinyproxy. */
export interface RunningTinyproxy {
  /** `http://127.0.0.1:PORT` of the recorder in front of tinyproxy: the proxy URL clients use. */
  url: string;
  /** Every byte clients sent to the proxy so far, per connection, in order (latin1 text). */
  received(): string[];
  /** tinyproxy's log (LogLevel Info: one `Request` line per request or CONNECT). */
  log(): Promise<string>;
  /** Stops tinyproxy and the recorder and removes the temp directory. */
  stop(): Promise<void>;
  /** Same as {@link RunningTinyproxy.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts tinyproxy (Debian package `tinyproxy`; needs root for its mount namespace) on loopback,
 * resolving `hosts` for itself only, and waits until it accepts connections.
 *
 * @example
 * await using proxy = await startTinyproxy({ hosts: { 'registry.test': '127.0.0.1' } });
 * // HTTPS_PROXY=proxy.url; then pull registry.test:PORT/app; proxy.received() holds what it saw
 */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<RunningTinyproxy> {
  throwIfAborted(options.signal);
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-tinyproxy-'));
  const hostsFile = join(dir, 'hosts');
  const logFile = join(dir, 'tinyproxy.log');
  const lines = ['127.0.0.1 localhost', '::1 localhost'];
  for (const [name, address] of Object.entries(options.hosts ?? {})) lines.push(`${address} ${name}`);
  await writeFile(hostsFile, `${lines.join('\n')}\n`);
  const port = await freePort();
  const conf = join(dir, 'tinyproxy.conf');
  // No ConnectPort line: CONNECT to any port (a test registry's is random).
  await writeFile(
    conf,
    `Port ${port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 100\nAllow 127.0.0.1\nLogLevel Info\nLogFile "${logFile}"\nDisableViaHeader Yes\n`,
  );
  const child = startService('unshare', [
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$0" /etc/hosts && exec tinyproxy -d -c "$1"',
    hostsFile,
    conf,
  ]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exit() !== undefined || Date.now() > deadline) {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
      throw new UnavailableError(
        `tinyproxy did not start (exit ${child.exit() ?? 'none'}): ${truncate(child.output(), 2000)}`,
        {
          hint: 'is the tinyproxy Debian package installed, and are we root (for unshare -m)?',
        },
      );
    }
    if (await accepts(port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  // The recorder: a TCP relay that keeps what clients send before passing it on.
  const received: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const recorder: Server = createServer((client) => {
    const seen: Buffer[] = [];
    received.push(seen);
    const upstream = netConnect({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => {
      seen.push(Buffer.from(d));
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const address = recorder.address();
  const recorderPort = typeof address === 'object' && address ? address.port : 0;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  return {
    url: `http://127.0.0.1:${recorderPort}`,
    received: () => received.map((chunks) => Buffer.concat(chunks).toString('latin1')),
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
