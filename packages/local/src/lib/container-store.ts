// The pieces every local container operation uses: the shim's containers and the snapshotter under
// the state root, and a container looked up with standard errors.
import { join } from 'node:path';
import type { Operation } from '@ocikit/engine';
import { type ContainerRecord, Containers } from '@ocikit/shim';
import { defaultSnapshotter, type Snapshotter } from '@ocikit/snapshot';
import { standard } from './container-errors.ts';
import type { LocalContext } from './context.ts';

/** The shim's containers of the state root (`ROOT/containers`, `ROOT/runtime`). */
export function containersOf(ctx: LocalContext): Containers {
  return new Containers({ root: ctx.root });
}

/** The snapshotter of the state root (`ROOT/snapshots`): overlay when the kernel has it. */
export function snapshotterOf(ctx: LocalContext): Snapshotter {
  return defaultSnapshotter(join(ctx.root, 'snapshots'));
}

/** The snapshot key of a container's writable layer. */
export function containerSnapshot(id: string): string {
  return `container-${id}`;
}

/**
 * A container by id, unique id prefix or name, reconciled with the runtime; `container-not-found`
 * or `bad-argument` (an ambiguous prefix, `details.matches`) as standard errors.
 */
export function getContainer(ctx: LocalContext, ref: string, operation: Operation): Promise<ContainerRecord> {
  return standard(operation, () => containersOf(ctx).get(ref));
}
