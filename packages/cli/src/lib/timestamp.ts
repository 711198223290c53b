// Times given on the command line, as docker's and podman's `timetype.GetTimestamp` reads them.
import { InvalidArgumentError } from '@ocikit/errors';

/**
 * A time as docker and podman take it (`events --since/--until`, `--filter until=`): a duration before now (`10m`, `1h30m`, `45s`), Unix
 * seconds (`1700000000`, `1700000000.5`) or an RFC 3339 time; milliseconds since the epoch.
 */
export function parseTimestamp(value: string, flag: string, now = Date.now()): number {
  const duration = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (duration && value !== '') {
    const [, h = '0', m = '0', sec = '0'] = duration;
    return now - ((Number(h) * 60 + Number(m)) * 60 + Number(sec)) * 1000;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const time = Date.parse(value);
  if (Number.isNaN(time))
    throw new InvalidArgumentError(
      `${flag} must be a duration (10m), Unix seconds or an RFC 3339 time, not ${JSON.stringify(value)}`,
    );
  return time;
}
