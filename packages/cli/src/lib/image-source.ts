import { join } from 'node:path';
import { type OciLayout, openLayout } from '@ocikit/content';
import { InvalidArgumentError } from '@ocikit/errors';
import { parseReference } from '@ocikit/reference';
import type { Context } from './command.ts';
import { parseLocation } from './location.ts';

/** An image on this machine: the layout that holds it, and the name it has there. */
export interface LocalImage {
  layout: OciLayout;
  ref: string;
}

/**
 * Finds a local image: `oci:DIR:REF` names a layout directory; anything else (optionally written
 * `local:REF`) is a reference in the local store (`ROOT/content`), normalized as Docker does (`busybox` → `docker.io/library/busybox:latest`).
 */
export async function openLocalImage(ctx: Context, arg: string): Promise<LocalImage> {
  const loc = parseLocation(arg);
  if (loc.kind === 'oci') {
    const layout = await openLayout(loc.dir, { signal: ctx.signal });
    if (loc.ref !== undefined) return { layout, ref: loc.ref };
    const entries = await layout.list();
    const only = entries.length === 1 ? entries[0] : undefined;
    if (!only) {
      throw new InvalidArgumentError(
        `${loc.dir} holds ${entries.length} images: say which one with oci:DIR:REF`,
        {
          hint: `see 'ocikit ls oci:${loc.dir}'`,
        },
      );
    }
    return { layout, ref: only.annotations?.['org.opencontainers.image.ref.name'] ?? only.digest };
  }
  const ref = parseReference(loc.ref).toString();
  const layout = await openLayout(join(ctx.root, 'content'), { create: true, signal: ctx.signal });
  return { layout, ref };
}
