import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLayer } from './apply.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-xattr-'));
// What Debian's ping carries: security.capability = cap_net_raw+ep (VFS_CAP_REVISION_2).
const PING_CAP = '0100000200200000000000000000000000000000';

function setxattr(path: string, name: string, hex: string) {
  execFileSync('python3', [
    '-c',
    `import os,sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]))`,
    path,
    name,
    hex,
  ]);
}
function getxattr(path: string, name: string): string {
  return execFileSync(
    'python3',
    ['-c', `import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).hex())`, path, name],
    {
      encoding: 'utf8',
    },
  ).trim();
}

describe('PAX extended attributes', () => {
  it('restores security.capability (binary) and user.* attributes from a GNU tar --xattrs layer', async () => {
    const src = tmp();
    mkdirSync(join(src, 'bin'));
    writeFileSync(join(src, 'bin', 'ping'), Buffer.alloc(300_000, 7));
    writeFileSync(join(src, 'bin', `${'long-name-'.repeat(12)}file`), 'x');
    setxattr(join(src, 'bin', 'ping'), 'security.capability', PING_CAP);
    setxattr(
      join(src, 'bin', `${'long-name-'.repeat(12)}file`),
      'user.note',
      Buffer.from('héllo\u00ff').toString('hex'),
    );
    const layer = join(tmp(), 'layer.tar');
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=pax', '-cf', layer, '-C', src, '.']);
    const root = tmp();
    const result = await applyLayer(root, createReadStream(layer, { highWaterMark: 4096 }), {
      privileged: true,
    });
    expect(result.skipped).toEqual([]);
    expect(getxattr(join(root, 'bin', 'ping'), 'security.capability')).toBe(PING_CAP);
    expect(getxattr(join(root, 'bin', `${'long-name-'.repeat(12)}file`), 'user.note')).toBe(
      Buffer.from('héllo\u00ff').toString('hex'),
    );
  });
});
