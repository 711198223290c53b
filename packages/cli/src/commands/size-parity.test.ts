// Sizes beside podman 4.3's on the same image, loaded into both: `images` and `inspect` (decision
// 215: the layers' uncompressed sizes, plus the config and the manifest as podman's storage counts
// them) and `ps -s` (decision 216: what a container wrote, apparent sizes with a hard link once, and
// its image's files as `virtual`).
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanSize } from '../lib/format.ts';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

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

// 5000 bytes, a 6-byte file hard-linked once more, and a 4-byte symbolic link: 5010 bytes written
const writes =
  'dd if=/dev/zero of=/tmp/f bs=1000 count=5 2>/dev/null; mkdir /d; echo hello > /d/x; ln /d/x /d/y; ln -s /d/x /d/z';

async function ok(s: Side, args: string[]): Promise<string> {
  const r = await s.cli(args);
  expect(r.code, `${s.name} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('ps -s, ocikit and podman side by side', () => {
  it('the files a container wrote and its image, in --json and in {{.Size}}; a container that wrote nothing', async () => {
    await sides.both(async (s) => {
      await ok(s, ['run', ...s.runFlags, '--name', 'wrote', s.image(), 'sh', '-c', writes]);
      await ok(s, ['run', ...s.runFlags, '--name', 'quiet', s.image(), 'true']);
    });
    const theirs = JSON.parse(await ok(sides.podman, ['ps', '-a', '-s', '--format', 'json'])) as {
      Names: string[];
      Size: { rwSize: number; rootFsSize: number };
    }[];
    const podman = (name: string) => theirs.find((c) => c.Names[0] === name)?.Size;
    const ours = JSON.parse(await ok(sides.ocikit, ['--json', 'ps', '-a', '-s'])) as {
      name: string;
      sizeRw: number;
      sizeRootFs: number;
    }[];
    const ocikit = (name: string) => ours.find((c) => c.name === name);
    // the same image: the same virtual size (its files, not its tar)
    expect(podman('wrote')?.rootFsSize).toBeGreaterThan(1_500_000);
    expect(ocikit('wrote')?.sizeRootFs).toBe(podman('wrote')?.rootFsSize);
    expect(ocikit('quiet')?.sizeRootFs).toBe(podman('quiet')?.rootFsSize);
    // podman's own files in every container (its /etc/mtab link: 12 bytes) are not ocikit's: what
    // the container wrote is the same
    const written = (podman('wrote')?.rwSize ?? 0) - (podman('quiet')?.rwSize ?? 0);
    expect(written).toBe(5010);
    expect((ocikit('wrote')?.sizeRw ?? 0) - (ocikit('quiet')?.sizeRw ?? 0)).toBe(written);

    const formatted = await ok(sides.ocikit, ['ps', '-a', '-s', '--format', '{{.Names}} {{.Size}}']);
    const line = (name: string) => formatted.split('\n').find((l) => l.startsWith(`${name} `));
    const wrote = ocikit('wrote');
    expect(line('wrote')).toBe(
      `wrote ${humanSize(wrote?.sizeRw ?? 0)} (virtual ${humanSize(wrote?.sizeRootFs ?? 0)})`,
    );
    // podman's words for the same numbers
    const theirLine = (await ok(sides.podman, ['ps', '-a', '-s', '--format', '{{.Names}} {{.Size}}']))
      .split('\n')
      .find((l) => l.startsWith('quiet '));
    expect(theirLine).toBe(`quiet ${humanSize(podman('quiet')?.rwSize ?? 0)} (virtual 1.98MB)`);
    const table = (await ok(sides.ocikit, ['ps', '-a', '-s'])).split('\n');
    expect(table[0]).toMatch(/NAMES\s+SIZE$/);
    expect(table.find((l) => l.includes(' wrote '))).toMatch(/ wrote\s+\S+ \(virtual 1\.98MB\)$/);
  }, 180_000);
});
