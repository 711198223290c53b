import {
  isFailedPrecondition,
  isOcikitError,
  isUnauthenticated,
  isUnavailable,
  type OcikitError,
} from '@ocikit/errors';
import type { Context } from './command.ts';

/**
 * What the CLI adds to a library error's own hint: the command or flag that helps, chosen by the
 * error's kind and `details.reason`. The libraries say what failed in their own terms and never
 * name ocikit's commands or flags (decision 109).
 */
export function cliHint(e: unknown): string | undefined {
  if (!isOcikitError(e)) return undefined;
  const d = e.details;
  const name = typeof d.name === 'string' ? d.name : 'NAME';
  switch (d.reason) {
    case 'no-such-container':
    case 'container-not-found':
      return "see 'ocikit ps -a'";
    case 'ambiguous':
      return "see 'ocikit ps -a' for names and ids";
    case 'bad-argument':
      // an id prefix of several containers (the engine's ambiguous reference)
      return typeof d.matches === 'number' &&
        typeof d.operation === 'string' &&
        d.operation.startsWith('containers.')
        ? "see 'ocikit ps -a' for names and ids"
        : undefined;
    case 'name-in-use':
      return `remove it with 'ocikit rm ${name}', or choose another --name`;
    case 'not-stopped':
      return `or use 'ocikit rm -f ${name}'`;
    case 'container-running':
      return d.operation === 'containers.remove' ? `or use 'ocikit rm -f ${name}'` : undefined;
    case 'no-such-image':
    case 'image-not-found':
      return "see 'ocikit images'";
    case 'image-in-use':
      return typeof d.image === 'string' ? `or use 'ocikit rmi -f ${d.image}'` : undefined;
    case 'network-not-found':
      return "see 'ocikit network ls'";
    case 'network-exists':
      return "choose another name, or see 'ocikit network ls'";
    case 'network-in-use':
      return "see its containers with 'ocikit network inspect'";
    case 'port-in-use':
      return "publish another host port (-p HOST-PORT:PORT), or leave it out for a free one; see 'ocikit ps' for PORTS";
    case 'runtime-not-installed':
      return 'or give --runtime PATH';
    case 'unreachable':
      // after a plain-HTTP attempt (--plain-http, or a loopback registry) that flag cannot help
      return isUnavailable(e) && !triedPlainHttp(e)
        ? 'for a plain-HTTP registry add --plain-http'
        : undefined;
    case 'credentials-required':
    case 'credentials-refused':
    case 'bad-credentials': {
      if (!isUnauthenticated(e)) return undefined;
      const registry = registryOf(e);
      return registry
        ? `log in with 'ocikit login ${registry}'`
        : "log in with 'ocikit login' and the registry's host";
    }
    default:
      return isFailedPrecondition(e) && d.reason === 'path-too-long' ? 'or give a shorter --root' : undefined;
  }
}

/** The registry an error names: `details.registry`, else the host of `details.url`. */
function registryOf(e: OcikitError): string | undefined {
  if (typeof e.details.registry === 'string') return e.details.registry;
  const url = urlOf(e);
  // Docker Hub's API host is logged in to as docker.io
  return url && (url.host === 'registry-1.docker.io' ? 'docker.io' : url.host);
}

function urlOf(e: OcikitError): URL | undefined {
  return typeof e.details.url === 'string' && URL.canParse(e.details.url)
    ? new URL(e.details.url)
    : undefined;
}

function triedPlainHttp(e: OcikitError): boolean {
  return urlOf(e)?.protocol === 'http:';
}

/** An error's hint as the CLI prints it: the library's, then the CLI's. */
export function hintOf(e: unknown): string | undefined {
  const own = isOcikitError(e) ? e.hint : undefined;
  const cli = cliHint(e);
  return own && cli ? `${own}; ${cli}` : (own ?? cli);
}

/**
 * An error's message without the `local: OPERATION: ` an engine error of the local engine starts
 * with: the default engine's errors read as the CLI's own (decision 134); other engines' keep it.
 */
function withoutLocalPrefix(e: Error): string {
  if (!isOcikitError(e) || e.details.engine !== 'local' || typeof e.details.operation !== 'string')
    return e.message;
  const prefix = `local: ${e.details.operation}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

/** Prints an error as one line with its hint, or with its stack under `--debug`. */
export function reportError(stderr: Context['stderr'], e: unknown, debug: boolean): void {
  if (debug) {
    stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    if (e instanceof Error && e.cause)
      stderr.write(`caused by: ${String((e.cause as Error).stack ?? e.cause)}\n`);
    return;
  }
  const message = e instanceof Error ? withoutLocalPrefix(e) : String(e);
  const prefix = message.startsWith('ocikit') ? '' : 'ocikit: ';
  const hints = hintOf(e);
  const hint = hints ? ` (${hints})` : '';
  stderr.write(`${prefix}${message}${hint}\n`);
}
