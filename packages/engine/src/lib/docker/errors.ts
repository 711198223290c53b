// How Docker's (and Podman's Docker-compatible and libpod) HTTP failures map to the contract's
// standard reasons: by the engine's message first (podman answers 500 where docker answers 404 or
// 409, and both put the same words in the message), then by the HTTP status and what the request
// was about.
import type { Operation } from '../contract.ts';
import type { EngineErrorReason } from '../errors.ts';

/** What a request is about, for a 404 without telling words. */
export type Subject = 'container' | 'image' | 'exec' | 'volume' | 'network';

const byMessage: readonly [RegExp, EngineErrorReason][] = [
  // a command the runtime cannot start is the caller's input, not the engine failing
  [
    /executable file not found|no such file or directory: OCI|exec format error|permission denied: OCI/i,
    'bad-argument',
  ],
  // before the image and name patterns: podman's "volume is being used by", docker's "volume is in use"
  [/no such volume|volume .*not found|volume with name .* not found/i, 'volume-not-found'],
  [/volume is in use|volume is being used|volume being used/i, 'volume-in-use'],
  // networks: docker's "network x not found" / "has active endpoints" / "network with name x already
  // exists", podman's "network not found" / "is being used" / "network already exists"; a published
  // port taken: docker's "port is already allocated", podman's "address already in use"
  // dockerd answers 404 when its address pools have no subnet left (`--ipv6` without an IPv6 subnet
  // and no IPv6 pool configured): the caller's to fix by giving a subnet, not a missing network
  [/could not find an available, non-overlapping .*address pool/i, 'bad-argument'],
  [/no such network|network .*not found|network not found|unable to find network/i, 'network-not-found'],
  [
    /has active endpoints|network is being used|network .* is being used|network .* in use by/i,
    'network-in-use',
  ],
  [/network with name .* already exists|network already exists|already used: network/i, 'network-exists'],
  [/port is already allocated|address already in use/i, 'port-in-use'],
  [/no such container|no container with name or id|container .* does not exist/i, 'container-not-found'],
  [/no such exec|no exec session with id/i, 'container-not-found'],
  [
    /no such image|image not known|manifest unknown|manifest for .* not found|repository does not exist|name unknown|not found: (manifest|image)|failed to resolve reference|reference does not exist/i,
    'image-not-found',
  ],
  [/is already in use|name is in use|already in use by/i, 'name-in-use'],
  [
    /unauthorized|authentication required|incorrect username or password|no basic auth credentials|denied: requested access/i,
    'bad-credentials',
  ],
  [/is paused|already paused|unpause the container/i, 'container-paused'],
  [
    /cannot remove a running container|cannot remove container .*running|container .* is running|stop the container before|as it is running/i,
    'container-running',
  ],
  [
    /is not running|not running|cannot attach to a stopped container|can only (kill|pause|attach|exec|unpause) running|container state improper|is not paused/i,
    'container-not-running',
  ],
  // remove without force: a container uses it, or (podman by id) it has several names
  [
    /image is being used|is being used by|image is in use|image used by|must be forced|please force removal/i,
    'image-in-use',
  ],
  [/invalid reference format|invalid argument|repository name must be lowercase/i, 'bad-argument'],
];

/**
 * The standard reason of an engine failure from its HTTP status, its message and what the request
 * was about.
 */
export function reasonFor(
  status: number,
  message: string,
  subject: Subject | undefined,
  operation: Operation | 'connect',
): EngineErrorReason {
  for (const [re, reason] of byMessage) {
    if (re.test(message)) return reason;
  }
  if (status === 401 || status === 403) return 'bad-credentials';
  if (status === 404) {
    if (subject === 'image') return 'image-not-found';
    if (subject === 'container' || subject === 'exec') return 'container-not-found';
    if (subject === 'volume') return 'volume-not-found';
    if (subject === 'network') return 'network-not-found';
    return 'bad-argument';
  }
  if (status === 409) {
    if (subject === 'image') return 'image-in-use';
    if (subject === 'volume') return 'volume-in-use';
    if (subject === 'network') return operation === 'networks.create' ? 'network-exists' : 'network-in-use';
    return operation === 'containers.create' ? 'name-in-use' : 'container-not-running';
  }
  if (status === 400 || status === 422) return 'bad-argument';
  return 'engine-error';
}

/**
 * A short message in the contract's terms for a reason, naming what the request was about (and, for
 * a port in use, the address the engine names in `engineMessage`).
 */
export function describe(
  reason: EngineErrorReason,
  target: string | undefined,
  status: number,
  engineMessage = '',
): string {
  const what = target === undefined ? '' : ` ${JSON.stringify(target)}`;
  switch (reason) {
    case 'network-not-found': {
      // a container's create or start names its image or id: the network is in the engine's words
      const named = /network (?:with name or ID )?"?([\w.-]+)"?:? (?:not found|network not found)/i.exec(
        engineMessage,
      )?.[1];
      return `no network${named ? ` ${JSON.stringify(named)}` : what}`;
    }
    case 'network-in-use':
      return `network${what} is in use`;
    case 'network-exists':
      return `a network${what} exists already`;
    case 'port-in-use': {
      // docker's "Bind for 0.0.0.0:8080 failed", podman's "listen tcp4 :8080: bind"
      const m = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]*\])?:(\d{1,5})\b/i.exec(engineMessage);
      const port = m ? (m[1] ? `${m[1]}:${m[2]}` : m[2]) : undefined;
      return `the host port${port ? ` ${port}` : ''} is already in use${target === undefined ? '' : ` (for${what})`}`;
    }
    case 'container-not-found':
      return `no container${what}`;
    case 'image-not-found':
      return `no image${what}`;
    case 'name-in-use':
      return `the container name${what} is already in use`;
    case 'container-not-running':
      return `container${what} is not running`;
    case 'container-running':
      return `container${what} is running`;
    case 'container-paused':
      return `container${what} is paused`;
    case 'image-in-use':
      return `image${what} is in use`;
    case 'volume-not-found':
      return `no such volume${what}`;
    case 'volume-in-use':
      return `volume${what} is in use`;
    case 'bad-credentials':
      return `the registry refused the credentials${target === undefined ? '' : ` for${what}`}`;
    case 'bad-argument':
      return `the engine refused the request${target === undefined ? '' : ` for${what}`} (HTTP ${status})`;
    default:
      return `the engine failed${target === undefined ? '' : ` on${what}`} (HTTP ${status})`;
  }
}
