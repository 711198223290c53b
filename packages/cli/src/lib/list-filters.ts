// `ps --filter` and `images --filter` as podman 4.3 reads them (decision 205), applied by the CLI
// over `containers.list` and `images.list`, so they select the same on every engine.
import { type ContainerSummary, hasLabel, type ImageSummary } from '@ocikit/engine';
import { InvalidArgumentError, isInvalidArgument, isNotFound, NotFoundError, truncate } from '@ocikit/errors';
import { parseReference } from '@ocikit/reference';
import type { Context } from './command.ts';
import { reportError } from './hints.ts';
import { parseTimestamp } from './timestamp.ts';
import { statusExitCode } from './views.ts';

/** `--filter` values by key, in the order given: `label=a --filter label=b` → `label: [a, b]`. */
export type ListFilters = ReadonlyMap<string, readonly string[]>;

/** The container states `status=` takes: ocikit's and docker's, and podman's that no engine here reports. */
const STATES: readonly string[] =
  'created running paused restarting removing exited dead configured stopped stopping unknown'.split(' ');

/** `ps` filter keys podman has that container summaries cannot answer (refused by name, not ignored). */
const UNANSWERED_PS_KEYS = ['pod', 'health', 'restart-policy', 'is-task', 'label!'];

const PS_KEYS = [
  'id',
  'name',
  'label',
  'status',
  'ancestor',
  'exited',
  'network',
  'volume',
  'before',
  'since',
  'until',
];
const IMAGES_KEYS = ['dangling', 'label', 'reference', 'before', 'since', 'until'];

function invalidFilter(where: string, message: string, keys: readonly string[]): InvalidArgumentError {
  return new InvalidArgumentError(`${where}: ${message}`, {
    hint: `filters: ${keys.map((k) => `${k}=…`).join(', ')}`,
  });
}

/** Groups `KEY=VALUE` strings by key; a value without `=` or a key not in `keys` is refused. */
function groupFilters(
  values: readonly string[] | undefined,
  where: string,
  keys: readonly string[],
  unanswered: readonly string[] = [],
): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    const key = value.slice(0, eq);
    if (eq < 0) throw invalidFilter(where, `invalid filter ${JSON.stringify(truncate(value, 60))}`, keys);
    if (unanswered.includes(key))
      throw invalidFilter(
        where,
        `the filter ${JSON.stringify(key)} is not supported: container lists do not carry what it needs`,
        keys,
      );
    if (!keys.includes(key))
      throw invalidFilter(where, `${JSON.stringify(truncate(key, 40))} is an invalid filter`, keys);
    grouped.set(key, [...(grouped.get(key) ?? []), value.slice(eq + 1)]);
  }
  return grouped;
}

/**
 * The `until=` of `filters`, in ms since the epoch: podman takes exactly one (a duration before
 * now, Unix seconds or an RFC 3339 time) and keeps what was created before it.
 */
function untilOf(filters: ReadonlyMap<string, readonly string[]>, where: string, keys: readonly string[]) {
  const values = filters.get('until');
  if (values === undefined) return undefined;
  const [value] = values;
  if (values.length !== 1 || value === undefined)
    throw invalidFilter(where, 'specify exactly one timestamp for until', keys);
  return parseTimestamp(value, `${where} --filter until`);
}

/** A Go-style regular expression (`name=`, `id=`): unanchored, as podman matches them. */
function regexOf(pattern: string, where: string, key: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch {
    throw invalidFilter(
      where,
      `${key}=${JSON.stringify(truncate(pattern, 40))} is not a regular expression`,
      PS_KEYS,
    );
  }
}

/**
 * `ps --filter` values, checked: podman's keys that a container summary answers — `id`, `name`
 * (regular expressions), `label` (`K` or `K=V`), `status`, `ancestor`, `exited`, `network`,
 * `volume` (a volume's name or a bind mount's host path, `:DEST` its path inside), `before`,
 * `since`, `until` (one time: created before it). Unknown keys, malformed values and keys it cannot
 * answer are InvalidArgument.
 */
export function parseContainerFilters(values: readonly string[] | undefined, where: string): ListFilters {
  const filters = groupFilters(values, where, PS_KEYS, UNANSWERED_PS_KEYS);
  for (const state of filters.get('status') ?? [])
    if (!STATES.includes(state))
      throw invalidFilter(where, `unknown container state ${JSON.stringify(truncate(state, 40))}`, PS_KEYS);
  for (const code of filters.get('exited') ?? [])
    if (!/^-?\d+$/.test(code))
      throw invalidFilter(where, `exited=${JSON.stringify(truncate(code, 40))} is not an exit code`, PS_KEYS);
  for (const key of ['id', 'name']) for (const p of filters.get(key) ?? []) regexOf(p, where, key);
  untilOf(filters, where, PS_KEYS);
  return filters;
}

/** The creation time (ms) of what `before=`/`since=` name (`ref`), from its RFC 3339 `created`. */
function creationTime(created: string | undefined, key: string, ref: string): number {
  const time = created === undefined ? Number.NaN : Date.parse(created);
  if (Number.isNaN(time))
    throw new InvalidArgumentError(`--filter ${key}=${ref}: its creation time is unknown`);
  return time;
}

/** Whether container `c` ran image `value`: its full id, its name as given, or that name's `:latest`-less form. */
function fromImage(c: ContainerSummary, value: string): boolean {
  const id = c.imageId?.replace(/^sha256:/, '');
  return (
    value === c.image ||
    `${value}:latest` === c.image ||
    (id !== undefined && value.replace(/^sha256:/, '') === id)
  );
}

/**
 * Whether container `c` mounts what `volume=` names, as podman 4.3 matches it (decision 219): `SRC`
 * is a volume's name (named or anonymous) or a bind mount's host path; `SRC:DEST` is such a mount
 * at path `DEST` in the container. A path in the container alone matches nothing.
 */
function mountsVolume(c: ContainerSummary, value: string): boolean {
  const colon = value.indexOf(':');
  const source = colon < 0 ? value : value.slice(0, colon);
  const destination = colon < 0 ? '' : value.slice(colon + 1);
  return (c.mounts ?? []).some(
    (m) =>
      (m.type === 'bind' ? m.source : m.name) === source &&
      (destination === '' || m.destination === destination),
  );
}

/**
 * The containers of `listed` that `filters` select, as podman: values of one key OR (except
 * `label`, whose values AND), different keys AND. `before`/`since` name a container of `every`
 * (by name, id or id prefix); one that is missing is NotFound.
 */
export function filterContainers(
  listed: readonly ContainerSummary[],
  filters: ListFilters,
  every: readonly ContainerSummary[],
  where: string,
): ContainerSummary[] {
  const any = (key: string, test: (value: string) => boolean) => {
    const values = filters.get(key);
    return values === undefined || values.some(test);
  };
  const bound = (key: string) =>
    (filters.get(key) ?? []).map((ref) => {
      const found =
        every.find((c) => c.name === ref || c.id === ref) ?? every.find((c) => c.id.startsWith(ref));
      if (found === undefined || ref === '')
        throw new NotFoundError(`${where}: no container with name or ID ${JSON.stringify(ref)} found`);
      return creationTime(found.created, key, ref);
    });
  const before = bound('before');
  const since = bound('since');
  const until = untilOf(filters, where, PS_KEYS);
  return listed.filter((c) => {
    const created = Date.parse(c.created);
    const exited = c.state === 'exited' ? (c.exitCode ?? statusExitCode(c.status)) : undefined;
    return (
      any('id', (p) => new RegExp(p).test(c.id)) &&
      any('name', (p) => new RegExp(p).test(c.name)) &&
      (filters.get('label') ?? []).every((l) => hasLabel(c.labels, l)) &&
      any('status', (s) => s === c.state) &&
      any('ancestor', (a) => fromImage(c, a)) &&
      any('exited', (code) => exited !== undefined && exited === Number(code)) &&
      any('network', (n) => (c.networks ?? []).includes(n)) &&
      any('volume', (v) => mountsVolume(c, v)) &&
      before.every((t) => created < t) &&
      since.every((t) => created > t) &&
      (until === undefined || created < until)
    );
  });
}

/**
 * `images --filter` values, checked: `dangling=true|false`, `label=K[=V]`, `reference=GLOB`,
 * `before=IMAGE`, `since=IMAGE`, `until=TIME` (one). Unknown keys and malformed values are
 * InvalidArgument.
 */
export function parseImageFilters(values: readonly string[] | undefined, where: string): ListFilters {
  const filters = groupFilters(values, where, IMAGES_KEYS);
  const dangling = filters.get('dangling') ?? [];
  for (const value of dangling)
    if (!['true', 'false'].includes(value.toLowerCase()))
      throw invalidFilter(
        where,
        `dangling=${JSON.stringify(truncate(value, 40))} is not true or false`,
        IMAGES_KEYS,
      );
  if (new Set(dangling.map((d) => d.toLowerCase())).size > 1)
    throw invalidFilter(where, 'dangling=true and dangling=false together', IMAGES_KEYS);
  untilOf(filters, where, IMAGES_KEYS);
  return filters;
}

/** Go's `path.Match` as a regular expression: `*` and `?` stop at `/`, `[…]` a class. */
export function globRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    const close = ch === '[' ? pattern.indexOf(']', i + 2) : -1;
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (close > 0) {
      const body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
      source += body.startsWith('^') ? `[^/${body.slice(1)}]` : `[${body}]`;
      i = close;
    } else if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      source += (pattern[i] ?? '').replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    } else source += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * What `reference=` is matched against for one name, as podman 4.3: the name with and without its
 * tag, without its registry, and its last path component, each with and without the tag.
 */
function referenceCandidates(name: string): string[] {
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(name);
  } catch {
    return [name];
  }
  const last = ref.repository.slice(ref.repository.lastIndexOf('/') + 1);
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  return [ref.name, ref.repository, last].flatMap((n) => [n, `${n}${tag}`]);
}

/**
 * The images of `listed` that `filters` select, as podman 4.3: an image is kept or dropped whole
 * (every name of an image one `reference=` matches is listed); values of one key OR, different keys
 * AND. `createdOf` gives the creation time of the image `before=`/`since=` name (NotFound if none).
 */
export async function filterImages(
  listed: readonly ImageSummary[],
  filters: ListFilters,
  createdOf: (ref: string) => Promise<string | undefined>,
): Promise<ImageSummary[]> {
  const any = (key: string, test: (value: string) => boolean) => {
    const values = filters.get(key);
    return values === undefined || values.some(test);
  };
  const times = async (key: string) => {
    const out: number[] = [];
    for (const ref of filters.get(key) ?? []) {
      out.push(creationTime(await createdOf(ref), key, ref));
    }
    return out;
  };
  const before = await times('before');
  const since = await times('since');
  const until = untilOf(filters, 'ocikit images', IMAGES_KEYS);
  const globs = (filters.get('reference') ?? []).map(globRegex);
  return listed.filter((image) => {
    const created = image.created === undefined ? Number.NaN : Date.parse(image.created);
    return (
      any('dangling', (d) => (d.toLowerCase() === 'true') === (image.repoTags.length === 0)) &&
      any('label', (l) => hasLabel(image.labels, l)) &&
      (globs.length === 0 ||
        image.repoTags.some((name) => referenceCandidates(name).some((c) => globs.some((g) => g.test(c))))) &&
      before.every((t) => created < t) &&
      since.every((t) => created > t) &&
      (until === undefined || created < until)
    );
  });
}

/**
 * Runs `select` (parsing `--filter`s and applying them); a refused filter (InvalidArgument, or
 * NotFound for what `before=`/`since=` name) is reported and gives podman's exit code 125, as the
 * command's other failures keep theirs.
 */
export async function selecting<T>(ctx: Context, select: () => Promise<T>): Promise<T | 125> {
  try {
    return await select();
  } catch (e) {
    if (!(isInvalidArgument(e) || isNotFound(e))) throw e;
    reportError(ctx.stderr, e, ctx.debug);
    return 125;
  }
}
