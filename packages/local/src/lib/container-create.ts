// Making a local container (issue 14): the image from the local store (pulled per the policy),
// unpacked into snapshots, a writable snapshot over it as the rootfs, config.json from the image
// config and the ContainerSpec, and — for a detached container — the runtime's container under conmon.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { OciLayout } from '@ocikit/content';
import type { ContainerSpec, CreateOptions } from '@ocikit/engine';
import { isNotFound, isOcikitError } from '@ocikit/errors';
import type { Descriptor } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { type Mount, stringifySpec } from '@ocikit/runtime-spec';
import { type ContainerRecord, START_FAILURE_CODES, signalNumber } from '@ocikit/shim';
import { mountAll, type SnapshotMount, unpackToSnapshots } from '@ocikit/snapshot';
import { localError, standard } from './container-errors.ts';
import { containerEvent } from './container-events.ts';
import { exitCommand } from './container-exit-command.ts';
import { removeContainer } from './container-remove.ts';
import { containerSnapshot, containersOf, snapshotterOf } from './container-store.ts';
import type { LocalContext } from './context.ts';
import { ensureImage, platformOption } from './image-pull.ts';
import { openImageStore } from './image-store.ts';
import { pinImage } from './image-use.ts';
import { rememberLayerSize } from './layer-size.ts';
import {
  type Attaching,
  attachNetwork,
  detachNetworks,
  hostModeFiles,
  networkReadyHook,
  noneModeFiles,
  planNetwork,
  runtimeNetworkOf,
} from './network.ts';
import { buildRuntimeSpec } from './run-spec.ts';
import { copyUp, resolveMounts } from './volume-mounts.ts';
import { containerMountsPath } from './volume-store.ts';

/** The exit code a runtime failure stands for when the container's command could not be started. */
export function startFailureCode(e: unknown): number | undefined {
  const reason = isOcikitError(e) ? e.details.reason : undefined;
  return typeof reason === 'string' ? START_FAILURE_CODES[reason] : undefined;
}

/**
 * The overlay as the runtime's first mount, on `/`, when the runtime can do that and nothing needs
 * the root file system on the host while the bundle is made: runc mounts it in the container's own
 * mount namespace, which spares two mount(8) processes per container (~25 ms) and leaves no host
 * mount behind when ocikit dies (decision 102). crun rejects a mount on `/`, and a user name (or a
 * uid whose groups come from /etc/group) must be read from the image's files, so those mount on
 * the host as before.
 */
function runtimeMountsRoot(
  runtime: string,
  mounts: readonly SnapshotMount[],
  user: string | undefined,
): Mount | undefined {
  const [only, ...more] = mounts;
  if (basename(runtime) !== 'runc' || !only || more.length > 0 || only.type !== 'overlay') return undefined;
  if ((user ?? '') !== '') return undefined;
  return { destination: '/', type: 'overlay', source: only.source, options: [...only.options] };
}

/**
 * The image stored under the normalized form of `image` (`busybox` → `docker.io/library/busybox:latest`),
 * looked up directly: the common case of `run`, without reading registries.conf or listing the store
 * (~6 ms of every `run --rm`). Undefined when it is not there (or not a name): `ensureImage` then
 * resolves short names, ids and pulls.
 */
async function storedByName(
  ctx: LocalContext,
  image: string,
  signal: AbortSignal | undefined,
): Promise<{ store: OciLayout; descriptor: Descriptor; name: string } | undefined> {
  let name: string;
  try {
    name = parseReference(image).toString();
  } catch {
    return undefined;
  }
  const store = await openImageStore(ctx, signal);
  const descriptor = await store.resolve(name, signal ? { signal } : {}).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  return descriptor ? { store, descriptor, name } : undefined;
}

/** A prepared container, and its network attachment still under way (CNI ADD). */
export interface Prepared {
  /** Its `configured` record. */
  record: ContainerRecord;
  /** Its attachment: ADD runs while the runtime creates it (see `attachNetwork`); none on `none`/`host`. */
  network: Attaching | undefined;
}

/**
 * Prepares a container without creating it in the runtime: a `configured` record with its bundle
 * (rootfs snapshot and config.json), ready for `createInRuntime` (detached) or `runForeground`,
 * which must be followed by {@link settleNetwork}. What it made is removed when it fails.
 */
export async function prepareContainer(
  ctx: LocalContext,
  spec: ContainerSpec,
  options: CreateOptions,
): Promise<Prepared> {
  const { signal } = options;
  if (typeof spec.image !== 'string' || spec.image === '')
    throw localError('bad-argument', 'containers.create', 'give an image');
  const platform = platformOption(spec.platform, 'containers.create');
  if (spec.stopSignal !== undefined) {
    try {
      signalNumber(spec.stopSignal);
    } catch (e) {
      throw localError('bad-argument', 'containers.create', `stopSignal: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  const { stopTimeout } = spec;
  if (stopTimeout !== undefined && !(Number.isInteger(stopTimeout) && stopTimeout >= 0))
    throw localError(
      'bad-argument',
      'containers.create',
      `stopTimeout: ${JSON.stringify(stopTimeout)} is not a whole number of seconds`,
    );
  // a bad network request fails before anything is pulled or made
  const network = await planNetwork(ctx, spec);
  const image =
    (options.pull !== 'always' ? await storedByName(ctx, spec.image, signal) : undefined) ??
    (await ensureImage(ctx, spec.image, {
      policy: options.pull ?? 'missing',
      ...(spec.platform !== undefined ? { platform: spec.platform } : {}),
      ...(options.pullOptions ? { pullOptions: options.pullOptions } : {}),
      ...(signal ? { signal } : {}),
    }));
  const containers = containersOf(ctx);
  const record = await standard('containers.create', () =>
    containers.prepare({
      image: image.name,
      command: spec.cmd ?? [],
      tty: spec.tty === true,
      interactive: spec.openStdin === true,
      autoRemove: spec.autoRemove === true,
      runtime: { binary: spec.runtime ?? ctx.runtime },
      ...(spec.name !== undefined ? { name: spec.name } : {}),
      ...(spec.labels ? { labels: spec.labels } : {}),
    }),
  );
  // its namespace, ADD, ports and files, made while the root file system is and the runtime creates
  // it (undone by the removal below)
  let attaching: Attaching | undefined;
  const attach = (imageExposed: readonly string[]) => {
    if (!network) return undefined;
    const a = attachNetwork(ctx, record, network, {
      hostname: spec.hostname ?? record.id.slice(0, 12),
      imageExposed,
      signal,
    });
    // settled by the caller or below; a rejection is not left unhandled meanwhile
    a.added.catch(() => {});
    return a;
  };
  try {
    // from the start, unless it publishes the image's ports (known once it is unpacked)
    if (!network?.publishAll) attaching = attach([]);
    // the image it is made from stays in use by it whatever its name points at later
    pinImage(ctx, record, image.descriptor);
    const snapshotter = snapshotterOf(ctx);
    const unpacked = await unpackToSnapshots(image.store, image.descriptor, snapshotter, {
      ...(platform ? { platform } : {}),
      // the layer's uncompressed size, known once applied: `images` and `history` need not measure it
      onApplied: (diffId, size) => rememberLayerSize(ctx, diffId, size),
      ...(signal ? { signal } : {}),
    });
    attaching ??= attach(Object.keys(unpacked.config.config?.ExposedPorts ?? {}));
    const rootfs = join(record.bundle, 'rootfs');
    // a directory and a small file: synchronous calls, as for every small state file (decision 103)
    mkdirSync(rootfs, { recursive: true });
    const imageVolumes = Object.keys(unpacked.config.config?.Volumes ?? {});
    const volumes =
      // bind mounts too: recorded for `--volumes-from`, `inspect` and `ps --filter volume=`
      (spec.mounts ?? []).some((m) => m.type === 'volume' || m.type === 'bind') ||
      imageVolumes.length > 0 ||
      spec.volumesFrom?.length
        ? await resolveMounts(ctx, spec, imageVolumes, 'containers.create')
        : undefined;
    if (volumes) writeFileSync(containerMountsPath(record), `${JSON.stringify(volumes.recorded)}\n`);
    const mounts = await snapshotter.prepare(containerSnapshot(record.id), unpacked.chainId);
    // a copy-up reads the image's files on the host: the root file system is mounted here then
    // so are group names of --group-add, read from its /etc/group
    const rootMount =
      volumes?.copyUps.length || spec.groupAdd?.some((g) => !/^\d+$/.test(g))
        ? undefined
        : runtimeMountsRoot(record.runtime, mounts, spec.user ?? unpacked.config.config?.User);
    if (!rootMount) mountAll(mounts, rootfs);
    if (volumes) copyUp(ctx, rootfs, volumes.copyUps);
    const runtimeSpec = await buildRuntimeSpec({
      config: unpacked.config,
      rootfs,
      image: image.name,
      id: record.id,
      spec: volumes ? { ...spec, mounts: volumes.mounts } : spec,
      network: network
        ? runtimeNetworkOf(ctx, record)
        : spec.network === 'host'
          ? hostModeFiles(record, spec)
          : noneModeFiles(record, spec),
    });
    // the runtime mounts the overlay first, so every other mount lands on top of it
    if (rootMount) runtimeSpec.mounts = [rootMount, ...(runtimeSpec.mounts ?? [])];
    // its process waits for ADD, which runs on while the runtime creates it
    if (network)
      runtimeSpec.hooks = {
        ...runtimeSpec.hooks,
        createRuntime: [...(runtimeSpec.hooks?.createRuntime ?? []), networkReadyHook(record)],
      };
    writeFileSync(join(record.bundle, 'config.json'), `${stringifySpec(runtimeSpec, 2)}\n`);
    // the namespace and the files the runtime mounts are there before it starts
    await attaching?.ready;
    const imageLabels = unpacked.config.config?.Labels ?? {};
    const next: ContainerRecord = {
      ...record,
      // the image's labels are the container's too, under its own (podman's and docker's merge)
      ...(Object.keys(imageLabels).length > 0 ? { labels: { ...imageLabels, ...record.labels } } : {}),
      command: runtimeSpec.process?.args ?? record.command,
      stopSignal: spec.stopSignal ?? unpacked.config.config?.StopSignal ?? 'SIGTERM',
      ...(spec.stopTimeout !== undefined ? { stopTimeout: spec.stopTimeout } : {}),
    };
    await containers.save(next);
    return { record: next, network: attaching };
  } catch (e) {
    // what attaching makes must be there to be undone
    await attaching?.added.catch(() => {});
    attaching?.release();
    await removeContainer(ctx, record.id, {
      force: true,
      volumes: true,
      operation: 'containers.create',
    }).catch(() => {});
    throw e;
  }
}

/**
 * `containers.create`: a prepared container created in the runtime under conmon, its process
 * waiting for `containers.start`. conmon runs the library's exit command when it exits: its `die`
 * event, and its removal under autoRemove (decision 131). A command that cannot be started fails the create with
 * `bad-argument` and `details.exitCode` 127 (not found) or 126 (not executable), leaving an exited
 * container with the runtime's reason as its error, as Docker's failed start does (decision 111);
 * under autoRemove it is removed. Any other failure removes what was made.
 */
export async function createContainer(
  ctx: LocalContext,
  spec: ContainerSpec,
  options: CreateOptions,
): Promise<ContainerRecord> {
  const { record, network } = await prepareContainer(ctx, spec, options);
  const exit = exitCommand(ctx.root, record.id, record.autoRemove, ctx.env);
  try {
    const created = await containersOf(ctx)
      .createInRuntime(record.id, {
        ...(exit ? { exitCommand: exit } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
      .finally(() => settleNetwork(ctx, record, network, 'containers.create'));
    await containerEvent(ctx, 'create', record);
    return created;
  } catch (e) {
    if (isAddFailure(e)) throw e;
    const exitCode = startFailureCode(e);
    if (exitCode === undefined || record.autoRemove)
      await removeContainer(ctx, record.id, { force: true, operation: 'containers.create' }).catch(() => {});
    // exited: no exit command runs for a container whose process never started
    else await detachNetworks(ctx, record.id).catch(() => {});
    if (exitCode === undefined) throw e;
    throw localError('bad-argument', 'containers.create', (e as Error).message, {
      details: { exitCode, id: record.id, name: record.name },
      cause: e,
    });
  }
}

/** ADD's errors, thrown by {@link settleNetwork} after the container was removed. */
const addFailures = new WeakSet<object>();

/** Whether `e` is a failed ADD that {@link settleNetwork} threw (the container is gone already). */
export function isAddFailure(e: unknown): boolean {
  return typeof e === 'object' && e !== null && addFailures.has(e);
}

/**
 * After the runtime's create or foreground run returned (or threw): waits for the container's
 * ADD, closes the gate, and when ADD failed removes the container (nothing half-made is left: DEL,
 * namespace, record) and throws ADD's error — the runtime's own failure then was the hook's.
 */
export async function settleNetwork(
  ctx: LocalContext,
  record: ContainerRecord,
  network: Attaching | undefined,
  operation: 'containers.create' | 'containers.run',
): Promise<void> {
  if (!network) return;
  const failed = await network.added.then(
    () => undefined,
    (e: unknown) => e ?? new Error('CNI ADD failed'),
  );
  network.release();
  if (failed === undefined) return;
  await removeContainer(ctx, record.id, { force: true, volumes: true, operation }).catch(() => {});
  if (typeof failed === 'object' && failed !== null) addFailures.add(failed);
  throw failed;
}
