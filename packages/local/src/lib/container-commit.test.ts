// images.history and containers.commit of the local engine end to end: real runc and conmon, the
// busybox test image in a temp state root's store, through the Engine client.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { copy, fetchAll, openLayout, pushBytes } from '@ocikit/content';
import { Engine, type OutputChunk } from '@ocikit/engine';
import { isOcikitError } from '@ocikit/errors';
import {
  type Descriptor,
  type ImageConfig,
  MediaType,
  parseImageConfig,
  parseManifest,
} from '@ocikit/image-spec';
import { mountAll, nativeSnapshotter, overlaySnapshotter, type Snapshotter, unmount } from '@ocikit/snapshot';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffContainer } from './container-commit.ts';
import { localDriver } from './driver.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-local-commit-'));
let root: string;
let layoutDir: string;
let engine: Engine;

beforeAll(async () => {
  root = tmp();
  layoutDir = join(tmp(), 'layout');
  buildBusyboxImage(layoutDir, 'busybox');
  const store = await openLayout(join(root, 'content'), { create: true });
  await copy(await openLayout(layoutDir), 'busybox', store, 'docker.io/library/busybox:latest');
  engine = await Engine.connect(localDriver(), `local:${root}`);
});

afterAll(async () => {
  for (const c of await engine.containers.list({ all: true }))
    await engine.containers.remove(c.id, { force: true }).catch(() => {});
  await engine.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(join(layoutDir, '..'), { recursive: true, force: true });
});

async function collect(output: AsyncIterable<OutputChunk>): Promise<string> {
  let out = '';
  for await (const chunk of output) out += Buffer.from(chunk.data).toString('utf8');
  return out;
}

/** Runs `cmd` in `image`, removed after; its exit code and output. */
async function run(image: string, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const { id } = await engine.containers.create({ image, cmd, network: 'none' });
  try {
    await engine.containers.start(id);
    const exitCode = await engine.containers.wait(id);
    return { exitCode, output: await collect(engine.containers.logs(id, {})) };
  } finally {
    await engine.containers.remove(id, { force: true });
  }
}

async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return isOcikitError(e) ? e.details.reason : e;
  }
  return 'no error';
}

describe('images.history of the local engine', () => {
  it('gives the config history newest first, sizes from the layers, ids of stored base images', async () => {
    const store = await openLayout(join(root, 'content'));
    const baseDesc = await store.resolve('docker.io/library/busybox:latest');
    const manifest = parseManifest(await fetchAll(store, baseDesc));
    const baseConfig = parseImageConfig(await fetchAll(store, manifest.config));
    // a step's size is its layer's uncompressed (as podman and docker count it), not as stored
    const layer = manifest.layers[0] as Descriptor;
    const layerSize = gunzipSync(await fetchAll(store, layer)).length;
    expect(layerSize).toBeGreaterThan(layer.size);
    // a base with one step, and an image on it with two more (one made no layer)
    const withHistory = async (config: ImageConfig, name: string) => {
      const c = await pushBytes(store, MediaType.ImageConfig, Buffer.from(JSON.stringify(config)));
      const m = await pushBytes(
        store,
        MediaType.ImageManifest,
        Buffer.from(JSON.stringify({ ...manifest, config: c })),
      );
      await store.tag(m, name);
      return c.digest;
    };
    const add = { created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' };
    const baseId = await withHistory({ ...baseConfig, history: [add] }, 'docker.io/library/hist-base:1');
    const topId = await withHistory(
      {
        ...baseConfig,
        history: [
          add,
          { created: '2026-01-02T00:00:00Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
        ],
      },
      'docker.io/library/hist-top:1',
    );
    const history = await engine.images.history('hist-top:1');
    expect(history).toEqual([
      {
        id: topId,
        created: '2026-01-02T00:00:00Z',
        createdBy: '/bin/sh -c #(nop)  CMD ["sh"]',
        size: 0,
        emptyLayer: true,
        tags: ['docker.io/library/hist-top:1'],
      },
      {
        id: baseId,
        created: '2026-01-01T00:00:00Z',
        createdBy: add.created_by,
        size: layerSize,
        emptyLayer: false,
        tags: ['docker.io/library/hist-base:1'],
      },
    ]);
    // an image whose config has no history: a step per layer, the image's id on the newest
    const { history: _, ...noHistory } = baseConfig;
    const plainId = await withHistory(noHistory, 'docker.io/library/hist-none:1');
    expect(await engine.images.history('hist-none:1')).toEqual([
      {
        id: plainId,
        createdBy: '',
        size: layerSize,
        emptyLayer: false,
        tags: ['docker.io/library/hist-none:1'],
      },
    ]);
    expect(await reasonOf(engine.images.history('no-such-image:1'))).toBe('image-not-found');
  });
});

describe('containers.commit of the local engine', () => {
  it('commits a file written and one removed (a whiteout) as a new layer; the new image runs and sees both', async () => {
    const { id } = await engine.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'echo committed > /root/made && rm /etc/group'],
      network: 'none',
      env: ['FROM_RUN=1'],
      workingDir: '/tmp',
    });
    await engine.containers.start(id);
    expect(await engine.containers.wait(id)).toBe(0);
    const { id: imageId } = await engine.containers.commit(id, {
      reference: 'committed:1',
      comment: 'a comment',
      author: 'ocikit test',
      changes: [
        'CMD ["cat", "/root/made"]',
        'ENV A=1 B="two words"',
        'EXPOSE 8080',
        'LABEL k=v',
        'WORKDIR /root',
      ],
    });
    await engine.containers.remove(id);
    const image = await engine.images.inspect('committed:1');
    expect(image.id).toBe(imageId);
    expect(image.diffIds).toHaveLength(2);
    expect(image.author).toBe('ocikit test');
    expect(image.config.cmd).toEqual(['cat', '/root/made']);
    expect(image.config.env).toEqual(expect.arrayContaining(['FROM_RUN=1', 'A=1', 'B=two words']));
    expect(image.config.workingDir).toBe('/root');
    expect(image.config.exposedPorts).toEqual(['8080/tcp']);
    expect(image.config.labels).toEqual({ k: 'v' });
    expect(image.mediaType).toBe(MediaType.ImageManifest);

    expect(await run('committed:1', [])).toEqual({ exitCode: 0, output: 'committed\n' });
    // the whiteout hides the image's /etc/group
    expect((await run('committed:1', ['sh', '-c', 'test -e /etc/group; echo $?'])).output).toBe('1\n');

    const history = await engine.images.history('committed:1');
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({
      id: imageId,
      createdBy: "sh -c 'echo committed > /root/made && rm /etc/group'",
      comment: 'a comment',
      emptyLayer: false,
      tags: ['docker.io/library/committed:1'],
    });
    expect(history[0]?.size).toBeGreaterThan(0);
    expect(history[1]).toMatchObject({ createdBy: '@ocikit/test-images', emptyLayer: false });
  });

  it('freezes a running container while committing, then thaws it; --format docker gives Docker media types', async () => {
    const { id } = await engine.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'echo live > /live; sleep 60'],
      network: 'none',
    });
    await engine.containers.start(id);
    try {
      // the busybox test image links only some applets: `test` runs through sh
      let written = false;
      for (let i = 0; i < 50 && !written; i++) {
        const exec = await engine.containers.exec(id, { cmd: ['sh', '-c', 'test -e /live'] }, {});
        written = (await exec.exitCode) === 0;
        if (!written) await new Promise((r) => setTimeout(r, 100));
      }
      expect(written).toBe(true);
      await engine.containers.commit(id, { reference: 'committed:live', format: 'docker' });
      expect((await engine.containers.inspect(id)).state.status).toBe('running');
    } finally {
      await engine.containers.remove(id, { force: true });
    }
    const image = await engine.images.inspect('committed:live');
    expect(image.mediaType).toBe(MediaType.DockerManifest);
    expect((await run('committed:live', ['cat', '/live'])).output).toBe('live\n');
  });

  it('refuses a bad change, a missing name and an unknown container with standard reasons', async () => {
    const { id } = await engine.containers.create({ image: 'busybox', cmd: ['true'], network: 'none' });
    try {
      expect(await reasonOf(engine.containers.commit(id, { reference: 'x:1', changes: ['RUN make'] }))).toBe(
        'bad-argument',
      );
      expect(await reasonOf(engine.containers.commit(id, {}))).toBe('bad-argument');
      expect(await reasonOf(engine.containers.commit('no-such-container', { reference: 'x:1' }))).toBe(
        'container-not-found',
      );
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });
});

describe('the layer of a container, per snapshotter', () => {
  /** A committed parent with `a`, `gone` and `dir/b`, and the container's snapshot on it, changed. */
  async function changed(snapshotter: Snapshotter, at: string): Promise<string> {
    const mounts = await snapshotter.prepare('base-key', undefined);
    const base = mounts[0]?.source as string;
    writeFileSync(join(base, 'a'), 'a\n');
    writeFileSync(join(base, 'gone'), 'gone\n');
    mkdirSync(join(base, 'dir'));
    writeFileSync(join(base, 'dir', 'b'), 'b\n');
    await snapshotter.commit('base', 'base-key');
    const [mount] = await snapshotter.prepare('container-c1', 'base');
    // an overlay is written through a mount of it; the native snapshot is a plain directory
    const fs = mount?.type === 'overlay' ? join(at, 'merged') : (mount?.source as string);
    if (mount?.type === 'overlay') {
      mkdirSync(fs);
      mountAll([mount], fs);
    }
    try {
      writeFileSync(join(fs, 'new'), 'new\n');
      writeFileSync(join(fs, 'dir', 'b'), 'b changed\n');
      rmSync(join(fs, 'gone'));
    } finally {
      if (mount?.type === 'overlay') unmount(fs);
    }
    const out = join(at, 'out');
    mkdirSync(out);
    await diffContainer(snapshotter, 'c1', out);
    return execFileSync('tar', ['-tzf', join(out, 'layer.tar.gz')], { encoding: 'utf8' });
  }

  it('native: the tree diffed against a view of the image, whiteouts for what went (an unchanged parent left out)', async () => {
    const at = tmp();
    try {
      const listed = await changed(nativeSnapshotter(join(at, 'snapshots')), at);
      expect(listed.split('\n').filter(Boolean).sort()).toEqual(['.wh.gone', 'dir/b', 'new']);
    } finally {
      rmSync(at, { recursive: true, force: true });
    }
  });

  it('overlay: the upper directory as it is (copied-up parents in), whiteouts for what went', async () => {
    const at = tmp();
    try {
      const listed = await changed(overlaySnapshotter(join(at, 'snapshots')), at);
      expect(listed.split('\n').filter(Boolean).sort()).toEqual(['.wh.gone', 'dir/', 'dir/b', 'new']);
    } finally {
      rmSync(at, { recursive: true, force: true });
    }
  });
});
