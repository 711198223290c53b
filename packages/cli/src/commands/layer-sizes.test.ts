// The local engine's cache of uncompressed layer sizes (decisions 213, 215): recorded where a size
// is known anyway (`run` applies a layer, `commit` and `build` write one), not in the way of `images` when a
// layer cannot be measured, and dropped by `gc`/`system prune` with the last image of its diff.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocikit-layer-sizes-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh state root `name` holding the busybox test image: its CLI, cache entries and blobs. */
async function storeWithBusybox(name: string) {
  const root = join(dir, name);
  const cli = (args: readonly string[]) => runCli(['--root', root, ...args]);
  const built = buildBusyboxImage(join(dir, `${name}-layout`), 'busybox');
  const copied = await cli(['copy', `oci:${join(dir, `${name}-layout`)}:busybox`, 'local:busybox']);
  expect(copied.code, copied.stderr).toBe(0);
  return {
    cli,
    built,
    /** The cache file of a diff. */
    entry: (diffId: string) => join(root, 'layer-sizes', diffId.replace(':', '-')),
    /** The cache's entries, sorted (`sha256-…`). */
    cached: () => readdirSync(join(root, 'layer-sizes')).sort(),
    /** A stored blob's file. */
    blob: (digest: string) => join(root, 'content', 'blobs', ...digest.split(':')),
    /** The diffIDs of `ref`'s layers, as the cache names them (`sha256-…`). */
    async diffIds(ref: string): Promise<string[]> {
      const r = await cli(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as string[]).map((d) => d.replace(':', '-'));
    },
  };
}

describe('the layer-sizes cache', () => {
  it('run records the image layer it applies; commit the layer it writes', async () => {
    const { cli, built, entry, blob } = await storeWithBusybox('recorded');
    const [diffId = ''] = built.diffIds;
    const [layer = ''] = built.layers;
    expect(existsSync(entry(diffId))).toBe(false);

    const ran = await cli(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo hi > /f']);
    expect(ran.code, ran.stderr).toBe(0);
    const measured = gunzipSync(readFileSync(blob(layer))).length;
    expect(readFileSync(entry(diffId), 'utf8').trim()).toBe(String(measured));

    const committed = await cli(['commit', 'writer', 'written:1']);
    expect(committed.code, committed.stderr).toBe(0);
    const layers = await cli(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'written:1']);
    const own = (JSON.parse(layers.stdout) as string[])[1] ?? '';
    expect(existsSync(entry(own))).toBe(true);
    const manifest = await cli(['manifest', 'local:written:1']);
    const ownBlob = (JSON.parse(manifest.stdout) as { layers: { digest: string }[] }).layers[1]?.digest;
    expect(readFileSync(entry(own), 'utf8').trim()).toBe(
      String(gunzipSync(readFileSync(blob(ownBlob ?? ''))).length),
    );
    await cli(['rm', '-f', 'writer']);
  }, 120_000);

  it('build records the base layer it applies and the layers its steps write, before any images', async () => {
    const { cli, built, cached, entry, blob, diffIds } = await storeWithBusybox('build');
    const context = join(dir, 'build-ctx');
    // what a first attempt left (decision 209)
    rmSync(context, { recursive: true, force: true });
    mkdirSync(context);
    writeFileSync(join(context, 'a'), 'a file\n');
    writeFileSync(join(context, 'Containerfile'), 'FROM busybox\nRUN echo x > /f\nCOPY a /a\n');
    const made = await cli(['build', '-q', '-t', 'built:1', context]);
    expect(made.code, made.stderr).toBe(0);
    // read before any other command: `inspect`, `images` and `history` measure what is missing
    const recorded = existsSync(join(dir, 'build', 'layer-sizes'))
      ? cached().map((name) => `${name} ${readFileSync(entry(name.replace('-', ':')), 'utf8').trim()}`)
      : [];
    const ids = await diffIds('built:1');
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe(built.diffIds[0]?.replace(':', '-'));
    const manifest = await cli(['manifest', 'local:built:1']);
    const layers = (JSON.parse(manifest.stdout) as { layers: { digest: string }[] }).layers;
    const measured = ids.map(
      (id, i) => `${id} ${gunzipSync(readFileSync(blob(layers[i]?.digest ?? ''))).length}`,
    );
    expect(recorded).toEqual(measured.sort());
  }, 120_000);

  it('images lists an image whose layer blob is gone with its stored size, exit 0', async () => {
    const { cli, built, blob } = await storeWithBusybox('missing-blob');
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

  it('rmi then gc drops the sizes of the diffs only the removed image had; system prune -a those of unused images', async () => {
    const { cli, cached, diffIds } = await storeWithBusybox('gc');
    for (const n of ['1', '2']) {
      mkdirSync(join(dir, `ctx${n}`));
      writeFileSync(join(dir, `ctx${n}`, 'Containerfile'), `FROM busybox\nRUN echo ${n} > /f\n`);
      const built = await cli(['build', '-q', '-t', `sized:${n}`, join(dir, `ctx${n}`)]);
      expect(built.code, built.stderr).toBe(0);
    }
    const [base, own1] = await diffIds('sized:1');
    const [, own2] = await diffIds('sized:2');
    expect((await cli(['images'])).code).toBe(0); // measures every layer
    expect(cached()).toEqual([base, own1, own2].sort());

    expect((await cli(['rmi', 'sized:1'])).code).toBe(0);
    const gc = await cli(['gc']);
    expect(gc.code, gc.stderr).toBe(0);
    // busybox's layer is still sized:2's and busybox's own
    expect(cached()).toEqual([base, own2].sort());

    expect((await cli(['rmi', 'busybox'])).code).toBe(0);
    const pruned = await cli(['system', 'prune', '-a', '-f']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(cached()).toEqual([]);
  }, 120_000);
});
