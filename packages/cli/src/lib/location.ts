import { InvalidArgumentError } from '@ocikit/errors';

/** Where an image lives, as written on the command line. */
export type Location =
  | { readonly kind: 'oci'; readonly dir: string; readonly ref: string | undefined }
  | { readonly kind: 'local'; readonly ref: string }
  | { readonly kind: 'registry'; readonly ref: string };

/** The prefix that names the local store (`local:REF`, decision 080 and 083). */
export const LOCAL_PREFIX = 'local:';

/**
 * Parses a source or destination argument: `oci:DIR[:REF]` is an OCI layout directory (split at the
 * first `:` after the prefix, as skopeo does), `local:REF` the local store, anything else a plain
 * image reference (the local store first or a registry, as each command says: decision 083).
 */
export function parseLocation(arg: string): Location {
  if (arg.startsWith(LOCAL_PREFIX)) {
    const ref = arg.slice(LOCAL_PREFIX.length);
    if (ref === '')
      throw new InvalidArgumentError(`"${arg}": no reference after "local:"`, { hint: 'write local:REF' });
    return { kind: 'local', ref };
  }
  if (arg.startsWith('oci:')) {
    const rest = arg.slice(4);
    const i = rest.indexOf(':');
    const dir = i < 0 ? rest : rest.slice(0, i);
    const ref = i < 0 ? undefined : rest.slice(i + 1);
    if (dir === '')
      throw new InvalidArgumentError(`"${arg}": no directory after "oci:"`, { hint: 'write oci:DIR[:REF]' });
    if (ref === '')
      throw new InvalidArgumentError(`"${arg}": empty reference after the directory`, {
        hint: 'write oci:DIR[:REF]',
      });
    return { kind: 'oci', dir, ref };
  }
  if (arg === '') throw new InvalidArgumentError('empty image reference');
  return { kind: 'registry', ref: arg };
}

/** Parses an argument that must name an OCI layout (`oci:DIR[:REF]`). */
export function parseLayoutLocation(arg: string, what: string): { dir: string; ref: string | undefined } {
  const loc = parseLocation(arg);
  if (loc.kind !== 'oci') {
    throw new InvalidArgumentError(`${what} "${arg}" is not an OCI layout`, { hint: 'write oci:DIR[:REF]' });
  }
  return loc;
}

/**
 * The reference an argument names in the local store: `local:REF` or a plain `REF`, as written
 * (not yet normalized). InvalidArgumentError for `oci:…`, which names a layout, not the store.
 */
export function localStoreRef(arg: string, what: string): string {
  const loc = parseLocation(arg);
  if (loc.kind === 'oci') {
    throw new InvalidArgumentError(`${what} "${arg}" is an OCI layout, not an image in the local store`, {
      hint: 'write REF or local:REF',
    });
  }
  return loc.ref;
}

/** A copy source or destination beyond registries, layouts and the local store (decision 142). */
export type TransportLocation =
  | {
      readonly kind: 'archive';
      readonly format: 'docker-archive' | 'oci-archive';
      readonly file: string;
      readonly ref: string | undefined;
    }
  | { readonly kind: 'daemon'; readonly ref: string };

/**
 * Parses `docker-archive:FILE[:REF]`, `oci-archive:FILE[:REF]` (split at the first `:` after the
 * prefix, as skopeo does) and `docker-daemon:NAME`; undefined for anything else.
 */
export function parseTransport(arg: string): TransportLocation | undefined {
  for (const format of ['docker-archive', 'oci-archive'] as const) {
    if (!arg.startsWith(`${format}:`)) continue;
    const rest = arg.slice(format.length + 1);
    const i = rest.indexOf(':');
    const file = i < 0 ? rest : rest.slice(0, i);
    const ref = i < 0 ? undefined : rest.slice(i + 1);
    if (file === '')
      throw new InvalidArgumentError(`"${arg}": no file after "${format}:"`, {
        hint: `write ${format}:FILE[:REF]`,
      });
    if (ref === '')
      throw new InvalidArgumentError(`"${arg}": empty reference after the file`, {
        hint: `write ${format}:FILE[:REF]`,
      });
    return { kind: 'archive', format, file, ref };
  }
  if (arg.startsWith('docker-daemon:')) {
    const ref = arg.slice('docker-daemon:'.length);
    if (ref === '')
      throw new InvalidArgumentError(`"${arg}": no image name after "docker-daemon:"`, {
        hint: 'write docker-daemon:NAME[:TAG]',
      });
    return { kind: 'daemon', ref };
  }
  return undefined;
}
