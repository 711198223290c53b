// What `ps`, `images` and `inspect` show to `--format` templates: their items under the field names
// docker and podman use for the same commands (decision 024), so scripts written for them work.
import { formatPlatform, type ImageConfig } from '@ocikit/image-spec';
import type { ContainerRecord } from '@ocikit/shim';
import type { FormatFields } from './format.ts';
import { goTime, humanDuration, humanSize } from './format.ts';

/** The columns a character takes in a terminal, as go-runewidth counts them: 0, 1 or 2 (East Asian wide). */
function runeWidth(ch: string): number {
  if (/^[\p{Mn}\p{Me}\p{Cf}]$/u.test(ch)) return 0;
  const c = ch.codePointAt(0) ?? 0;
  const wide =
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) ||
    (c >= 0x20000 && c <= 0x3fffd);
  return wide ? 2 : 1;
}

/**
 * docker's `formatter.Ellipsis`: at most `width` terminal columns, the last one `…` when cut (wide
 * characters count two).
 */
export function ellipsis(s: string, width: number): string {
  const chars = [...s];
  if (width <= 0) return '';
  if (width === 1) return chars[0] ?? '';
  const ends: number[] = [];
  let total = 0;
  for (const ch of chars) {
    total += runeWidth(ch);
    ends.push(total);
  }
  if (total <= width) return s;
  for (let i = 0; i + 1 < ends.length; i++) {
    if ((ends[i] ?? 0) <= width - 1 && (ends[i + 1] ?? 0) > width - 1)
      return `${chars.slice(0, i + 1).join('')}…`;
  }
  return s;
}

/**
 * Go's `strconv.Quote`: double quotes, `\"` and `\\`, `\n`-style escapes, `\xNN` for other ASCII
 * controls, `\uNNNN`/`\UNNNNNNNN` for what Unicode does not print; printable characters as they are.
 */
export function goQuote(s: string): string {
  const short: Readonly<Record<string, string>> = {
    '\x07': '\\a',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
  };
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += ch;
    else if (short[ch] !== undefined) out += short[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/**
 * A container's command as docker's engine lists it: the path and its arguments, those with a space
 * in single quotes (`sh -c 'sleep 10'`).
 */
export function commandLine(command: readonly string[]): string {
  return command.map((a, i) => (i > 0 && a.includes(' ') ? `'${a}'` : a)).join(' ');
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

/**
 * One container as a `ps --format` item. `trunc` (docker's default, off with `--no-trunc`) shortens
 * the ID to 12 characters and the command to 20 columns.
 */
export function psItem(r: ContainerRecord, now: number, trunc = true): Record<string, unknown> {
  const labels = r.labels ?? {};
  const command = commandLine(r.command);
  return {
    ID: trunc ? r.id.slice(0, 12) : r.id,
    Image: r.image,
    Command: goQuote(trunc ? ellipsis(command, 20) : command),
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
  /**
   * docker's and podman's image ID: the config digest (of this machine's platform, for an index
   * holding it; else the index digest).
   */
  id: string;
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

/**
 * `images`' default table: docker's and podman's columns (`--digests` adds DIGEST after TAG), then
 * ocikit's PLATFORM (decision 086).
 */
export function imagesTable(digests: boolean): string {
  return `table {{.Repository}}\t{{.Tag}}\t${digests ? '{{.Digest}}\t' : ''}{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.Platform}}`;
}

/**
 * One image as an `images --format` item; `name` is the reference's repository and tag. `trunc`
 * (docker's default, off with `--no-trunc`) shortens the ID to 12 hex digits, as docker's
 * `stringid.TruncateID`; else it is the whole `sha256:…`.
 */
export function imagesItem(
  row: ImageRow,
  name: { repository: string; tag: string },
  now: number,
  trunc = true,
): Record<string, unknown> {
  const hex = row.id.slice(row.id.indexOf(':') + 1);
  return {
    ID: trunc ? hex.slice(0, 12) : row.id,
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
