import { parseReference } from '@ocikit/reference';

/** The exit code of a command interrupted by a signal, as shells report it: 128 + its number. */
export function interruptedExitCode(signal: 'SIGINT' | 'SIGTERM'): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/**
 * What was interrupted, for the one line printed when a signal stops a command: the command and
 * its first argument, a reference normalized (`pull of docker.io/library/x:1 interrupted`).
 */
export function interruptedMessage(command: string, positionals: readonly string[]): string {
  const first = positionals[0];
  if (first === undefined) return `${command} interrupted`;
  let what = first;
  try {
    what = parseReference(first).toString();
  } catch {
    // not a reference (a container, a path, oci:DIR): shown as written
  }
  return `${command} of ${what} interrupted`;
}
