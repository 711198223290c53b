// images.save and images.load of the local engine: docker-archive tarballs (`docker save`'s format,
// which docker load, podman load and skopeo read), written and read by @ocikit/content's archives.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, createArchiveWriter, openArchiveStream } from '@ocikit/content';
import { type CallOptions, engineError, type LoadOptions } from '@ocikit/engine';
import { hostPlatform } from '@ocikit/image-spec';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';
import { progressOf } from './image-pull.ts';
import { imageIdOf, openImageStore, requireImage } from './image-store.ts';

/**
 * `images.save`: the images `refs` name (names or ids) as one docker-archive stream. An index is
 * narrowed to this machine's image (a docker-archive holds single-platform images). The archive is
 * written to a temporary file first (its layers must be uncompressed and named by diffID), then
 * streamed; the file goes when the stream ends or is abandoned.
 */
export async function* saveImages(
  ctx: LocalContext,
  refs: readonly string[],
  options: CallOptions,
): AsyncGenerator<Uint8Array> {
  const { signal } = options;
  const opts = signal ? { signal } : {};
  if (refs.length === 0)
    throw engineError('bad-argument', {
      engine: 'local',
      operation: 'images.save',
      message: 'no image to save',
    });
  const store = await openImageStore(ctx, signal);
  const images = [];
  for (const ref of refs) images.push(await requireImage(ctx, store, ref, 'images.save', signal));
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-save-'));
  try {
    const file = join(dir, 'images.tar');
    const writer = await createArchiveWriter(file, 'docker-archive', { ...opts, tmpDir: dir });
    try {
      for (const image of images) {
        const names =
          image.name !== undefined
            ? [image.name]
            : (await store.list(opts))
                .filter((d) => d.digest === image.descriptor.digest)
                .flatMap((d) => {
                  const name = d.annotations?.['org.opencontainers.image.ref.name'];
                  return name !== undefined && !name.includes('@') ? [name] : [];
                });
        const src = image.name ?? image.descriptor.digest;
        const desc = await copy(store, src, writer, undefined, { platform: hostPlatform(), ...opts });
        if (names.length === 0) await writer.include(desc, opts);
        for (const name of names) await writer.tag(desc, name, opts);
      }
      await writer.commit(opts);
    } catch (e) {
      await writer.abort();
      throw e;
    }
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, ...opts }))
      yield chunk as Uint8Array;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `images.load`: every image of a docker-archive stream into the local store under its names
 * (`RepoTags`, normalized); gives the names loaded. An image without a name is refused
 * (`bad-argument`): the local store keeps images by name. Records a `load` event per image.
 */
export async function loadImages(
  ctx: LocalContext,
  archive: AsyncIterable<Uint8Array>,
  options: LoadOptions,
): Promise<string[]> {
  const { signal } = options;
  const opts = signal ? { signal } : {};
  const source = await openArchiveStream(archive, 'the loaded archive', 'docker-archive', opts);
  try {
    const store = await openImageStore(ctx, signal);
    const images = await source.images(opts);
    const unnamed = images.find((i) => i.names.length === 0);
    if (unnamed)
      throw engineError('bad-argument', {
        engine: 'local',
        operation: 'images.load',
        message: `the archive's image ${unnamed.descriptor.digest} has no name (RepoTags); the local store keeps images by name`,
      });
    const onProgress = progressOf('pull', options.onProgress);
    const loaded: string[] = [];
    for (const [i, image] of images.entries()) {
      for (const name of image.names) {
        const desc = await copy(source, `@${i}`, store, name, {
          ...(onProgress ? { onProgress } : {}),
          ...opts,
        });
        loaded.push(name);
        const id = await imageIdOf(store, desc, signal);
        options.onProgress?.({ status: `Loaded image: ${name}` });
        await recordEvent(ctx, { type: 'image', action: 'load', id, attributes: { name } });
      }
    }
    return loaded;
  } finally {
    await source.close();
  }
}
