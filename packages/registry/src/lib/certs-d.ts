// Per-registry TLS from certs.d directories, as podman, skopeo and docker read them
// (containers/image's dockerCertDir and tlsclientconfig.SetupCertificates; decision 061):
// `ROOT/HOST[:PORT]/` with `*.crt` CA certificates (added to the system's) and `*.cert` + `*.key`
// client certificate pairs for mutual TLS.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@ocikit/errors';

/** TLS material for one registry. */
export interface RegistryTls {
  /** The directory it came from. */
  readonly dir: string;
  /** Extra trusted CA certificates (PEM), to add to the system's. */
  readonly ca: readonly string[];
  /** Client certificate chains (PEM), each with its `key` at the same index. */
  readonly cert: readonly string[];
  /** Private keys (PEM) of the client certificates. */
  readonly key: readonly string[];
}

/**
 * The certs.d roots searched for `HOST[:PORT]` directories, first found wins:
 * `$HOME/.config/containers/certs.d`, `/etc/containers/certs.d`, `/etc/docker/certs.d`.
 */
export function defaultCertsDirs(env: Record<string, string | undefined> = process.env): string[] {
  const home = env['HOME'];
  return [
    ...(home ? [join(home, '.config/containers/certs.d')] : []),
    '/etc/containers/certs.d',
    '/etc/docker/certs.d',
  ];
}

function code(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

/**
 * Reads one certs directory: every `*.crt` is a CA, every `*.cert` needs a `*.key` of the same
 * base name (and the other way round). Undefined when the directory does not exist (or may not be
 * read); InvalidArgumentError naming the file when a pair is incomplete or a file cannot be read.
 */
export async function readCertsDir(dir: string): Promise<RegistryTls | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if (code(e) === 'ENOENT' || code(e) === 'EACCES' || code(e) === 'ENOTDIR') return undefined;
    throw new InvalidArgumentError(`cannot read the certificates directory ${dir}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`cannot read ${join(dir, name)}: ${(e as Error).message}`, { cause: e });
    }
  };
  const ca: string[] = [];
  const cert: string[] = [];
  const key: string[] = [];
  for (const name of names) {
    if (name.endsWith('.crt')) ca.push(await read(name));
    else if (name.endsWith('.cert')) {
      const keyName = `${name.slice(0, -'.cert'.length)}.key`;
      if (!names.includes(keyName)) {
        throw new InvalidArgumentError(`missing key ${keyName} for client certificate ${name} in ${dir}`, {
          hint: 'CA certificates take the extension .crt; a client certificate NAME.cert needs its key NAME.key',
        });
      }
      cert.push(await read(name));
      key.push(await read(keyName));
    } else if (name.endsWith('.key')) {
      const certName = `${name.slice(0, -'.key'.length)}.cert`;
      if (!names.includes(certName)) {
        throw new InvalidArgumentError(`missing client certificate ${certName} for key ${name} in ${dir}`);
      }
    }
  }
  return { dir, ca, cert, key };
}

/** Where {@link certsFor} looks. */
export interface CertsLookup {
  /** One directory for every registry, as podman's `--cert-dir` (the per-host roots are then not read). */
  readonly certDir?: string | undefined;
  /** Roots holding `HOST[:PORT]` directories (default {@link defaultCertsDirs}). */
  readonly certsDirs?: readonly string[] | undefined;
}

/**
 * The TLS material for a registry (`host[:port]` as the user wrote it, `docker.io` for Docker Hub):
 * from `certDir` when given, else the first `ROOT/host[:port]` directory that exists. Undefined when
 * there is none.
 */
export async function certsFor(registry: string, lookup: CertsLookup = {}): Promise<RegistryTls | undefined> {
  if (lookup.certDir !== undefined) return readCertsDir(lookup.certDir);
  for (const root of lookup.certsDirs ?? defaultCertsDirs()) {
    const found = await readCertsDir(join(root, registry));
    if (found) return found;
  }
  return undefined;
}
