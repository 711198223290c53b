import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { exportGpgSecretKey } from './gpg.ts';

describe('exportGpgSecretKey', () => {
  // regression: a gpg that ended before reading its passphrase made the write to its stdin fail with
  // EPIPE, an uncaught error that failed the whole test run (seen in CI)
  it('reports a gpg that exits without reading stdin by its exit code, not an uncaught EPIPE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocikit-gpg-'));
    const gpg = join(dir, 'gpg');
    writeFileSync(gpg, '#!/bin/sh\necho "gpg: no agent" >&2\nexit 2\n');
    chmodSync(gpg, 0o755);
    // more than a pipe holds, so the write cannot finish before gpg has gone
    const passphrase = 'x'.repeat(1 << 20);
    await expect(exportGpgSecretKey('ABCDEF0123456789', { gpg, passphrase })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining('failed (exit 2): gpg: no agent'),
    });
  });

  it('refuses a key spec that could be taken for an option', async () => {
    await expect(exportGpgSecretKey('--homedir=/x')).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
  });
});
