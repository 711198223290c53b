// containers.commit of the local engine (`docker commit`): the container's writable layer — its
// overlay upper directory, or for the native snapshotter its tree diffed against its image's — as a
// new layer on its image, the config the container was made with plus the `changes`, a history
// entry, tagged into the local store.
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchAll, pushBytes, selectManifest } from '@ocikit/content';
import { randomHex } from '@ocikit/digest';
import { type CallOptions, type CommitSpec, type CommittedImage, commandLine } from '@ocikit/engine';
import {
  type Descriptor,
  type History,
  type ImageConfig,
  type ImageManifest,
  layerMediaTypeFor,
  MediaType,
  parseImageConfig,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import type { Process } from '@ocikit/runtime-spec';
import type { ContainerRecord } from '@ocikit/shim';
import { type DiffResult, diffDirectories, diffOverlayUpper, type Snapshotter } from '@ocikit/snapshot';
import { applyChange } from './container-commit-changes.ts';
import { localError, standard } from './container-errors.ts';
import { containerSnapshot, containersOf, getContainer, snapshotterOf } from './container-store.ts';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';
import { badReference, openImageStore } from './image-store.ts';
import { imagesInUse } from './image-use.ts';
import { rememberLayerSize } from './layer-size.ts';

const OPERATION = 'containers.commit';

/** The process of a container's config.json (what it was made with: args, env, cwd, user). */
function processOf(record: ContainerRecord): Process | undefined {
  try {
    return (JSON.parse(readFileSync(join(record.bundle, 'config.json'), 'utf8')) as { process?: Process })
      .process;
  } catch {
    return undefined;
  }
}

/**
 * The image config's `config` as the container was made: its environment, working directory, user
 * and command (the image's entrypoint kept when the command starts with it) in place of the image's.
 */
function containerConfig(
  base: ImageConfig,
  record: ContainerRecord,
  proc: Process | undefined,
): NonNullable<ImageConfig['config']> {
  const run = { ...(base.config ?? {}) };
  if (!proc) return run;
  const imageEnv = run.Env ?? [];
  // TERM=xterm is what a terminal adds at run time, not part of what the container was made with
  run.Env = (proc.env ?? []).filter((e) => !(record.tty && e === 'TERM=xterm' && !imageEnv.includes(e)));
  if (proc.cwd !== undefined && !(proc.cwd === '/' && !run.WorkingDir)) run.WorkingDir = proc.cwd;
  const { uid, gid } = proc.user ?? { uid: 0, gid: 0 };
  const imageUser = run.User ?? '';
  const numeric = /^(\d+)(?::(\d+))?$/.exec(imageUser);
  const sameUser = numeric ? Number(numeric[1]) === uid : imageUser !== '' || uid === 0;
  if (!sameUser) run.User = gid === 0 && uid === 0 ? '' : `${uid}:${gid}`;
  const args = proc.args ?? record.command;
  const entrypoint = run.Entrypoint ?? [];
  if (entrypoint.length > 0 && entrypoint.every((a, i) => args[i] === a)) {
    const cmd = args.slice(entrypoint.length);
    if (cmd.length > 0) run.Cmd = cmd;
    else delete run.Cmd;
  } else {
    if (entrypoint.length > 0) delete run.Entrypoint;
    run.Cmd = [...args];
  }
  return run;
}

/**
 * The writable layer of container `id` as a layer file `layer.tar.gz` in `dir`: the overlay's upper
 * directory as it is, or (native snapshotter) its tree diffed against a view of its parent.
 */
export async function diffContainer(snapshotter: Snapshotter, id: string, dir: string): Promise<DiffResult> {
  const key = containerSnapshot(id);
  const mounts = await snapshotter.mounts(key);
  const out = join(dir, 'layer.tar.gz');
  const overlay = mounts.find((m) => m.type === 'overlay');
  const upper = overlay?.options.find((o) => o.startsWith('upperdir='))?.slice('upperdir='.length);
  if (upper !== undefined) return diffOverlayUpper(upper, out);
  const own = mounts[0]?.source;
  if (own === undefined) throw new Error(`snapshot ${key} has no mount`);
  // the native snapshotter: a full copy of the tree, compared with a view of the image's
  const { parent } = await snapshotter.stat(key);
  if (parent === undefined) return diffDirectories(join(dir, 'empty'), own, out);
  const view = `commit-${randomHex(8)}`;
  const [lower] = await snapshotter.view(view, parent);
  try {
    return await diffDirectories(lower?.source ?? join(dir, 'empty'), own, out);
  } finally {
    await snapshotter.remove(view).catch(() => {});
  }
}

/**
 * `containers.commit`: a new image of the container's image plus its changes as one layer (always
 * one, even when it changed nothing, as Docker does), its config the one the container was made
 * with and then `spec.changes` (`CMD`, `ENTRYPOINT`, `ENV`, `EXPOSE`, `LABEL`, `ONBUILD`, `USER`,
 * `VOLUME`, `WORKDIR`, `STOPSIGNAL`), its history the image's plus the container's command, tagged
 * `spec.reference` in the local store (which keeps images by name: one is required). A running
 * container is frozen while its layer is read unless `pause` is false. `format` `oci` (default)
 * or `docker` media types.
 */
export async function commitContainer(
  ctx: LocalContext,
  ref: string,
  spec: CommitSpec,
  options: CallOptions,
): Promise<CommittedImage> {
  const { signal } = options;
  const opts = signal ? { signal } : {};
  if (spec.reference === undefined || spec.reference === '')
    throw localError(
      'bad-argument',
      OPERATION,
      'the local store keeps images by name: give the new image a name',
      {
        hint: 'ocikit commit CONTAINER NAME[:TAG]',
      },
    );
  let name: string;
  try {
    const parsed = parseReference(spec.reference);
    if (parsed.digest !== undefined)
      throw new Error('a digest reference cannot name a new image; give a tag');
    name = parsed.toString();
  } catch (e) {
    throw badReference(spec.reference, OPERATION, e);
  }
  const format = spec.format ?? 'oci';
  const record = await getContainer(ctx, ref, OPERATION);
  const store = await openImageStore(ctx, signal);
  const use = (await imagesInUse(ctx, store)).find((u) => u.container.id === record.id);
  if (!use)
    throw localError(
      'image-not-found',
      OPERATION,
      `the image of container ${record.name} is no longer in the store`,
    );
  const base = await selectManifest(store, use.image, opts);
  const baseConfig = parseImageConfig(await fetchAll(store, base.manifest.config, opts));
  // build the config first: a bad change fails before anything is frozen or written
  const proc = processOf(record);
  const run = containerConfig(baseConfig, record, proc);
  for (const change of spec.changes ?? []) {
    try {
      applyChange(run, change);
    } catch (e) {
      throw localError('bad-argument', OPERATION, `bad change: ${(e as Error).message}`, { cause: e });
    }
  }

  const containers = containersOf(ctx);
  const freeze = spec.pause !== false && record.status === 'running';
  if (freeze) await standard(OPERATION, () => containers.pause(record.id));
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-commit-'));
  let layer: DiffResult;
  try {
    layer = await diffContainer(snapshotterOf(ctx), record.id, dir);
    rememberLayerSize(ctx, layer.diffId, layer.size);
  } finally {
    if (freeze) await standard(OPERATION, () => containers.unpause(record.id)).catch(() => {});
  }
  try {
    const layerDesc: Descriptor = {
      ...layer.descriptor,
      mediaType: layerMediaTypeFor(layer.descriptor.mediaType, format),
    };
    await store.push(layerDesc, createReadStream(join(dir, 'layer.tar.gz')), opts);
    const created = new Date().toISOString();
    // history needs an entry per layer: an image without history gets unnamed ones for its layers
    const history: History[] =
      baseConfig.history ?? baseConfig.rootfs.diff_ids.map(() => ({ created_by: '' }));
    const step: History = {
      created,
      created_by: commandLine(proc?.args ?? record.command),
      ...(spec.author !== undefined ? { author: spec.author } : {}),
      ...(spec.comment !== undefined ? { comment: spec.comment } : {}),
    };
    const config: ImageConfig = {
      ...baseConfig,
      created,
      ...(spec.author !== undefined ? { author: spec.author } : {}),
      config: run,
      rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.diffId] },
      history: [...history, step],
    };
    const configDesc = await pushBytes(
      store,
      format === 'docker' ? MediaType.DockerConfig : MediaType.ImageConfig,
      Buffer.from(JSON.stringify(config)),
      opts,
    );
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: format === 'docker' ? MediaType.DockerManifest : MediaType.ImageManifest,
      config: configDesc,
      layers: [
        ...base.manifest.layers.map((l) => ({ ...l, mediaType: layerMediaTypeFor(l.mediaType, format) })),
        layerDesc,
      ],
    };
    const manifestDesc = await pushBytes(
      store,
      manifest.mediaType as string,
      Buffer.from(JSON.stringify(manifest)),
      opts,
    );
    await store.tag(manifestDesc, name, opts);
    await recordEvent(ctx, {
      type: 'container',
      action: 'commit',
      id: record.id,
      attributes: { name: record.name, image: name },
    });
    return { id: configDesc.digest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
