import type { CopyOptions } from '@ocikit/content';
import { InvalidArgumentError } from '@ocikit/errors';
import { parsePlatform } from '@ocikit/image-spec';

/** The flags of commands that copy images. */
export const copyFlags = {
  platform: { type: 'string' },
  'all-platforms': { type: 'boolean' },
  concurrency: { type: 'string' },
} as const;

/** Help text of {@link copyFlags}. */
export const copyFlagsHelp = {
  platform: 'copy only the manifest for os/arch[/variant] from an index',
  'all-platforms': 'copy every manifest of an index (the default for layouts)',
  concurrency: 'blobs transferred at once (default 4)',
} as const;

/** Turns the copy flags into `copy` options. */
export function copyOptionsFrom(values: {
  platform?: string | undefined;
  'all-platforms'?: boolean | undefined;
  concurrency?: string | undefined;
}): Pick<CopyOptions, 'platform' | 'allPlatforms' | 'concurrency'> {
  const out: Pick<CopyOptions, 'platform' | 'allPlatforms' | 'concurrency'> = {};
  if (values.platform && values['all-platforms']) {
    throw new InvalidArgumentError('--platform and --all-platforms cannot be used together');
  }
  if (values.platform) out.platform = parsePlatform(values.platform);
  if (values['all-platforms']) out.allPlatforms = true;
  if (values.concurrency !== undefined) {
    const n = Number(values.concurrency);
    if (!Number.isInteger(n) || n < 1 || n > 64) {
      throw new InvalidArgumentError(
        `--concurrency must be a whole number from 1 to 64, not "${values.concurrency}"`,
      );
    }
    out.concurrency = n;
  }
  return out;
}
