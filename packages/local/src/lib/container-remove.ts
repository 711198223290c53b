// Removing a local container: the runtime's state, the rootfs mount, the writable snapshot, the record.
import { join } from 'node:path';
import type { Operation } from '@ocikit/engine';
import type { ContainerRecord } from '@ocikit/shim';
import { unmount } from '@ocikit/snapshot';
import { localError, standard } from './container-errors.ts';
import { containerEvent, recordDie } from './container-events.ts';
import { containerSnapshot, containersOf, getContainer, snapshotterOf } from './container-store.ts';
import type { LocalContext } from './context.ts';
import { unpinImage } from './image-use.ts';
import { detachNetworks } from './network.ts';
import { containerMounts, removeAnonymousVolumes } from './volume-store.ts';

/**
 * Removes a container and what it holds: its runtime state, its network attachments and namespace,
 * its rootfs mount, its writable snapshot, its record, bundle and log. A running or paused one only with `force` (killed first),
 * else `container-running`; a created one (never started) as an exited one, as Docker and podman.
 * Its anonymous volumes go too with `volumes` (`rm -v`; the default for an autoRemove container,
 * as `run --rm`), when no other container uses them; named volumes stay. Gives the record it removed.
 */
export async function removeContainer(
  ctx: LocalContext,
  ref: string,
  options: {
    force?: boolean | undefined;
    volumes?: boolean | undefined;
    operation?: Operation | undefined;
  } = {},
): Promise<ContainerRecord> {
  const operation = options.operation ?? 'containers.remove';
  const containers = containersOf(ctx);
  const record = await getContainer(ctx, ref, operation);
  const running = record.status === 'running' || record.status === 'paused';
  const live = running || record.status === 'created';
  if (running && !options.force) {
    throw localError('container-running', operation, `container ${record.name} is ${record.status}`, {
      details: { name: record.name, id: record.id, status: record.status },
      hint: 'stop it first, or remove it with force (killing it)',
    });
  }
  // its exit is news until recorded: `die` before `destroy`
  if (record.status === 'exited') await recordDie(ctx, record);
  if (live) {
    await containers
      .runtimeFor(record)
      .delete(record.id, { force: true })
      .catch(() => {});
  }
  // off its networks (CNI DEL, namespace, peers' hosts files) once its process is gone (so that its
  // exit command, which the kill triggers, finds it detaching: it waits for the lock, never takes it
  // after this returned), while its file system, snapshot and record go
  const detaching = detachNetworks(ctx, record.id, { forget: true }).then(
    () => undefined,
    (e: unknown) => e ?? new Error('detaching failed'),
  );
  try {
    unmount(join(record.bundle, 'rootfs'));
  } catch {
    // not mounted (never was, or already gone)
  }
  await snapshotterOf(ctx)
    .remove(containerSnapshot(record.id))
    .catch(() => {});
  const anonymous =
    (options.volumes ?? record.autoRemove)
      ? containerMounts(record)
          .filter((m) => m.type === 'volume' && m.anonymous === true)
          .map((m) => m.source)
      : [];
  const removed = await standard(operation, () =>
    containers.remove(record.id, { force: options.force === true || live }),
  ).catch(async (e: unknown) => {
    await detaching;
    throw e;
  });
  unpinImage(ctx, record.id);
  await containerEvent(ctx, 'destroy', record);
  await removeAnonymousVolumes(ctx, anonymous);
  // a DEL that failed is left to the sweeps (its result cache entry stays)
  const detachFailed = await detaching;
  if (detachFailed !== undefined) throw detachFailed;
  return removed;
}

/**
 * Removes the `autoRemove` containers nobody is left to remove (their ocikit and monitor killed
 * before they could), as `ps` did; gives the records still there.
 */
export async function sweepAbandoned(
  ctx: LocalContext,
  records: ContainerRecord[],
): Promise<ContainerRecord[]> {
  const containers = containersOf(ctx);
  const kept: ContainerRecord[] = [];
  for (const r of records) {
    if (containers.abandoned(r)) await removeContainer(ctx, r.id, { force: true }).catch(() => {});
    else kept.push(r);
  }
  return kept;
}
