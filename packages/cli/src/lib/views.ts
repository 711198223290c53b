// What `ps`, `images` and `inspect` show to `--format` templates: their items under the field names
// docker and podman use for the same commands (decision 024), so scripts written for them work.
import {
  type ContainerDetails,
  type ContainerSummary,
  humanDuration,
  type ImageDetails,
  type ImageSummary,
} from '@ocikit/engine';
import { formatPlatform, type ImageConfig } from '@ocikit/image-spec';
import type { FormatFields } from './format.ts';
import { goTime, humanSize } from './format.ts';
import { displayPorts } from './network-flags.ts';

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

const since = (iso: string | undefined, now: number) =>
  iso === undefined ? 0 : Math.max(0, now - Date.parse(iso));
const unixSeconds = (iso: string | undefined) => (iso === undefined ? 0 : Math.floor(Date.parse(iso) / 1000));

/** The exit code in a status line (`Exited (3) 2 minutes ago`), for engines that list no other. */
export function statusExitCode(status: string): number | undefined {
  const m = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status);
  return m ? Number(m[1]) : undefined;
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
    Networks: 'NETWORKS',
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
    Size: 'SIZE',
  },
  methods: ['Label'],
};

/** `ps`'s default table, docker's columns. */
export const psTable =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/**
 * One container as a `ps --format` item, from any engine's list. `trunc` (docker's default, off with
 * `--no-trunc`) shortens the ID to 12 characters and the command to 20 columns. Facts an engine does
 * not list (docker's: pid, start and exit times) are zero, as podman prints them.
 */
export function psItem(c: ContainerSummary, now: number, trunc = true): Record<string, unknown> {
  const labels = c.labels;
  return {
    ID: trunc ? c.id.slice(0, 12) : c.id,
    Image: c.image,
    Command: goQuote(trunc ? ellipsis(c.command, 20) : c.command),
    CreatedAt: goTime(c.created),
    RunningFor: `${humanDuration(since(c.created, now))} ago`,
    Ports: displayPorts(c.ports ?? []),
    Networks: (c.networks ?? []).join(','),
    State: c.state,
    Status: c.status,
    Names: c.name,
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Label: (name: unknown) => labels[String(name)] ?? '',
    Pid: c.pid ?? 0,
    ExitCode: c.exitCode ?? statusExitCode(c.status) ?? 0,
    Exited: c.state === 'exited',
    StartedAt: unixSeconds(c.startedAt),
    ExitedAt: unixSeconds(c.finishedAt),
    AutoRemove: c.autoRemove ?? false,
    // podman's, with -s: `12B (virtual 1.98MB)`; empty without
    Size: c.sizeRw === undefined ? '' : `${humanSize(c.sizeRw)} (virtual ${humanSize(c.sizeRootFs ?? 0)})`,
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

/** One name of an image, as `images` lists it and `--json images` prints it, whatever the engine. */
export interface ImageRow {
  /** The name (`docker.io/library/busybox:latest`), `<none>` for an image without one. */
  reference: string;
  /** The digest the name resolves to (a manifest's or an index's), `<none>` when the engine knows none. */
  digest: string;
  /**
   * docker's and podman's image ID: the config digest (of this machine's platform, for an index
   * holding it; else the index digest).
   */
  id: string;
  /** The media type of the manifest or index, when the engine says (else empty). */
  mediaType: string;
  /** Bytes, as the engine counts them. */
  size: number;
  /** `os/arch[/variant]`; for an index, each of its platforms, comma-separated. */
  platform: string | null;
  /** The image config's `created`, for a single-platform image. */
  created: string | null;
}

/** Repository and tag of a name, as docker's REPOSITORY and TAG columns split it (`<none>` when absent). */
export function referenceParts(reference: string): { repository: string; tag: string } {
  const at = reference.indexOf('@');
  const name = at >= 0 ? reference.slice(0, at) : reference;
  const colon = name.lastIndexOf(':');
  if (name === '' || name === '<none>') return { repository: '<none>', tag: '<none>' };
  if (colon > name.lastIndexOf('/')) return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
  return { repository: name, tag: '<none>' };
}

/**
 * The rows `images` shows for an engine's images: one per name (docker's), `<none>` for an image
 * without one, sorted by name. A row's digest is the engine's repo digest of its repository.
 */
export function imageRows(images: readonly ImageSummary[]): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of images) {
    const digestOf = (repository: string | undefined) => {
      const found = image.repoDigests.find((d) => repository === undefined || d.startsWith(`${repository}@`));
      return found === undefined ? '<none>' : found.slice(found.indexOf('@') + 1);
    };
    const row = (reference: string, digest: string): ImageRow => ({
      reference,
      digest,
      id: image.id,
      mediaType: image.mediaType ?? '',
      size: image.size,
      platform: image.platform ?? null,
      created: image.created ?? null,
    });
    if (image.repoTags.length === 0) rows.push(row('<none>', digestOf(undefined)));
    for (const tag of image.repoTags) rows.push(row(tag, digestOf(referenceParts(tag).repository)));
  }
  return rows.sort((a, b) => a.reference.localeCompare(b.reference));
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
 * One image as an `images --format` item; `name` is the reference's repository and tag (by default
 * {@link referenceParts} of it). `trunc` (docker's default, off with `--no-trunc`) shortens the ID to
 * 12 hex digits, as docker's `stringid.TruncateID`; else it is the whole `sha256:…`.
 */
export function imagesItem(
  row: ImageRow,
  name: { repository: string; tag: string } = referenceParts(row.reference),
  now: number = Date.now(),
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

/**
 * A container as `inspect --format` sees it, from any engine's details: docker's and podman's
 * inspect fields. Facts an engine does not give are Go's zero values, as docker prints them.
 */
export function containerInspectItem(d: ContainerDetails): Record<string, unknown> {
  const [path = '', ...args] = d.config.args;
  return {
    Id: d.id,
    Name: d.name,
    Created: d.created,
    Path: path,
    Args: args,
    State: {
      Status: d.state.status,
      Running: d.state.running,
      Paused: d.state.paused,
      Pid: d.state.pid ?? 0,
      ExitCode: d.state.exitCode ?? 0,
      StartedAt: d.state.startedAt ?? ZERO_TIME,
      FinishedAt: d.state.finishedAt ?? ZERO_TIME,
      Error: d.state.error ?? '',
    },
    Image: d.image,
    ImageName: d.image,
    OCIRuntime: d.runtime ?? '',
    LogPath: d.logPath ?? '',
    Config: {
      Image: d.image,
      Cmd: d.config.args,
      Env: d.config.env,
      WorkingDir: d.config.workingDir ?? '',
      User: d.config.user ?? '',
      Hostname: d.config.hostname ?? '',
      Tty: d.config.tty,
      OpenStdin: d.config.openStdin,
      StopSignal: d.config.stopSignal ?? '',
      ...(d.config.stopTimeout !== undefined ? { StopTimeout: d.config.stopTimeout } : {}),
      Labels: new Map(Object.entries(d.config.labels)),
    },
    HostConfig: {
      AutoRemove: d.autoRemove,
      Runtime: d.runtime ?? '',
      NetworkMode: d.network?.mode ?? '',
    },
    NetworkSettings: networkSettingsItem(d),
    Mounts: (d.mounts ?? []).map((m) => ({
      Type: m.type,
      Name: m.name ?? '',
      Source: m.source,
      Destination: m.destination,
      RW: !m.readOnly,
    })),
  };
}

/** A container's `NetworkSettings` as docker's inspect shows them: `Networks` by name, `Ports` by `80/tcp`. */
function networkSettingsItem(d: ContainerDetails): Record<string, unknown> {
  const ports = new Map<string, { HostIp: string; HostPort: string }[]>();
  for (const p of d.network?.ports ?? []) {
    const key = `${p.containerPort}/${p.protocol}`;
    ports.set(key, [...(ports.get(key) ?? []), { HostIp: p.hostIp, HostPort: String(p.hostPort) }]);
  }
  return {
    Networks: new Map(
      (d.network?.networks ?? []).map((n) => [
        n.name,
        {
          NetworkID: n.networkId ?? '',
          IPAddress: n.ipAddress,
          IPPrefixLen: n.ipPrefixLen ?? 0,
          Gateway: n.gateway ?? '',
          GlobalIPv6Address: n.globalIpv6Address ?? '',
          GlobalIPv6PrefixLen: n.globalIpv6PrefixLen ?? 0,
          IPv6Gateway: n.ipv6Gateway ?? '',
          MacAddress: n.macAddress ?? '',
          Aliases: n.aliases,
        },
      ]),
    ),
    Ports: ports,
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

/** An image read from a registry or layout, as the contract's {@link ImageDetails} shows it. */
function detailsOfInspected(i: InspectedImage): ImageDetails {
  const c = i.config.config ?? {};
  return {
    id: i.configDigest,
    repoTags: i.repository !== undefined && i.tag !== undefined ? [`${i.repository}:${i.tag}`] : [],
    repoDigests: i.repository !== undefined ? [`${i.repository}@${i.digest}`] : [],
    created: i.config.created,
    size: i.size,
    platform: configPlatform(i.config),
    labels: c.Labels ?? {},
    mediaType: i.mediaType,
    os: i.config.os,
    architecture: i.config.architecture,
    variant: i.config.variant,
    author: i.config.author,
    config: {
      user: c.User,
      env: c.Env ?? [],
      entrypoint: c.Entrypoint ?? undefined,
      cmd: c.Cmd ?? undefined,
      workingDir: c.WorkingDir,
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      volumes: Object.keys(c.Volumes ?? {}),
      labels: c.Labels ?? {},
      stopSignal: c.StopSignal,
    },
    diffIds: i.config.rootfs.diff_ids,
    raw: i.config,
  };
}

/**
 * An image as `inspect --format` sees it: docker's and podman's image inspect fields, from any
 * engine's details (or from what `inspect` read of a registry or layout image). `Digest` is the
 * first repo digest's.
 */
export function imageInspectItem(image: ImageDetails | InspectedImage): Record<string, unknown> {
  const d = 'configDigest' in image ? detailsOfInspected(image) : image;
  const c = d.config;
  const first = d.repoDigests[0];
  return {
    Id: d.id,
    Digest: 'configDigest' in image ? image.digest : first ? first.slice(first.indexOf('@') + 1) : '',
    RepoTags: d.repoTags,
    RepoDigests: d.repoDigests,
    Created: d.created ?? ZERO_TIME,
    Author: d.author ?? '',
    Architecture: d.architecture,
    Os: d.os,
    Variant: d.variant ?? '',
    Size: d.size,
    ManifestType: d.mediaType ?? '',
    Labels: new Map(Object.entries(d.labels)),
    User: c.user ?? '',
    Config: {
      User: c.user ?? '',
      Env: c.env,
      Entrypoint: c.entrypoint ?? null,
      Cmd: c.cmd ?? null,
      WorkingDir: c.workingDir ?? '',
      Labels: new Map(Object.entries(c.labels)),
      ExposedPorts: new Map(c.exposedPorts.map((p) => [p, {}])),
      StopSignal: c.stopSignal ?? '',
    },
    RootFS: { Type: 'layers', Layers: d.diffIds },
  };
}
