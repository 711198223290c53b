import type { CopyOptions } from '@ocikit/content';
import { InvalidArgumentError } from '@ocikit/errors';
import { parsePlatform } from '@ocikit/image-spec';

/**
 * Blobs a command transfers at once unless `--concurrency` says otherwise. Eight, not the library's
 * four: with fsyncs queueing behind each other, pulling 40 small layers took 486 → 454 ms (with
 * libuv's pool widened to 16 threads by the executable; 10 interleaved runs, docs/benchmarks.md).
 */
export const DEFAULT_CONCURRENCY = 8;

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
  concurrency: `blobs transferred at once (default ${DEFAULT_CONCURRENCY})`,
} as const;

/** Turns the copy flags into `copy` options. */
export function copyOptionsFrom(values: {
  platform?: string | undefined;
  'all-platforms'?: boolean | undefined;
  concurrency?: string | undefined;
}): Pick<CopyOptions, 'platform' | 'allPlatforms' | 'concurrency'> {
  const out: Pick<CopyOptions, 'platform' | 'allPlatforms' | 'concurrency'> = {
    concurrency: DEFAULT_CONCURRENCY,
  };
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
