// The volume operations of the local engine (issue 15; decision 155).
import type { Handlers, Operation } from '@ocikit/engine';
import { truncate } from '@ocikit/errors';
import type { ContainerRecord } from '@ocikit/shim';
import { localError } from './container-errors.ts';
import { removeContainer } from './container-remove.ts';
import type { LocalContext } from './context.ts';
import {
  createVolume,
  deleteVolume,
  diskUsage,
  listVolumes,
  readVolume,
  volumeData,
  volumeDetails,
  volumeUsers,
} from './volume-store.ts';

const live = (r: ContainerRecord) => r.status === 'running' || r.status === 'paused';

/**
 * Removes a volume. One a container uses is refused (`volume-in-use`, the containers named in the
 * message and `details.containers`); with `force`, the stopped containers that use it are removed
 * first, as podman's `volume rm -f` does — never a running or paused one.
 */
export async function removeVolume(
  ctx: LocalContext,
  name: string,
  options: { force?: boolean | undefined; operation?: Operation | undefined } = {},
): Promise<void> {
  const operation = options.operation ?? 'volumes.remove';
  readVolume(ctx, name, operation);
  const users = (await volumeUsers(ctx)).get(name) ?? [];
  const running = users.filter(live);
  if (users.length > 0 && (!options.force || running.length > 0)) {
    const shown = (options.force ? running : users).map((r) => r.name);
    throw localError(
      'volume-in-use',
      operation,
      `volume ${truncate(name, 80)} is in use by container${shown.length > 1 ? 's' : ''} ${shown.join(', ')}`,
      {
        details: { name: truncate(name, 80), containers: shown.join(',') },
        hint: options.force
          ? 'stop the containers that use it first'
          : 'remove the containers that use it first (`ocikit rm`), or remove it with -f when they are stopped',
      },
    );
  }
  for (const r of users) await removeContainer(ctx, r.id, { force: true, operation });
  await deleteVolume(ctx, name);
}

/** The volume operations of the local engine, over `ROOT/volumes`. */
export function volumeHandlers(ctx: LocalContext): Partial<Handlers> {
  return {
    async 'volumes.create'(spec) {
      return volumeDetails(ctx, await createVolume(ctx, spec));
    },
    async 'volumes.list'() {
      return listVolumes(ctx).map((r) => volumeDetails(ctx, r));
    },
    async 'volumes.inspect'(name) {
      return volumeDetails(ctx, readVolume(ctx, name, 'volumes.inspect'));
    },
    async 'volumes.remove'(name, options) {
      await removeVolume(ctx, name, { force: options.force === true });
    },
    async 'volumes.prune'() {
      const users = await volumeUsers(ctx);
      const removed: string[] = [];
      let spaceReclaimed = 0;
      for (const record of listVolumes(ctx)) {
        if ((users.get(record.name) ?? []).length > 0) continue;
        spaceReclaimed += diskUsage(volumeData(ctx, record.name));
        await deleteVolume(ctx, record.name);
        removed.push(record.name);
      }
      return { removed, spaceReclaimed };
    },
  };
}
