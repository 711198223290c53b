import { InvalidArgumentError } from '@ocikit/errors';

/** Where an image lives, as written on the command line. */
export type Location =
  | { readonly kind: 'oci'; readonly dir: string; readonly ref: string | undefined }
  | { readonly kind: 'registry'; readonly ref: string };

/**
 * Parses a source or destination argument: `oci:DIR[:REF]` is an OCI layout directory (split at the
 * first `:` after the prefix, as skopeo does), anything else an image reference in a registry.
 */
export function parseLocation(arg: string): Location {
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
