// A container keeps the image it was made from, not the image its name points at later: a pull or
// tag that moves the name leaves the container's image protected from images.remove and gc.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { Engine } from '@ocikit/engine';
import { isOcikitError } from '@ocikit/errors';
import { buildBusyboxImage, buildVolumeImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDriver } from './driver.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-local-pin-'));
let root: string;
let engine: Engine;

beforeAll(async () => {
  root = tmp();
  const layouts = tmp();
  buildBusyboxImage(join(layouts, 'busybox'), 'busybox');
  buildVolumeImage(join(layouts, 'vol'), 'vol');
  const store = await openLayout(join(root, 'content'), { create: true });
  await copy(
    await openLayout(join(layouts, 'busybox')),
    'busybox',
    store,
    'docker.io/library/busybox:latest',
  );
  await copy(await openLayout(join(layouts, 'vol')), 'vol', store, 'docker.io/library/vol:latest');
  engine = await Engine.connect(localDriver(), `local:${root}`);
});

afterAll(async () => {
  for (const c of await engine.containers.list({ all: true }))
    await engine.containers.remove(c.id, { force: true }).catch(() => {});
  await engine.close();
  rmSync(root, { recursive: true, force: true });
});

/** The standard reason of a failed call. */
async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return isOcikitError(e) ? e.details.reason : e;
  }
  return 'no error';
}

describe('local engine: the image a container was made from', () => {
  it('stays in use when its name moves to another image, until the container is removed', async () => {
    const old = (await engine.images.inspect('busybox')).id;
    const { id } = await engine.containers.create({ image: 'busybox', cmd: ['true'] });
    // a later pull (here a tag) moves the name the container was made from
    await engine.images.tag('vol', 'busybox');
    expect((await engine.images.inspect('busybox')).id).not.toBe(old);
    expect(await reasonOf(engine.images.remove(old))).toBe('image-in-use');
    // a gc (here after removing another name) keeps it: the container can start, inspect finds it
    await engine.images.remove('vol');
    expect((await engine.images.inspect(old)).id).toBe(old);
    await engine.containers.start(id);
    expect(await engine.containers.wait(id)).toBe(0);
    await engine.containers.remove(id);
    // its pin goes with it: the image, nameless, is no longer kept
    expect(existsSync(join(root, 'image-pins', `${id}.json`))).toBe(false);
    expect((await engine.images.list({ all: true })).map((i) => i.id)).not.toContain(old);
  }, 60_000);
});
