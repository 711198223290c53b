// `ocikit images` measures layers to give podman's sizes (decision 215); a layer it cannot read (its
// blob gone from the store) must not make the whole list fail: that image keeps its stored size.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

let dir: string;
const cli = (args: readonly string[]) => runCli(['--root', join(dir, 'root'), ...args]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocikit-images-missing-blob-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('images with a layer blob missing', () => {
  it('lists the image with its stored size, exit 0', async () => {
    const built = buildBusyboxImage(join(dir, 'layout'), 'busybox');
    const copied = await cli(['copy', `oci:${join(dir, 'layout')}:busybox`, 'local:busybox']);
    expect(copied.code, copied.stderr).toBe(0);
    const blob = (digest: string) => join(dir, 'root', 'content', 'blobs', ...digest.split(':'));
    const layer = built.layers[0] ?? '';
    const stored = statSync(blob(layer)).size;
    rmSync(blob(layer));
    const listed = await cli(['--json', 'images']);
    expect(listed.code, listed.stderr).toBe(0);
    const sizes = (JSON.parse(listed.stdout) as { size: number }[]).map((i) => i.size);
    // the stored sum: manifest, config and the compressed layer (about 1 MB), not the 2 MB tar
    expect(sizes).toHaveLength(1);
    expect(sizes[0]).toBeGreaterThan(stored);
    expect(sizes[0]).toBeLessThan(stored + 10_000);
  }, 120_000);
});
