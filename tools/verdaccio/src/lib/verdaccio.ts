import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, throwIfAborted, truncate, UnavailableError } from '@ocikit/errors';
import { freePort, startService } from '@ocikit/test-registry';

/** Options of {@link startVerdaccio}. */
export interface StartVerdaccioOptions {
  /**
   * Where packages that are not `@ocikit/*` come from (zod, tar-stream … for a project installing a
   * published package): the npm registry this machine is configured for (default
   * `$npm_config_registry`, else `https://registry.npmjs.org/`), or `false` for none, so that
   * anything not in the throwaway storage is a 404. `@ocikit/*` is never proxied.
   */
  uplink?: string | false;
  /** User to create (default `ocikit` with a random password). */
  username?: string;
  /** Aborts start-up. */
  signal?: AbortSignal;
}

/** A running Verdaccio on a loopback port, with a throwaway storage and one user. */
export interface RunningVerdaccio {
  /** Registry URL with a trailing slash, `http://127.0.0.1:PORT/`. */
  url: string;
  /** The user's npm token (`_authToken`). */
  token: string;
  /** The user created through Verdaccio's htpasswd auth. */
  username: string;
  /**
   * An `.npmrc` with `registry=` this Verdaccio and its `_authToken` line: pass it as
   * `NPM_CONFIG_USERCONFIG` (npm and pnpm both read it).
   */
  npmrc: string;
  /**
   * An environment for npm and pnpm in which this Verdaccio is the only registry: `base` (default
   * `process.env`) without its `npm_config_*` variables — `pnpm run` sets `npm_config_registry`,
   * which would win over any npmrc — plus `NPM_CONFIG_USERCONFIG` = {@link RunningVerdaccio.npmrc}
   * and `npm_config_registry` = {@link RunningVerdaccio.url}.
   */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** The storage directory (a published package `@ocikit/x` is in `storage/@ocikit/x`). */
  storage: string;
  /** Verdaccio's log so far (warnings and errors). */
  logs(): string;
  /** Kills Verdaccio and removes its temp directory. */
  stop(): Promise<void>;
  /** Same as {@link RunningVerdaccio.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

function configYaml(dir: string, port: number, uplink: string | false): string {
  // Verdaccio marks an uplink offline for 5 minutes after 2 failed requests (a timeout or a reset
  // under a loaded CI machine), and then answers 404 for every package it does not store: the
  // release test failed so in CI. Keep asking the uplink instead.
  const uplinks =
    uplink === false
      ? ''
      : `uplinks:\n  npmjs:\n    url: ${uplink}\n    timeout: 120s\n    max_fails: 1000\n    fail_timeout: 1s\n`;
  const proxy = uplink === false ? '' : '    proxy: npmjs\n';
  return `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: 10
    algorithm: bcrypt
    rounds: 4
${uplinks}packages:
  '@ocikit/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    publish: $authenticated
${proxy}web:
  enable: false
server:
  keepAliveTimeout: 60
log:
  type: stdout
  format: json
  level: warn
listen: 127.0.0.1:${port}
`;
}

async function waitReady(
  url: string,
  exited: () => string | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    throwIfAborted(signal);
    if (exited() !== undefined) return false;
    try {
      const res = await fetch(`${url}-/ping`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** Creates the user through npm's adduser endpoint, which Verdaccio's htpasswd auth serves. */
async function addUser(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}-/user/org.couchdb.user:${encodeURIComponent(username)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      _id: `org.couchdb.user:${username}`,
      name: username,
      password,
      type: 'user',
      roles: [],
    }),
  });
  const body = (await res.json()) as { token?: unknown; error?: unknown };
  if (res.status !== 201 || typeof body.token !== 'string') {
    throw new UnavailableError(
      `verdaccio: adding user ${username} answered ${res.status}: ${truncate(String(body.error ?? ''), 200)}`,
    );
  }
  return body.token;
}

/**
 * Starts Verdaccio 6 (a real npm registry) on a free loopback port with a throwaway storage,
 * `@ocikit/*` readable by all and publishable by its one user (created through its htpasswd auth),
 * never proxied; other packages proxied to the machine's npm registry unless `uplink: false`.
 *
 * @example
 * await using npmRegistry = await startVerdaccio();
 * execFileSync('pnpm', ['publish'], { env: npmRegistry.env() });
 */
export async function startVerdaccio(options: StartVerdaccioOptions = {}): Promise<RunningVerdaccio> {
  const uplink = options.uplink ?? process.env.npm_config_registry ?? 'https://registry.npmjs.org/';
  if (uplink !== false && !/^https?:\/\//.test(uplink)) {
    throw new InvalidArgumentError(
      `startVerdaccio: uplink must be an http(s) URL or false, not ${JSON.stringify(truncate(uplink, 80))}`,
    );
  }
  const username = options.username ?? 'ocikit';
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(username)) {
    throw new InvalidArgumentError(
      `startVerdaccio: username ${JSON.stringify(truncate(username, 40))} must be lower-case letters, digits, '.', '_' or '-'`,
    );
  }
  throwIfAborted(options.signal);
  const bin = join(
    dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')),
    'bin',
    'verdaccio',
  );
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-verdaccio-'));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      throwIfAborted(options.signal);
      const port = await freePort();
      const configPath = join(dir, 'config.yaml');
      await writeFile(configPath, configYaml(dir, port, uplink));
      const service = startService(process.execPath, [bin, '--config', configPath]);
      const url = `http://127.0.0.1:${port}/`;
      const ready = await waitReady(url, service.exit, options.signal).catch((err: unknown) => {
        service.kill();
        throw err;
      });
      if (!ready) {
        service.kill();
        if (/EADDRINUSE/.test(service.output())) continue;
        throw new UnavailableError(
          `verdaccio did not start (exit ${service.exit() ?? 'none'}): ${truncate(service.output().slice(-2000), 2000)}`,
          { details: { exit: service.exit() ?? null, port } },
        );
      }
      let stopped: Promise<void> | undefined;
      const stop = (): Promise<void> => {
        stopped ??= (async () => {
          await service.stop();
          await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      };
      try {
        const token = await addUser(url, username, `pw-${randomBytes(12).toString('base64url')}`);
        const npmrc = join(dir, 'npmrc');
        await writeFile(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`, {
          mode: 0o600,
        });
        return {
          url,
          token,
          username,
          npmrc,
          env: (base = process.env) => ({
            ...Object.fromEntries(Object.entries(base).filter(([k]) => !/^npm_config_/i.test(k))),
            NPM_CONFIG_USERCONFIG: npmrc,
            npm_config_registry: url,
          }),
          storage: join(dir, 'storage'),
          logs: service.output,
          stop,
          [Symbol.asyncDispose]: stop,
        };
      } catch (err) {
        await stop();
        throw err;
      }
    }
    throw new UnavailableError('verdaccio: no free port after 5 attempts');
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
