// A layer's uncompressed size is recorded where it is known anyway (decision 215): when `run`
// applies it into a snapshot, and when `commit` writes it — so `images` and `history` need not
// decompress it. The recorded size is the decompressed blob's length.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

let dir: string;
const cli = (args: readonly string[]) => runCli(['--root', join(dir, 'root'), ...args]);
const entry = (diffId: string) => join(dir, 'root', 'layer-sizes', diffId.replace(':', '-'));
const blob = (digest: string) => join(dir, 'root', 'content', 'blobs', ...digest.split(':'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocikit-layer-sizes-recorded-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('layer sizes recorded at unpack and commit', () => {
  it('run records the image layer it applies; commit the layer it writes', async () => {
    const built = buildBusyboxImage(join(dir, 'layout'), 'busybox');
    const copied = await cli(['copy', `oci:${join(dir, 'layout')}:busybox`, 'local:busybox']);
    expect(copied.code, copied.stderr).toBe(0);
    const [diffId] = built.diffIds;
    const [layer] = built.layers;
    expect(existsSync(entry(diffId ?? ''))).toBe(false);

    const ran = await cli(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo hi > /f']);
    expect(ran.code, ran.stderr).toBe(0);
    const measured = gunzipSync(readFileSync(blob(layer ?? ''))).length;
    expect(readFileSync(entry(diffId ?? ''), 'utf8').trim()).toBe(String(measured));

    const committed = await cli(['commit', 'writer', 'written:1']);
    expect(committed.code, committed.stderr).toBe(0);
    const layers = await cli(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'written:1']);
    const own = (JSON.parse(layers.stdout) as string[])[1] ?? '';
    expect(existsSync(entry(own))).toBe(true);
    const ownBlob = (
      JSON.parse((await cli(['manifest', 'local:written:1'])).stdout) as { layers: { digest: string }[] }
    ).layers[1]?.digest;
    expect(readFileSync(entry(own), 'utf8').trim()).toBe(
      String(gunzipSync(readFileSync(blob(ownBlob ?? ''))).length),
    );
    await cli(['rm', '-f', 'writer']);
  }, 120_000);
});
