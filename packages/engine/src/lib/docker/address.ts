// Engine addresses as Docker spells them (`unix:///var/run/docker.sock`, `tcp://host:2376`), the
// DOCKER_HOST default, and TLS as DOCKER_TLS_VERIFY / DOCKER_TLS / DOCKER_CERT_PATH describe.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import type { HttpTarget, TlsSettings } from './http.ts';

/** How to read an address: which variable names the default and what to fall back on. */
export interface AddressDefaults {
  /** The variable holding the default address (`DOCKER_HOST`, `CONTAINER_HOST`). */
  hostVariable: string;
  /** The address when neither the caller nor the variable gives one. */
  fallback: string;
  /** The environment (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** TLS given by the caller; else from `DOCKER_TLS_VERIFY`/`DOCKER_TLS`/`DOCKER_CERT_PATH`. */
  tls?: TlsSettings | undefined;
}

/**
 * Resolves an engine address into where to connect: `''` or `default` take the host variable
 * (else the fallback); `unix://PATH`, `tcp://HOST:PORT` (TLS when `DOCKER_TLS_VERIFY` or
 * `DOCKER_TLS` is set, with `ca.pem`, `cert.pem`, `key.pem` from `DOCKER_CERT_PATH`, default
 * `~/.docker`), `http://` and `https://` are understood; anything else is `InvalidArgumentError`.
 */
export async function resolveEngineAddress(address: string, defaults: AddressDefaults): Promise<HttpTarget> {
  const env = defaults.env ?? process.env;
  let addr = address.trim();
  if (addr === '' || addr === 'default') addr = env[defaults.hostVariable]?.trim() || defaults.fallback;
  if (addr.startsWith('/')) addr = `unix://${addr}`;
  const scheme = /^([a-z0-9+]+):\/\//i.exec(addr)?.[1]?.toLowerCase();
  if (scheme === 'unix') {
    const path = addr.slice('unix://'.length);
    if (!path.startsWith('/')) throw badAddress(address, 'a unix socket path must be absolute');
    return { origin: 'http://localhost', socketPath: path };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    let url: URL;
    try {
      url = new URL(addr.replace(/^tcp:/i, 'http:'));
    } catch {
      throw badAddress(address, 'not a valid host:port');
    }
    if (!url.hostname || (url.pathname !== '/' && url.pathname !== '')) {
      throw badAddress(address, 'expected scheme://host:port');
    }
    const tls = defaults.tls ?? (scheme === 'http' ? undefined : await tlsFromEnv(env));
    const secure = scheme === 'https' || tls !== undefined;
    const port = url.port || (secure ? '2376' : '2375');
    return {
      origin: `${secure ? 'https' : 'http'}://${url.hostname}:${port}`,
      ...(secure ? { tls: tls ?? {} } : {}),
    };
  }
  throw badAddress(address, 'expected unix://PATH, tcp://HOST:PORT, http:// or https://');
}

/** TLS settings from `DOCKER_TLS_VERIFY` / `DOCKER_TLS` and `DOCKER_CERT_PATH`; undefined for plain TCP. */
async function tlsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Promise<TlsSettings | undefined> {
  const verify = !!env['DOCKER_TLS_VERIFY'];
  if (!verify && !env['DOCKER_TLS']) return undefined;
  const dir = env['DOCKER_CERT_PATH'] || join(homedir(), '.docker');
  const read = async (name: string, required: boolean): Promise<Buffer | undefined> => {
    try {
      return await readFile(join(dir, name));
    } catch (e) {
      if (!required && (e as { code?: string }).code === 'ENOENT') return undefined;
      throw new InvalidArgumentError(`cannot read ${join(dir, name)} for TLS: ${(e as Error).message}`, {
        details: { file: join(dir, name) },
        hint: 'DOCKER_CERT_PATH names the directory of ca.pem, cert.pem and key.pem',
      });
    }
  };
  const [ca, cert, key] = await Promise.all([
    read('ca.pem', verify),
    read('cert.pem', false),
    read('key.pem', false),
  ]);
  return { ca, cert, key, verify };
}

function badAddress(address: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`engine address ${JSON.stringify(truncate(address, 100))}: ${why}`, {
    details: { address: truncate(address, 100) },
  });
}
