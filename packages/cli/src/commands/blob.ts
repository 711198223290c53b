import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type OciLayout, openLayout } from '@ocikit/content';
import { parseDigest } from '@ocikit/digest';
import { InvalidArgumentError, NotFoundError } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { openRepository } from '@ocikit/registry';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { parseLocation } from '../lib/location.ts';
import { openStore, registryFlags, registryFlagsHelp, transportFor } from '../lib/registry.ts';

/** `ocikit blob REF@DIGEST`: one blob's bytes to stdout, verified. */
export const blobCommand = defineCommand({
  name: 'blob',
  summary: 'Write one blob of a repository to stdout',
  usage: 'ocikit blob [flags] REPO@DIGEST | oci:DIR:DIGEST | local:[REPO@]DIGEST',
  description:
    'The bytes are verified against the digest as they stream; a mismatch fails with a data-loss error.',
  options: registryFlags,
  help: registryFlagsHelp,
  async run(ctx, { values, positionals }) {
    expectPositionals(blobCommand, positionals, 1);
    const arg = positionals[0] ?? '';
    const loc = parseLocation(arg);
    if (loc.kind !== 'registry') {
      // a layout's or the local store's blob: by its digest alone (local:REPO@DIGEST as well)
      const digest = parseDigest((loc.ref ?? '').replace(/^.*@/, ''));
      const layout =
        loc.kind === 'oci' ? await openLayout(loc.dir, { signal: ctx.signal }) : await openStore(ctx);
      const desc = await layoutBlob(layout, digest);
      await pipeline(await layout.fetch(desc, { signal: ctx.signal }), ctx.stdout);
      return 0;
    }
    const ref = parseReference(arg);
    if (ref.digest === undefined) {
      throw new InvalidArgumentError(`ocikit blob: "${arg}" names no digest`, {
        hint: 'write REPO@sha256:…',
      });
    }
    const transport = transportFor(ctx, values);
    try {
      const repo = openRepository(ref, { transport });
      const desc = await repo.statBlob(ref.digest, { signal: ctx.signal });
      await pipeline(await repo.fetch(desc, { signal: ctx.signal }), ctx.stdout);
      return 0;
    } finally {
      await transport.close();
    }
  },
});

async function layoutBlob(layout: OciLayout, digest: ReturnType<typeof parseDigest>): Promise<Descriptor> {
  const [algorithm, encoded] = digest.split(':') as [string, string];
  try {
    const st = await stat(join(layout.path, 'blobs', algorithm, encoded));
    return { mediaType: 'application/octet-stream', digest, size: st.size };
  } catch {
    throw new NotFoundError(`blob ${digest} is not in ${layout.path}`);
  }
}
