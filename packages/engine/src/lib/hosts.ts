import { InvalidArgumentError } from '@ocikit/errors';

/** Which driver an engine address is for. */
export type HostDriver = 'docker' | 'podman' | 'local';

/** Where an engine address came from, in the order they are looked at. */
export type HostSource = 'flag' | 'CONTAINER_HOST' | 'DOCKER_HOST' | 'default';

/** An engine address resolved to a driver (see {@link resolveHost}). */
export interface ResolvedHost {
  /** The driver that speaks to it. */
  driver: HostDriver;
  /**
   * The address in that driver's own scheme, without a driver prefix: `unix:///run/docker.sock`,
   * `tcp://host:2375`, `local:` or `local:/var/lib/ocikit`.
   */
  address: string;
  /** Where it came from. */
  source: HostSource;
}

/** What {@link resolveHost} looks at. */
export interface HostInput {
  /** An address given on the command line (`--host`/`-H`); wins over the environment. */
  host?: string | undefined;
  /** The environment to read `CONTAINER_HOST` and `DOCKER_HOST` from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The address when nothing names one (default `local:`, ocikit's own engine). */
  defaultAddress?: string | undefined;
}

const prefixes: Readonly<Record<string, HostDriver>> = { docker: 'docker', podman: 'podman' };

/**
 * Resolves which engine a client talks to, as the docker and podman CLIs do: the `host` given on
 * the command line, else `$CONTAINER_HOST` (podman's variable: the podman driver), else
 * `$DOCKER_HOST` (the docker driver), else `defaultAddress` (`local:`, the daemonless engine). Empty
 * variables count as unset.
 *
 * Addresses: `unix:///path/to.sock` and `tcp://host[:port]` are spoken to with the docker driver
 * (Docker's Engine API, which podman's service speaks too), unless they came from `CONTAINER_HOST`
 * or carry a driver prefix: `podman+unix:///run/podman/podman.sock` picks the podman (libpod)
 * driver, `docker+unix://…` the docker one wherever it came from (decision 137). `local:` and
 * `local:/absolute/dir` name ocikit's own engine on that state root.
 *
 * @throws InvalidArgumentError for an address that is none of these (a bare path, `ssh://`, a
 *   relative `local:` root, a `tcp://` without a host), naming where it came from.
 *
 * @example
 * ```ts
 * resolveHost({ host: 'podman+unix:///run/podman/podman.sock' });
 * // → { driver: 'podman', address: 'unix:///run/podman/podman.sock', source: 'flag' }
 * resolveHost({ env: { DOCKER_HOST: 'tcp://127.0.0.1:2375' } });
 * // → { driver: 'docker', address: 'tcp://127.0.0.1:2375', source: 'DOCKER_HOST' }
 * ```
 */
export function resolveHost(input: HostInput = {}): ResolvedHost {
  const env = input.env ?? process.env;
  const candidates: [HostSource, string | undefined, HostDriver][] = [
    ['flag', input.host, 'docker'],
    ['CONTAINER_HOST', env['CONTAINER_HOST'], 'podman'],
    ['DOCKER_HOST', env['DOCKER_HOST'], 'docker'],
  ];
  for (const [source, value, implied] of candidates) {
    if (value !== undefined && value !== '') return parseHost(value, source, implied);
  }
  return parseHost(input.defaultAddress ?? 'local:', 'default', 'local');
}

function where(source: HostSource): string {
  if (source === 'flag') return '--host';
  if (source === 'default') return 'the default engine address';
  return `$${source}`;
}

const hint =
  'write unix:///path/to/engine.sock, tcp://HOST:PORT, podman+unix:///run/podman/podman.sock ' +
  'for the podman driver, or local: / local:/state/root for the daemonless engine';

function parseHost(value: string, source: HostSource, implied: HostDriver): ResolvedHost {
  const bad = (why: string) =>
    new InvalidArgumentError(`${where(source)}: ${JSON.stringify(value)} ${why}`, { hint });
  if (value.startsWith('local:')) {
    const path = value.slice('local:'.length).replace(/^\/\/(?=\/)/, '');
    if (path !== '' && !path.startsWith('/')) throw bad('names a relative state root');
    return { driver: 'local', address: value, source };
  }
  const m = /^(?:([a-z]+)\+)?([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(value);
  if (!m) throw bad('is not an engine address');
  const [, prefix, scheme = '', rest = ''] = m;
  let driver: HostDriver = implied === 'local' ? 'docker' : implied;
  if (prefix !== undefined) {
    const named = prefixes[prefix.toLowerCase()];
    if (named === undefined) throw bad(`names an unknown driver "${prefix}" (docker or podman)`);
    driver = named;
  }
  const lower = scheme.toLowerCase();
  if (lower === 'unix') {
    if (!rest.startsWith('/')) throw bad('needs an absolute socket path (unix:///path/to.sock)');
    return { driver, address: `unix://${rest}`, source };
  }
  if (lower === 'tcp') {
    let url: URL;
    try {
      url = new URL(`http://${rest}`);
    } catch {
      throw bad('is not a valid host:port');
    }
    if (url.hostname === '') throw bad('has no host name');
    if (url.pathname !== '/' && url.pathname !== '') throw bad('has a path; give tcp://HOST:PORT only');
    return { driver, address: `tcp://${rest.replace(/\/$/, '')}`, source };
  }
  throw bad(`uses the ${scheme}:// scheme, which ocikit does not speak (unix://, tcp://, local:)`);
}
