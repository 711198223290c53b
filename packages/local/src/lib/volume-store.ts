// Named volumes of the local engine (issue 15): `ROOT/volumes/NAME/_data` holds a volume's data and
// `ROOT/volumes/NAME/volume.json` its record (labels, driver options, creation time, whether it still
// waits for its copy-up). The containers using a volume are found from the `volumes.json` each
// container's bundle keeps (decision 155).
import { randomBytes } from 'node:crypto';
import {
  type Dirent,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ContainerMount, Operation, VolumeDetails, VolumeSpec } from '@ocikit/engine';
import { truncate } from '@ocikit/errors';
import type { ContainerRecord } from '@ocikit/shim';
import { localError } from './container-errors.ts';
import { containersOf } from './container-store.ts';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';

/** What a volume name may be: Docker's (a letter or digit, then letters, digits, `_.-`). */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A volume's record, `volume.json`. */
export interface VolumeRecord {
  /** Its name. */
  name: string;
  /** When it was made, RFC 3339. */
  createdAt: string;
  /** Its labels. */
  labels: Record<string, string>;
  /** Its driver options (`type`, `o`, `device`). */
  options: Record<string, string>;
  /** True until it is first mounted: a new volume is first filled from the image (copy-up). */
  needsCopyUp: boolean;
  /** True for a volume made for one container (`-v /path`, the image's `Volumes`). */
  anonymous: boolean;
}

/** A mount of a container as its bundle's `volumes.json` keeps it, for in-use checks and `volumesFrom`. */
export interface ContainerVolumeMount {
  /** `volume` (an engine volume) or `bind` (a host path). */
  type: 'volume' | 'bind';
  /** The volume's name, or the host path. */
  source: string;
  /** The path in the container. */
  target: string;
  /** Mounted read-only. */
  readOnly: boolean;
  /** An anonymous volume, removed with the container under autoRemove or `rm -v`. */
  anonymous?: boolean | undefined;
}

const DRIVER_OPTIONS = new Set(['type', 'o', 'device']);

/** `ROOT/volumes`. */
export function volumesDir(ctx: LocalContext): string {
  return join(ctx.root, 'volumes');
}

/** Where a volume's data is. */
export function volumeData(ctx: LocalContext, name: string): string {
  return join(volumesDir(ctx), name, '_data');
}

function checkName(name: string, operation: Operation): void {
  if (!VOLUME_NAME.test(name) || name.length > 255)
    throw localError('bad-argument', operation, `invalid volume name ${JSON.stringify(truncate(name, 80))}`, {
      details: { name: truncate(name, 80) },
      hint: 'a volume name is 2 or more letters, digits, _ . -, starting with a letter or digit',
    });
}

function checkOptions(options: Record<string, string>, operation: Operation): void {
  for (const key of Object.keys(options))
    if (!DRIVER_OPTIONS.has(key))
      throw localError(
        'bad-argument',
        operation,
        `unknown volume option ${JSON.stringify(truncate(key, 40))}`,
        {
          hint: 'the local driver takes type, o and device',
        },
      );
  const type = options.type;
  if (type === undefined) {
    if (options.device !== undefined || options.o !== undefined)
      throw localError(
        'bad-argument',
        operation,
        'volume options o and device need type (tmpfs, none or bind)',
      );
    return;
  }
  if (type === 'tmpfs') {
    if (options.device !== undefined && options.device !== 'tmpfs')
      throw localError('bad-argument', operation, 'a tmpfs volume takes no device');
    return;
  }
  if (type !== 'none' && type !== 'bind')
    throw localError(
      'bad-argument',
      operation,
      `volume type ${JSON.stringify(truncate(type, 40))} is not tmpfs, none or bind`,
    );
  const device = options.device;
  if (!device || !isAbsolute(device))
    throw localError('bad-argument', operation, `a ${type} volume needs device=/absolute/host/path`);
  if (!existsSync(device))
    throw localError('bad-argument', operation, `volume device ${device} does not exist on this host`);
}

/** A volume's record, or `volume-not-found`. */
export function readVolume(ctx: LocalContext, name: string, operation: Operation): VolumeRecord {
  try {
    if (VOLUME_NAME.test(name))
      return JSON.parse(readFileSync(join(volumesDir(ctx), name, 'volume.json'), 'utf8')) as VolumeRecord;
  } catch {
    // not there (or half-removed): no such volume
  }
  throw localError('volume-not-found', operation, `no such volume ${JSON.stringify(truncate(name, 80))}`, {
    details: { name: truncate(name, 80) },
    hint: 'see the volumes with `ocikit volume ls`; `ocikit volume create NAME` makes one',
  });
}

/** The contract's view of a volume. */
export function volumeDetails(ctx: LocalContext, record: VolumeRecord): VolumeDetails {
  return {
    name: record.name,
    driver: 'local',
    mountpoint: volumeData(ctx, record.name),
    createdAt: record.createdAt,
    labels: record.labels,
    options: record.options,
    scope: 'local',
    raw: record,
  };
}

/** Records a volume event (`create`, `destroy`) in the journal, as Docker's (`driver` attribute). */
export function volumeEvent(ctx: LocalContext, action: 'create' | 'destroy', name: string): Promise<void> {
  return recordEvent(ctx, { type: 'volume', action, id: name, attributes: { driver: 'local' } });
}

/**
 * Makes a volume: its directory made whole in a temporary place, then renamed into place, so a
 * volume is there complete or not at all, and two makers of one name agree. A name already there
 * gives the volume that is there (as Docker). A volume without a name gets 64 hex digits. Its
 * `create` event is recorded when this call made it.
 */
export async function createVolume(
  ctx: LocalContext,
  spec: VolumeSpec & { anonymous?: boolean | undefined },
  operation: Operation = 'volumes.create',
): Promise<VolumeRecord> {
  const name = spec.name ?? randomBytes(32).toString('hex');
  checkName(name, operation);
  const options = { ...(spec.driverOpts ?? {}) };
  checkOptions(options, operation);
  const dir = volumesDir(ctx);
  const final = join(dir, name);
  if (existsSync(join(final, 'volume.json'))) return readVolume(ctx, name, operation);
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const tmp = mkdtempSync(join(dir, '.new-'));
  const record: VolumeRecord = {
    name,
    createdAt: new Date().toISOString(),
    labels: { ...(spec.labels ?? {}) },
    options,
    needsCopyUp: true,
    anonymous: spec.anonymous === true,
  };
  try {
    mkdirSync(join(tmp, '_data'), { mode: 0o755 });
    writeFileSync(join(tmp, 'volume.json'), `${JSON.stringify(record)}\n`);
    try {
      renameSync(tmp, final);
    } catch (e) {
      // a volume half-removed by a killed `volume rm` (its record gone first): finish removing it
      if (existsSync(join(final, 'volume.json'))) throw e;
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(final, 'volume.json'))) return readVolume(ctx, name, operation);
    throw e;
  }
  await volumeEvent(ctx, 'create', name);
  return record;
}

/** Saves a changed volume record (atomically). */
export function saveVolume(ctx: LocalContext, record: VolumeRecord): void {
  const path = join(volumesDir(ctx), record.name, 'volume.json');
  writeFileSync(`${path}.tmp`, `${JSON.stringify(record)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Every volume, by name. */
export function listVolumes(ctx: LocalContext): VolumeRecord[] {
  let names: string[];
  try {
    names = readdirSync(volumesDir(ctx)).filter((n) => VOLUME_NAME.test(n));
  } catch {
    return [];
  }
  const out: VolumeRecord[] = [];
  for (const name of names.sort()) {
    try {
      out.push(readVolume(ctx, name, 'volumes.list'));
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** The path of a container's mounts file in its bundle. */
export function containerMountsPath(record: Pick<ContainerRecord, 'bundle'>): string {
  return join(record.bundle, 'volumes.json');
}

/** The volume and bind mounts a container keeps in its bundle (none when it has no file). */
export function containerMounts(record: Pick<ContainerRecord, 'bundle'>): ContainerVolumeMount[] {
  try {
    return JSON.parse(readFileSync(containerMountsPath(record), 'utf8')) as ContainerVolumeMount[];
  } catch {
    return [];
  }
}

/**
 * A container's bind and volume mounts for `containers.inspect`: a volume's source is its data
 * directory, or the device of a bind volume (empty for a tmpfs volume, whose type is reported).
 */
export function detailsMounts(ctx: LocalContext, record: Pick<ContainerRecord, 'bundle'>): ContainerMount[] {
  return containerMounts(record).map((m): ContainerMount => {
    if (m.type === 'bind')
      return { type: 'bind', source: m.source, destination: m.target, readOnly: m.readOnly };
    let options: Record<string, string> = {};
    try {
      options = readVolume(ctx, m.source, 'containers.inspect').options;
    } catch {
      // removed since (with -f): its data directory is what it was
    }
    const tmpfs = options.type === 'tmpfs';
    const device = options.type === 'none' || options.type === 'bind' ? options.device : undefined;
    return {
      type: tmpfs ? 'tmpfs' : 'volume',
      name: m.source,
      source: tmpfs ? '' : (device ?? volumeData(ctx, m.source)),
      destination: m.target,
      readOnly: m.readOnly,
    };
  });
}

/** The containers that mount each volume, by volume name. */
export async function volumeUsers(ctx: LocalContext): Promise<Map<string, ContainerRecord[]>> {
  const users = new Map<string, ContainerRecord[]>();
  for (const record of await containersOf(ctx).list()) {
    for (const m of containerMounts(record)) {
      if (m.type !== 'volume') continue;
      const list = users.get(m.source) ?? [];
      if (!list.includes(record)) list.push(record);
      users.set(m.source, list);
    }
  }
  return users;
}

/** Deletes a volume's directory (its record first, so a half-removed volume is no volume); records `destroy`. */
export async function deleteVolume(ctx: LocalContext, name: string): Promise<void> {
  const dir = join(volumesDir(ctx), name);
  rmSync(join(dir, 'volume.json'), { force: true });
  rmSync(dir, { recursive: true, force: true });
  await volumeEvent(ctx, 'destroy', name);
}

/** Bytes under a directory (files' sizes, not following links). */
export function diskUsage(path: string): number {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory()) total += diskUsage(p);
    else if (e.isFile()) {
      try {
        total += lstatSync(p).size;
      } catch {
        // gone meanwhile
      }
    }
  }
  return total;
}

/**
 * Removes the anonymous volumes among `names` that no container uses any more (a container's own
 * ones, as it is removed under autoRemove or `rm -v`); named volumes are never touched.
 */
export async function removeAnonymousVolumes(ctx: LocalContext, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const users = await volumeUsers(ctx);
  for (const name of names) {
    if ((users.get(name) ?? []).length > 0) continue;
    try {
      if (readVolume(ctx, name, 'containers.remove').anonymous) await deleteVolume(ctx, name);
    } catch {
      // gone already
    }
  }
}
