import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgumentError, throwIfAborted, truncate, UnavailableError } from '@ocikit/errors';
import type { TestPki } from './pki.ts';
import { makeClientCertificate, makeTestPki } from './pki.ts';
import { freePort } from './ports.ts';
import { startService } from './service.ts';
import {
  type Credentials,
  selfSignedCertificate,
  startTokenIssuer,
  type TokenIssuer,
} from './token-issuer.ts';

const run = promisify(execFile);

/** How the registry authenticates clients. */
export type AuthMode = 'none' | 'basic' | 'token';

/** Options of {@link startRegistry}. */
export interface StartRegistryOptions {
  /** Authentication mode (default `none`). */
  auth?: AuthMode;
  /** Users for `basic` and `token` (default one user `ocikit` / random password). */
  users?: Credentials[];
  /** Token mode: grant `pull` to anonymous token requests (default true). */
  anonymousPull?: boolean;
  /**
   * Serve HTTPS with a fresh self-signed certificate, on this machine's first non-loopback IPv4
   * address (clients use plain HTTP for loopback hosts, so TLS needs another address); the
   * certificate is `caFile` of the result.
   */
  tls?: boolean | RegistryTlsOptions;
  /**
   * Listen on this machine's first non-loopback IPv4 address even without TLS: a plain-HTTP registry
   * that clients do not treat as loopback (for `insecure` tests).
   */
  external?: boolean;
  /** Listen on this port (default: a free one, another on a clash); a port in use fails at once. */
  port?: number;
  /** Aborts start-up. */
  signal?: AbortSignal;
}

/** TLS beyond a self-signed certificate: a CA of its own, more names, client certificates. */
export interface RegistryTlsOptions {
  /** DNS names the server certificate covers besides the address (e.g. `registry.test`). */
  names?: string[];
  /**
   * Require client certificates signed by the registry's CA (distribution's `http.tls.clientcas`):
   * mutual TLS. Make one with `makeClientCertificate(dir, registry.pki)`.
   */
  clientCertificates?: boolean;
}

/** A running `docker-registry` (CNCF distribution) on a loopback port. */
export interface RunningRegistry {
  /** Base URL, `http://127.0.0.1:PORT` (`https://ADDRESS:PORT` with `tls`). */
  url: string;
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  /** The authentication mode. */
  auth: AuthMode;
  /** The first configured user (meaningful for `basic` and `token`). */
  credentials: Credentials;
  /** The token issuer (token mode only). */
  tokenIssuer?: TokenIssuer;
  /** The registry's stdout and stderr so far (debug log level, so blob mounts are visible). */
  logs(): string;
  /** The storage root directory. */
  dataDir: string;
  /** The registry's self-signed certificate (PEM) with `tls: true`; its CA's with {@link RegistryTlsOptions}. */
  caFile?: string;
  /** With {@link RegistryTlsOptions}: the CA that signed the server certificate (and signs client ones). */
  pki?: TestPki;
  /** Kills the registry, stops the issuer and removes temp directories. */
  stop(): Promise<void>;
  /** Same as {@link RunningRegistry.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

const SERVICE = 'ocikit-test-registry';
const ISSUER = 'ocikit-test-issuer';

/** This machine's first non-loopback IPv4 address (where a TLS registry listens). */
function externalAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new UnavailableError(
    'startRegistry: tls needs a non-loopback IPv4 address and this machine has none',
  );
}

function configYaml(address: string, port: number, dataDir: string, authBlock: string, tls: string): string {
  return `version: 0.1
log:
  level: debug
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${dataDir}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ${address}:${port}
  secret: ocikit-test-secret
${tls}${authBlock}`;
}

/** The status of `GET url`, trusting `ca` for HTTPS. */
function probe(url: string, ca: string | undefined, client?: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(
      url,
      { ...(ca ? { ca } : {}), ...client },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
  });
}

async function waitReady(
  url: string,
  ca: string | undefined,
  exited: () => string | undefined,
  listening: () => boolean,
  signal?: AbortSignal,
  client?: { cert: string; key: string },
): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    throwIfAborted(signal);
    if (exited() !== undefined) return false;
    // until it says it listens, an answer on the port may be another server's (the port was taken
    // between freePort and its start)
    if (!listening()) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      const status = await probe(`${url}/v2/`, ca, client);
      if (status === 200 || status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/**
 * Starts Debian's `docker-registry` (distribution 2.8) on a free loopback port with filesystem
 * storage in a temp dir, in one of three auth modes, and waits until `GET /v2/` answers.
 *
 * @example
 * await using registry = await startRegistry({ auth: 'basic' });
 * const res = await fetch(`${registry.url}/v2/`); // 401 with a Basic challenge
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const auth = options.auth ?? 'none';
  if (auth !== 'none' && auth !== 'basic' && auth !== 'token') {
    throw new InvalidArgumentError(
      `startRegistry: auth must be none, basic or token, not ${JSON.stringify(truncate(String(auth), 40))}`,
    );
  }
  const users = options.users ?? [
    { username: 'ocikit', password: `pw-${randomBytes(9).toString('base64url')}` },
  ];
  const credentials = users[0];
  if (credentials === undefined) throw new InvalidArgumentError('startRegistry: users must not be empty');
  for (const user of users) {
    if (!/^[^:\s]+$/.test(user.username) || user.password === '' || /[\r\n]/.test(user.password)) {
      throw new InvalidArgumentError(
        `startRegistry: user name ${JSON.stringify(truncate(user.username, 40))} must be non-empty without colons or spaces, and its password non-empty on one line`,
      );
    }
  }
  throwIfAborted(options.signal);
  const root = await mkdtemp(join(tmpdir(), 'ocikit-registry-'));
  const dataDir = join(root, 'data');
  let issuer: TokenIssuer | undefined;
  try {
    const address = options.tls || options.external ? externalAddress() : '127.0.0.1';
    let tlsBlock = '';
    let caFile: string | undefined;
    let ca: string | undefined;
    let pki: TestPki | undefined;
    let probeClient: { cert: string; key: string } | undefined;
    if (typeof options.tls === 'object') {
      pki = await makeTestPki(root, { names: options.tls.names ?? [], ips: [address] });
      caFile = pki.caFile;
      ca = await readFile(caFile, 'utf8');
      tlsBlock = `  tls:\n    certificate: ${pki.serverCertFile}\n    key: ${pki.serverKeyFile}\n`;
      if (options.tls.clientCertificates) {
        tlsBlock += `    clientcas:\n      - ${pki.caFile}\n`;
        const probeCert = await makeClientCertificate(root, pki, 'probe');
        probeClient = {
          cert: await readFile(probeCert.certFile, 'utf8'),
          key: await readFile(probeCert.keyFile, 'utf8'),
        };
      }
    } else if (options.tls) {
      caFile = join(root, 'registry.crt');
      const keyFile = join(root, 'registry.key');
      await selfSignedCertificate({
        keyPath: keyFile,
        certificatePath: caFile,
        name: 'ocikit-test-registry',
        ip: address,
      });
      ca = await readFile(caFile, 'utf8');
      tlsBlock = `  tls:\n    certificate: ${caFile}\n    key: ${keyFile}\n`;
    }
    let authBlock = '';
    if (auth === 'basic') {
      const htpasswd = join(root, 'htpasswd');
      let first = true;
      for (const user of users) {
        await run('htpasswd', [first ? '-Bbc' : '-Bb', htpasswd, user.username, user.password]);
        first = false;
      }
      authBlock = `auth:\n  htpasswd:\n    realm: ocikit-test\n    path: ${htpasswd}\n`;
    } else if (auth === 'token') {
      issuer = await startTokenIssuer({
        dir: root,
        users,
        service: SERVICE,
        issuer: ISSUER,
        ...(options.anonymousPull === undefined ? {} : { anonymousPull: options.anonymousPull }),
      });
      authBlock = `auth:\n  token:\n    realm: ${issuer.realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${issuer.certificatePath}\n`;
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      throwIfAborted(options.signal);
      const port = options.port ?? (await freePort());
      const configPath = join(root, 'config.yml');
      await writeFile(configPath, configYaml(address, port, dataDir, authBlock, tlsBlock));
      const child = startService('docker-registry', ['serve', configPath]);
      const url = `${options.tls ? 'https' : 'http'}://${address}:${port}`;
      const listening = () => child.output().includes(`listening on ${address}:${port}`);
      const ready = await waitReady(url, ca, child.exit, listening, options.signal, probeClient).catch(
        (err: unknown) => {
          child.kill();
          throw err;
        },
      );
      if (!ready) {
        child.kill();
        if (options.port === undefined && /address already in use/i.test(child.output())) continue;
        throw new UnavailableError(
          `docker-registry did not start (exit ${child.exit() ?? 'none'}): ${truncate(child.output().slice(-2000), 2000)}`,
          {
            details: { exit: child.exit() ?? null, port },
            hint: 'is the docker-registry Debian package installed?',
          },
        );
      }
      let stopped: Promise<void> | undefined;
      const stop = (): Promise<void> => {
        stopped ??= (async () => {
          await child.stop();
          await issuer?.stop();
          await rm(root, { recursive: true, force: true });
        })();
        return stopped;
      };
      const registry: RunningRegistry = {
        url,
        host: `${address}:${port}`,
        auth,
        credentials,
        logs: child.output,
        dataDir,
        stop,
        [Symbol.asyncDispose]: stop,
      };
      if (issuer !== undefined) registry.tokenIssuer = issuer;
      if (caFile !== undefined) registry.caFile = caFile;
      if (pki !== undefined) registry.pki = pki;
      return registry;
    }
    throw new UnavailableError('docker-registry: no free port after 5 attempts');
  } catch (err) {
    await issuer?.stop();
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}
