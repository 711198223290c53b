// `ocikit history` sizes beside podman 4.3's on the same image: each step's size is its layer's
// uncompressed size (podman's UncompressedSize, docker's size on disk), 0 for a step that made no
// layer; the human column is docker's format of those bytes (decision 213).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanSize } from '../lib/format.ts';
import { type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
let host: string;

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  host = join(tmpdir(), `ocikit-history-size-${process.pid}`);
  mkdirSync(join(host, 'context'), { recursive: true });
}, 120_000);

afterAll(async () => {
  await sides?.close();
  if (host) rmSync(host, { recursive: true, force: true });
});

describe('history sizes, ocikit and podman side by side', () => {
  it('an image ocikit built (LABEL, RUN, ENV), loaded into podman: the same uncompressed sizes, 0 for empty layers', async () => {
    const { ocikit, podman } = sides;
    writeFileSync(
      join(host, 'context', 'Containerfile'),
      `FROM ${ocikit.image()}\nLABEL x=y\nRUN echo hi > /f\nENV E=1\n`,
    );
    const built = await ocikit.cli(['build', '-q', '-t', 'sized:1', join(host, 'context')]);
    expect(built.code, built.stderr).toBe(0);
    const layout = join(host, 'layout');
    const copied = await ocikit.cli(['copy', 'local:sized:1', `oci:${layout}:sized`]);
    expect(copied.code, copied.stderr).toBe(0);
    const pulled = await podman.cli(['pull', '-q', `oci:${layout}:sized`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const podmanId = pulled.stdout.trim().split('\n').at(-1) ?? '';

    const theirs = await podman.cli(['history', '--format', 'json', podmanId]);
    expect(theirs.code, theirs.stderr).toBe(0);
    const podmanSizes = (JSON.parse(theirs.stdout) as { size: number }[]).map((e) => e.size);
    const ours = await ocikit.cli(['--json', 'history', 'sized:1']);
    expect(ours.code, ours.stderr).toBe(0);
    const ocikitSizes = (JSON.parse(ours.stdout) as { size: number }[]).map((e) => e.size);
    // ENV and LABEL made no layer; the busybox layer is about 2 MB as tar, 1 MB gzipped
    expect(podmanSizes).toEqual([0, expect.any(Number), 0, expect.any(Number)]);
    expect(podmanSizes[3]).toBeGreaterThan(1_500_000);
    expect(ocikitSizes).toEqual(podmanSizes);

    const formatted = await ocikit.cli(['history', '--format', '{{.Size}}', 'sized:1']);
    expect(formatted.stdout.trim().split('\n')).toEqual(podmanSizes.map((n) => humanSize(n)));
    const bytes = await ocikit.cli(['history', '--human=false', '--format', '{{.Size}}', 'sized:1']);
    expect(bytes.stdout.trim().split('\n')).toEqual(podmanSizes.map(String));
    // a second time, the sizes come from the cache under the root: the same
    const again = await ocikit.cli(['--json', 'history', 'sized:1']);
    expect((JSON.parse(again.stdout) as { size: number }[]).map((e) => e.size)).toEqual(podmanSizes);
  }, 120_000);
});
