import {
  isFailedPrecondition,
  isOcikitError,
  isUnauthenticated,
  isUnavailable,
  type OcikitError,
} from '@ocikit/errors';

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
      return "see 'ocikit ps -a'";
    case 'ambiguous':
      return "see 'ocikit ps -a' for names and ids";
    case 'name-in-use':
      return `remove it with 'ocikit rm ${name}', or choose another --name`;
    case 'not-stopped':
      return `or use 'ocikit rm -f ${name}'`;
    case 'runtime-not-installed':
      return 'or give --runtime PATH';
    case 'unreachable':
      return isUnavailable(e) ? 'for a plain-HTTP registry add --plain-http' : undefined;
    case 'credentials-required':
    case 'credentials-refused':
      return isUnauthenticated(e) ? `log in with 'ocikit login ${registryOf(e)}'` : undefined;
    default:
      return isFailedPrecondition(e) && d.reason === 'path-too-long' ? 'or give a shorter --root' : undefined;
  }
}

function registryOf(e: OcikitError): string {
  return typeof e.details.registry === 'string' ? e.details.registry : 'REGISTRY';
}

/** An error's hint as the CLI prints it: the library's, then the CLI's. */
export function hintOf(e: unknown): string | undefined {
  const own = isOcikitError(e) ? e.hint : undefined;
  const cli = cliHint(e);
  return own && cli ? `${own}; ${cli}` : (own ?? cli);
}
