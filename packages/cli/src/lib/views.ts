// What `ps`, `images` and `inspect` show to `--format` templates: their items under the field names
// docker and podman use for the same commands (decision 024), so scripts written for them work.
import { formatPlatform, type ImageConfig } from '@ocikit/image-spec';
import type { ContainerRecord } from '@ocikit/shim';
import type { FormatFields } from './format.ts';
import { goTime, humanDuration, humanSize } from './format.ts';

/** Docker's ellipsis: at most `width` characters, the last one `…` when cut. */
function ellipsis(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : `${chars.slice(0, width - 1).join('')}…`;
}

const since = (iso: string | undefined, now: number) =>
  iso === undefined ? 0 : Math.max(0, now - Date.parse(iso));
const unixSeconds = (iso: string | undefined) => (iso === undefined ? 0 : Math.floor(Date.parse(iso) / 1000));

/**
 * A container's STATUS as docker shows it: `Up 5 seconds`, `Up 2 hours (Paused)`, `Exited (0) 2
 * minutes ago`, `Created`.
 */
export function containerStatus(r: ContainerRecord, now: number): string {
  const up = () => `Up ${humanDuration(since(r.startedAt ?? r.createdAt, now))}`;
  switch (r.status) {
    case 'running':
      return up();
    case 'paused':
      return `${up()} (Paused)`;
    case 'exited': {
      const code = `Exited (${r.exitCode ?? 'unknown'})`;
      return r.finishedAt ? `${code} ${humanDuration(since(r.finishedAt, now))} ago` : code;
    }
    case 'created':
      return 'Created';
    default:
      return 'Configuring';
  }
}

/** The fields of a `ps` item, with their table headers: docker's, then podman's own. */
export const psFields: FormatFields = {
  headers: {
    ID: 'CONTAINER ID',
    Image: 'IMAGE',
    Command: 'COMMAND',
    CreatedAt: 'CREATED AT',
    RunningFor: 'CREATED',
    Ports: 'PORTS',
    State: 'STATE',
    Status: 'STATUS',
    Names: 'NAMES',
    Labels: 'LABELS',
    Label: 'LABEL',
    Pid: 'PID',
    ExitCode: 'EXIT CODE',
    Exited: 'EXITED',
    StartedAt: 'STARTED AT',
    ExitedAt: 'EXITED AT',
    AutoRemove: 'AUTO REMOVE',
  },
  methods: ['Label'],
};

/** `ps`'s default table, docker's columns (but PORTS, which ocikit's containers do not publish). */
export const psTable = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';

/** One container as a `ps --format` item. */
export function psItem(r: ContainerRecord, now: number): Record<string, unknown> {
  const labels = r.labels ?? {};
  return {
    ID: r.id.slice(0, 12),
    Image: r.image,
    Command: JSON.stringify(ellipsis(r.command.join(' '), 20)),
    CreatedAt: goTime(r.createdAt),
    RunningFor: `${humanDuration(since(r.createdAt, now))} ago`,
    Ports: '',
    State: r.status,
    Status: containerStatus(r, now),
    Names: r.name,
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Label: (name: unknown) => labels[String(name)] ?? '',
    Pid: r.pid ?? 0,
    ExitCode: r.exitCode ?? 0,
    Exited: r.status === 'exited',
    StartedAt: unixSeconds(r.startedAt),
    ExitedAt: unixSeconds(r.finishedAt),
    AutoRemove: r.autoRemove,
  };
}

/** An image config's platform, `os/arch[/variant]`. */
export function configPlatform(config: ImageConfig): string {
  return formatPlatform({
    os: config.os,
    architecture: config.architecture,
    ...(config.variant !== undefined ? { variant: config.variant } : {}),
  });
}

/** One image of the local store, as `images` lists it. */
export interface ImageRow {
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  /** `os/arch[/variant]`; for an index, each of its platforms, comma-separated. */
  platform: string | null;
  /** The image config's `created`, for a single-platform image. */
  created: string | null;
}

/** The fields of an `images` item, with their table headers: docker's, then ocikit's own. */
export const imagesFields: FormatFields = {
  headers: {
    ID: 'IMAGE ID',
    Repository: 'REPOSITORY',
    Tag: 'TAG',
    Digest: 'DIGEST',
    CreatedSince: 'CREATED',
    CreatedAt: 'CREATED AT',
    Size: 'SIZE',
    Reference: 'REFERENCE',
    Platform: 'PLATFORM',
    MediaType: 'MEDIA TYPE',
  },
};

/** One image as an `images --format` item; `name` is the reference's repository and tag. */
export function imagesItem(
  row: ImageRow,
  name: { repository: string; tag: string },
  now: number,
): Record<string, unknown> {
  return {
    ID: row.digest.slice(row.digest.indexOf(':') + 1, row.digest.indexOf(':') + 13),
    Repository: name.repository,
    Tag: name.tag,
    Digest: row.digest,
    CreatedSince: row.created ? `${humanDuration(since(row.created, now))} ago` : 'N/A',
    CreatedAt: row.created ? goTime(row.created) : '',
    Size: humanSize(row.size),
    Reference: row.reference,
    Platform: row.platform ?? '',
    MediaType: row.mediaType,
  };
}

/** Go's zero time as docker's inspect prints it. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A container as `inspect --format` sees it: docker's and podman's inspect fields. */
export function containerInspectItem(r: ContainerRecord): Record<string, unknown> {
  const [path = '', ...args] = r.command;
  const labels = new Map(Object.entries(r.labels ?? {}));
  return {
    Id: r.id,
    Name: r.name,
    Created: r.createdAt,
    Path: path,
    Args: args,
    State: {
      Status: r.status,
      Running: r.status === 'running' || r.status === 'paused',
      Paused: r.status === 'paused',
      Pid: r.pid ?? 0,
      ExitCode: r.exitCode ?? 0,
      StartedAt: r.startedAt ?? ZERO_TIME,
      FinishedAt: r.finishedAt ?? ZERO_TIME,
      Error: r.error ?? '',
    },
    Image: r.image,
    ImageName: r.image,
    OCIRuntime: r.runtime,
    LogPath: r.logPath,
    Config: {
      Image: r.image,
      Cmd: r.command,
      Tty: r.tty,
      OpenStdin: r.interactive,
      StopSignal: r.stopSignal,
      Labels: labels,
    },
    HostConfig: { AutoRemove: r.autoRemove, Runtime: r.runtime },
  };
}

/** What `inspect` read of an image, for {@link imageInspectItem}. */
export interface InspectedImage {
  /** The registry repository and tag it was named by; undefined for a layout (`oci:DIR:REF`). */
  repository: string | undefined;
  tag: string | undefined;
  /** The digest the reference resolves to (an index's, for a multi-platform image). */
  digest: string;
  mediaType: string;
  /** The chosen image's config digest (docker's and podman's image ID) and whole size. */
  configDigest: string;
  size: number;
  config: ImageConfig;
}

/** An image as `inspect --format` sees it: docker's and podman's image inspect fields. */
export function imageInspectItem(i: InspectedImage): Record<string, unknown> {
  const c = i.config.config ?? {};
  return {
    Id: i.configDigest,
    Digest: i.digest,
    RepoTags: i.repository !== undefined && i.tag !== undefined ? [`${i.repository}:${i.tag}`] : [],
    RepoDigests: i.repository !== undefined ? [`${i.repository}@${i.digest}`] : [],
    Created: i.config.created ?? ZERO_TIME,
    Author: i.config.author ?? '',
    Architecture: i.config.architecture,
    Os: i.config.os,
    Variant: i.config.variant ?? '',
    Size: i.size,
    ManifestType: i.mediaType,
    Labels: new Map(Object.entries(c.Labels ?? {})),
    User: c.User ?? '',
    Config: {
      User: c.User ?? '',
      Env: c.Env ?? [],
      Entrypoint: c.Entrypoint ?? null,
      Cmd: c.Cmd ?? null,
      WorkingDir: c.WorkingDir ?? '',
      Labels: new Map(Object.entries(c.Labels ?? {})),
      ExposedPorts: new Map(Object.keys(c.ExposedPorts ?? {}).map((p) => [p, {}])),
      StopSignal: c.StopSignal ?? '',
    },
    RootFS: { Type: 'layers', Layers: i.config.rootfs.diff_ids },
  };
}
