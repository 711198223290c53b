// How Docker's (and Podman's Docker-compatible and libpod) HTTP failures map to the contract's
// standard reasons: by the engine's message first (podman answers 500 where docker answers 404 or
// 409, and both put the same words in the message), then by the HTTP status and what the request
// was about.
import type { Operation } from '../contract.ts';
import type { EngineErrorReason } from '../errors.ts';

/** What a request is about, for a 404 without telling words. */
export type Subject = 'container' | 'image' | 'exec' | 'volume';

const byMessage: readonly [RegExp, EngineErrorReason][] = [
  // a command the runtime cannot start is the caller's input, not the engine failing
  [
    /executable file not found|no such file or directory: OCI|exec format error|permission denied: OCI/i,
    'bad-argument',
  ],
  // before the image and name patterns: podman's "volume is being used by", docker's "volume is in use"
  [/no such volume|volume .*not found|volume with name .* not found/i, 'volume-not-found'],
  [/volume is in use|volume is being used|volume being used/i, 'volume-in-use'],
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
    return 'bad-argument';
  }
  if (status === 409) {
    if (subject === 'image') return 'image-in-use';
    if (subject === 'volume') return 'volume-in-use';
    return operation === 'containers.create' ? 'name-in-use' : 'container-not-running';
  }
  if (status === 400 || status === 422) return 'bad-argument';
  return 'engine-error';
}

/** A short message in the contract's terms for a reason, naming what the request was about. */
export function describe(reason: EngineErrorReason, target: string | undefined, status: number): string {
  const what = target === undefined ? '' : ` ${JSON.stringify(target)}`;
  switch (reason) {
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
