import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  createReadStream,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOfSync } from '@ocikit/digest';
import { describe, expect, it } from 'vitest';
import { applyLayer } from './apply.ts';
import { diffDirectories, diffOverlayUpper } from './diff.ts';
import { describeTree } from './test-image.ts';
import { getXattrHex, setXattrHex } from './test-xattr.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-diff-'));

function before(dir: string) {
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/keep'), 'same');
  writeFileSync(join(dir, 'etc/change'), 'old');
  writeFileSync(join(dir, 'etc/chmod'), 'mode', { mode: 0o644 });
  writeFileSync(join(dir, 'etc/gone'), 'bye');
  mkdirSync(join(dir, 'tree/deep'), { recursive: true });
  writeFileSync(join(dir, 'tree/deep/file'), 'x');
  symlinkSync('etc/keep', join(dir, 'link'));
  symlinkSync('etc/keep', join(dir, 'relink'));
  writeFileSync(join(dir, 'was-file'), 'file');
}

function after(dir: string) {
  before(dir);
  writeFileSync(join(dir, 'etc/change'), 'new content');
  chmodSync(join(dir, 'etc/chmod'), 0o600);
  rmSync(join(dir, 'etc/gone'));
  rmSync(join(dir, 'tree'), { recursive: true });
  rmSync(join(dir, 'relink'));
  symlinkSync('etc/change', join(dir, 'relink'));
  rmSync(join(dir, 'was-file'));
  mkdirSync(join(dir, 'was-file'));
  writeFileSync(join(dir, 'was-file/inside'), 'now a dir');
  mkdirSync(join(dir, 'new'));
  writeFileSync(join(dir, 'new/a'), 'a');
  linkSync(join(dir, 'new/a'), join(dir, 'new/a-link'));
  execFileSync('mkfifo', [join(dir, 'new/pipe')]);
  execFileSync('mknod', [join(dir, 'new/null'), 'c', '1', '3']);
}

describe('diffDirectories', () => {
  it.each(['gzip', 'zstd'] as const)(
    'round-trips with %s: applying diff(A, B) onto A gives B',
    async (compression) => {
      const a = tmp();
      const b = tmp();
      before(a);
      after(b);
      // Same times for the unchanged files, so only real changes go into the layer.
      for (const d of [a, b])
        for (const f of ['etc/keep', 'etc/chmod', 'etc/change']) utimesSync(join(d, f), 1e9, 1e9);
      const out = join(tmp(), 'layer');
      const result = await diffDirectories(a, b, out, { compression });
      const bytes = readFileSync(out);
      expect(result.descriptor.digest).toBe(digestOfSync(bytes));
      expect(result.descriptor.size).toBe(bytes.byteLength);
      const c = tmp();
      execFileSync('cp', ['-a', `${a}/.`, c]);
      const applied = await applyLayer(c, createReadStream(out), {
        mediaType: result.descriptor.mediaType,
        diffId: result.diffId,
      });
      expect(applied.diffId).toBe(result.diffId);
      expect(describeTree(c)).toEqual(describeTree(b));
      // Unchanged entries are not in the layer: keep, link, and the unchanged directory etc itself.
      const names = execFileSync('tar', ['-tf', out, compression === 'zstd' ? '--zstd' : '-z'], {
        encoding: 'utf8',
      });
      expect(names).not.toMatch(/^etc\/keep$/m);
      expect(names).toMatch(/^etc\/\.wh\.gone$/m);
      expect(names).toMatch(/^\.wh\.tree$/m);
      expect(names).not.toMatch(/^tree\/deep/m);
    },
  );

  it('is reproducible: the same trees give the same digest, with times clamped to SOURCE_DATE_EPOCH', async () => {
    const a = tmp();
    const b1 = tmp();
    const b2 = tmp();
    before(a);
    after(b1);
    after(b2);
    // Trees built a second apart differ in mtimes, which is a change; make them the same trees.
    // (Regression: this test was flaky when the three trees straddled a second boundary.)
    for (const d of [a, b1, b2])
      execFileSync('find', [d, '-exec', 'touch', '-h', '-d', '@1000000000', '{}', '+']);
    const d1 = await diffDirectories(a, b1, join(tmp(), 'l1'), { clampTime: 1_000_000 });
    const d2 = await diffDirectories(a, b2, join(tmp(), 'l2'), { clampTime: 1_000_000 });
    expect(d1.diffId).toBe(d2.diffId);
    expect(d1.descriptor.digest).toBe(d2.descriptor.digest);
  });

  it('of a directory against nothing is the whole tree', async () => {
    const b = tmp();
    after(b);
    const out = join(tmp(), 'full');
    const r = await diffDirectories(join(tmp(), 'missing'), b, out);
    const c = tmp();
    await applyLayer(c, createReadStream(out), { diffId: r.diffId });
    expect(describeTree(c)).toEqual(describeTree(b));
  });
});

describe('diffDirectories and extended attributes', () => {
  it('carries xattrs (binary security.capability, long names) into the layer, and round-trips them', async () => {
    const a = tmp();
    const b = tmp();
    mkdirSync(join(b, 'bin'));
    writeFileSync(join(b, 'bin', 'ping'), 'ping');
    const long = `${'deep-directory-name/'.repeat(6)}file`;
    mkdirSync(join(b, long, '..'), { recursive: true });
    writeFileSync(join(b, long), 'long');
    setXattrHex(join(b, 'bin', 'ping'), 'security.capability', '0100000200200000000000000000000000000000');
    setXattrHex(join(b, long), 'user.note', Buffer.from('\u00ff\u0000x').toString('hex'));
    const out = join(tmp(), 'layer');
    const r = await diffDirectories(a, b, out);
    const c = tmp();
    const applied = await applyLayer(c, createReadStream(out), { diffId: r.diffId });
    expect(applied.skipped).toEqual([]);
    // the tar's length, as the apply counts it
    expect(r.size).toBe(applied.size);
    const get = getXattrHex;
    expect(get(join(c, 'bin', 'ping'), 'security.capability')).toBe(
      '0100000200200000000000000000000000000000',
    );
    expect(get(join(c, long), 'user.note')).toBe(Buffer.from('\u00ff\u0000x').toString('hex'));
    expect(describeTree(c)).toEqual(describeTree(b));
    // GNU tar reads the same layer's names (our PAX header is standard).
    expect(execFileSync('tar', ['-tzf', out], { encoding: 'utf8' })).toContain(long);
  });

  it('emits a file whose only change is an extended attribute', async () => {
    const a = tmp();
    writeFileSync(join(a, 'ping'), 'ping');
    const b = tmp();
    execFileSync('cp', ['-a', join(a, 'ping'), join(b, 'ping')]);
    setXattrHex(join(b, 'ping'), 'security.capability', '0100000200200000000000000000000000000000');
    const out = join(tmp(), 'layer');
    const r = await diffDirectories(a, b, out);
    expect(r.entries).toBe(1);
    expect(execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim()).toBe('ping');
    const same = await diffDirectories(a, a, join(tmp(), 'empty'));
    expect(same.entries).toBe(0);
  });
});

describe('diffOverlayUpper', () => {
  it('writes an overlay upper dir (0/0 whiteouts, opaque dir) as a layer that rebuilds the merged tree', async () => {
    const lower = tmp();
    before(lower);
    const upper = tmp();
    const work = tmp();
    const merged = tmp();
    execFileSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
      merged,
    ]);
    let want: string[];
    try {
      rmSync(join(merged, 'etc/gone'));
      rmSync(join(merged, 'tree'), { recursive: true });
      mkdirSync(join(merged, 'tree'));
      writeFileSync(join(merged, 'tree/new'), 'fresh');
      writeFileSync(join(merged, 'etc/change'), 'new content');
      chmodSync(join(merged, 'etc/chmod'), 0o600);
      writeFileSync(join(merged, 'added'), 'added');
      linkSync(join(merged, 'added'), join(merged, 'added-link'));
      want = describeTree(merged);
    } finally {
      execFileSync('umount', [merged]);
    }
    const out = join(tmp(), 'layer');
    const r = await diffOverlayUpper(upper, out);
    const names = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toContain('etc/.wh.gone');
    expect(names).toContain('tree/.wh..wh..opq');
    expect(names).not.toContain('etc/keep');
    const pax = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-tvvzf', out], { encoding: 'utf8' });
    expect(pax).not.toContain('trusted.overlay');
    const target = tmp();
    execFileSync('cp', ['-a', `${lower}/.`, target]);
    await applyLayer(target, createReadStream(out), { diffId: r.diffId });
    expect(describeTree(target)).toEqual(want);
  });
});

describe('diffDirectories and large ids', () => {
  it('writes owners past the ustar field (uid 3000000) as PAX records that apply restores', async () => {
    const a = tmp();
    const b = tmp();
    writeFileSync(join(b, 'owned'), 'x');
    execFileSync('chown', ['3000000:3000001', join(b, 'owned')]);
    const out = join(tmp(), 'layer');
    const r = await diffDirectories(a, b, out);
    expect(execFileSync('tar', ['-tvzf', out, '--numeric-owner'], { encoding: 'utf8' })).toContain(
      '3000000/3000001',
    );
    const c = tmp();
    await applyLayer(c, createReadStream(out), { diffId: r.diffId, privileged: true });
    expect(describeTree(c)).toEqual(describeTree(b));
  });
});
