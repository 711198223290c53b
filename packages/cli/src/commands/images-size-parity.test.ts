// `ocikit images` and `inspect` sizes beside podman 4.3's on the same image (decision 215): the
// layers' uncompressed sizes, plus the config and the manifest as podman's storage counts them.
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
}, 120_000);

afterAll(async () => {
  await sides?.close();
});

describe('image sizes, ocikit and podman side by side', () => {
  it('images and inspect give the size podman gives the same image, the second time too', async () => {
    const { ocikit, podman } = sides;
    const theirs = await podman.cli(['images', '--format', 'json']);
    expect(theirs.code, theirs.stderr).toBe(0);
    const podmanSize = (JSON.parse(theirs.stdout) as { Size: number }[])[0]?.Size;
    const inspected = await podman.cli(['image', 'inspect', '--format', '{{.Size}}', podman.image()]);
    expect(inspected.stdout.trim()).toBe(String(podmanSize));
    // the busybox layer is about 2 MB as tar, 1 MB gzipped
    expect(podmanSize).toBeGreaterThan(1_500_000);

    for (const attempt of ['measured', 'cached']) {
      const ours = await ocikit.cli(['--json', 'images']);
      expect(ours.code, ours.stderr).toBe(0);
      expect(
        (JSON.parse(ours.stdout) as { size: number }[]).map((i) => i.size),
        attempt,
      ).toEqual([podmanSize]);
    }
    const ourInspect = await ocikit.cli(['inspect', '--format', '{{.Size}}', 'busybox']);
    expect(ourInspect.code, ourInspect.stderr).toBe(0);
    expect(ourInspect.stdout.trim()).toBe(String(podmanSize));
  }, 120_000);
});
