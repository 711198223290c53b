// containers-registries.conf(5), version 2, as podman, skopeo and buildah read it
// (containers/image pkg/sysregistriesv2 and pkg/shortnames; decision 062): short-name search and
// aliases, `[[registry]]` prefixes rewritten to locations, `insecure`, `blocked`, and mirrors.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, PermissionDeniedError } from '@ocikit/errors';
import { parseNormalizedReference, type Reference } from '@ocikit/reference';
import { parse as parseToml } from 'smol-toml';

/** How short names (no registry) resolve: `enforcing` refuses ambiguity, `permissive` tries each. */
export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';

/** Which pulls a mirror serves. */
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

/** A mirror of a `[[registry]]`. */
export interface RegistryMirror {
  /** `host[:port][/namespace]`. */
  readonly location: string;
  readonly insecure: boolean;
  readonly pullFromMirror: PullFromMirror;
}

/** One `[[registry]]` table. */
export interface RegistryEntry {
  /** What references it applies to: `host[/path]`, or `*.domain` for subdomains. */
  readonly prefix: string;
  /** Where references under `prefix` are pulled from (`host[:port][/namespace]`); empty for a `*.` prefix. */
  readonly location: string;
  /** Plain HTTP and unverified TLS allowed. */
  readonly insecure: boolean;
  /** Pulls and pushes refused. */
  readonly blocked: boolean;
  /** Mirrors only for references by digest. */
  readonly mirrorByDigestOnly: boolean;
  readonly mirrors: readonly RegistryMirror[];
}

/** Where one pull may come from: a mirror or the registry itself, with the reference rewritten for it. */
export interface PullSource {
  /** The reference to pull there. */
  readonly reference: Reference;
  /** True for a mirror. */
  readonly mirror: boolean;
  /** The endpoint's `insecure` setting. */
  readonly insecure: boolean;
}

/** How a name given by the user was resolved. */
export interface ShortNameResolution {
  /** References to try, in order. */
  readonly candidates: readonly Reference[];
  /** `qualified` (it named its registry), `alias`, `search` (unqualified-search-registries) or `default` (docker.io). */
  readonly rationale: 'qualified' | 'alias' | 'search' | 'default';
  /** The file the alias or search list came from. */
  readonly origin?: string;
}

/** One registries.conf file as parsed, before merging. */
export interface RegistriesConfFile {
  /** Where it was read from. */
  path: string;
  /** Its `[[registry]]` tables (the first of each prefix), sorted by prefix. */
  registries: RegistryEntry[];
  /** `unqualified-search-registries`, when the file sets it. */
  search: string[] | undefined;
  /** `short-name-mode`, when the file sets it. */
  mode: ShortNameMode | undefined;
  /** `[aliases]`. */
  aliases: Map<string, string>;
}

function fail(path: string, message: string): never {
  throw new InvalidArgumentError(`${path}: ${message}`, {
    hint: 'see containers-registries.conf(5); ocikit reads version 2 of the format',
  });
}

/** `insecure = true`, read strictly: any other type is an error naming the key. */
function bool(path: string, table: Record<string, unknown>, key: string): boolean {
  const v = table[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail(path, `${key} must be true or false`);
  return v;
}

function str(path: string, table: Record<string, unknown>, key: string): string | undefined {
  const v = table[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(path, `${key} must be a string`);
  return v;
}

/** A location or prefix without trailing slashes; URL schemes refused, as containers/image does. */
function location(path: string, value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) fail(path, `invalid location "${value}": URI schemes are not supported`);
  return trimmed;
}

const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d+)?$/;

/** Parses one registries.conf file's text (TOML, version 2). */
export function parseRegistriesConf(text: string, path = 'registries.conf'): RegistriesConfFile {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    fail(path, `not valid TOML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc['registries'] !== undefined && !Array.isArray(doc['registries'])) {
    fail(path, 'is in the version 1 format ([registries.search] …), which ocikit does not read');
  }
  const registries: RegistryEntry[] = [];
  const raw = doc['registry'];
  if (raw !== undefined && !Array.isArray(raw)) fail(path, '[[registry]] must be an array of tables');
  for (const r of (raw ?? []) as Record<string, unknown>[]) {
    const loc = location(path, str(path, r, 'location') ?? '');
    const rawPrefix = str(path, r, 'prefix');
    let prefix: string;
    if (rawPrefix === undefined || rawPrefix === '') {
      if (loc === '') fail(path, 'a [[registry]] sets neither location nor prefix');
      prefix = loc;
    } else {
      prefix = location(path, rawPrefix);
      if (!prefix.startsWith('*.') && loc === '') {
        fail(
          path,
          `[[registry]] prefix "${prefix}" has no location (only a *.example.com prefix may omit it)`,
        );
      }
      if (prefix.startsWith('*.') && /[/@:]/.test(prefix)) {
        fail(path, `wildcarded prefix "${prefix}" must be of the form *.example.com`);
      }
    }
    if (r['pull-from-mirror'] !== undefined)
      fail(path, `pull-from-mirror must not be set for a non-mirror registry "${prefix}"`);
    const mirrorByDigestOnly = bool(path, r, 'mirror-by-digest-only');
    const mirrors: RegistryMirror[] = [];
    const rawMirrors = r['mirror'];
    if (rawMirrors !== undefined && !Array.isArray(rawMirrors))
      fail(path, '[[registry.mirror]] must be an array of tables');
    for (const m of (rawMirrors ?? []) as Record<string, unknown>[]) {
      const mloc = location(path, str(path, m, 'location') ?? '');
      if (mloc === '') fail(path, `a mirror of "${prefix}" has no location`);
      const pfm = str(path, m, 'pull-from-mirror') ?? '';
      if (pfm !== '' && mirrorByDigestOnly) {
        fail(
          path,
          `"${prefix}" sets mirror-by-digest-only and its mirror "${mloc}" pull-from-mirror: choose one`,
        );
      }
      if (pfm !== '' && pfm !== 'all' && pfm !== 'digest-only' && pfm !== 'tag-only') {
        fail(path, `unsupported pull-from-mirror value "${pfm}" for mirror "${mloc}"`);
      }
      mirrors.push({
        location: mloc,
        insecure: bool(path, m, 'insecure'),
        pullFromMirror: (pfm || 'all') as PullFromMirror,
      });
    }
    registries.push({
      prefix,
      location: loc,
      insecure: bool(path, r, 'insecure'),
      blocked: bool(path, r, 'blocked'),
      mirrorByDigestOnly,
      mirrors,
    });
  }
  // the same registry named twice must agree on insecure and blocked
  for (const a of registries) {
    for (const b of registries) {
      const same = a.location === '' ? a.prefix === b.prefix : a.location === b.location;
      if (!same) continue;
      if (a.insecure !== b.insecure)
        fail(
          path,
          `registry "${a.location || a.prefix}" is defined twice with conflicting insecure settings`,
        );
      if (a.blocked !== b.blocked)
        fail(path, `registry "${a.location || a.prefix}" is defined twice with conflicting blocked settings`);
    }
  }
  let search: string[] | undefined;
  const usr = doc['unqualified-search-registries'];
  if (usr !== undefined) {
    if (!Array.isArray(usr) || !usr.every((s) => typeof s === 'string'))
      fail(path, 'unqualified-search-registries must be an array of strings');
    search = (usr as string[]).map((s) => {
      const host = location(path, s);
      if (!DOMAIN.test(host)) fail(path, `invalid unqualified-search-registries entry "${s}"`);
      return host;
    });
  }
  const modeRaw = str(path, doc, 'short-name-mode');
  let mode: ShortNameMode | undefined;
  if (modeRaw !== undefined && modeRaw !== '') {
    if (modeRaw !== 'enforcing' && modeRaw !== 'permissive' && modeRaw !== 'disabled') {
      fail(path, `invalid short-name-mode "${modeRaw}" (enforcing, permissive or disabled)`);
    }
    mode = modeRaw;
  }
  const aliases = new Map<string, string>();
  const rawAliases = doc['aliases'];
  if (rawAliases !== undefined) {
    if (typeof rawAliases !== 'object' || rawAliases === null || Array.isArray(rawAliases))
      fail(path, '[aliases] must be a table');
    for (const [name, value] of Object.entries(rawAliases as Record<string, unknown>)) {
      if (typeof value !== 'string') fail(path, `alias "${name}" must name an image as a string`);
      if (value !== '') validateAlias(path, name, value);
      aliases.set(name, value);
    }
  }
  // the first of several [[registry]] tables with one prefix wins; sorted by prefix as containers/image does
  const unique = new Map<string, RegistryEntry>();
  for (const r of registries) if (!unique.has(r.prefix)) unique.set(r.prefix, r);
  return {
    path,
    registries: [...unique.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0)),
    search,
    mode,
    aliases,
  };
}

/** An alias maps a short name (no registry, tag or digest) to a fully qualified name (no tag or digest). */
function validateAlias(path: string, name: string, value: string): void {
  const short = splitShort(name);
  if (!short.isShort || short.tagged || short.digested) {
    fail(path, `alias "${name}" must be a short name without tag or digest`);
  }
  const target = splitShort(value);
  if (target.isShort || target.tagged || target.digested) {
    fail(path, `alias "${name}" = "${value}" must name a registry, without tag or digest`);
  }
}

/** Docker's rule: the first path component is a registry if it has a `.` or `:` or is `localhost`. */
function splitShort(input: string): { isShort: boolean; tagged: boolean; digested: boolean } {
  const at = input.indexOf('@');
  const name = at < 0 ? input : input.slice(0, at);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const isShort = slash < 0 || !(/[.:]/.test(first) || first === 'localhost');
  const last = name.slice(name.lastIndexOf('/') + 1);
  return { isShort, tagged: last.includes(':'), digested: at >= 0 };
}

/** Length of the part of `ref` that `prefix` matches (containers/image refMatchingPrefix), or -1. */
export function refMatchingPrefix(ref: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const domain = prefix.slice(1);
    const i = ref.indexOf(domain);
    if (i < 0 || ref.slice(0, i).includes('/')) return -1;
    const end = i + domain.length;
    if (end === ref.length) return end;
    return ':/@'.includes(ref.charAt(end)) ? end : -1;
  }
  if (ref.length < prefix.length || !ref.startsWith(prefix)) return -1;
  if (ref.length === prefix.length) return prefix.length;
  return ':/@'.includes(ref.charAt(prefix.length)) ? prefix.length : -1;
}

/** The merged configuration: a main file and drop-ins, as containers/image merges them. */
export class RegistriesConf {
  /** `[[registry]]` tables, sorted by prefix. */
  readonly registries: readonly RegistryEntry[];
  /** `unqualified-search-registries`, or undefined when no file sets it. */
  readonly unqualifiedSearchRegistries: readonly string[] | undefined;
  /** `short-name-mode` (default `enforcing`). */
  readonly shortNameMode: ShortNameMode;
  /** `[aliases]`: short name → fully qualified name (an empty value removes an alias). */
  readonly aliases: ReadonlyMap<string, string>;
  /** The files read, in order. */
  readonly files: readonly string[];
  readonly #searchOrigin: string | undefined;
  readonly #aliasOrigin: Map<string, string>;

  /** Merges parsed files in order: later `[[registry]]` prefixes and aliases replace earlier ones. */
  constructor(files: readonly RegistriesConfFile[] = []) {
    const byPrefix = new Map<string, RegistryEntry>();
    let search: string[] | undefined;
    let searchOrigin: string | undefined;
    let mode: ShortNameMode | undefined;
    const aliases = new Map<string, string>();
    this.#aliasOrigin = new Map();
    for (const f of files) {
      for (const r of f.registries) byPrefix.set(r.prefix, r);
      if (f.search !== undefined) {
        search = f.search;
        searchOrigin = f.path;
      }
      if (f.mode !== undefined) mode = f.mode;
      for (const [k, v] of f.aliases) {
        aliases.set(k, v);
        this.#aliasOrigin.set(k, f.path);
      }
    }
    this.registries = [...byPrefix.values()].sort((a, b) =>
      a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0,
    );
    this.unqualifiedSearchRegistries = search;
    this.#searchOrigin = searchOrigin;
    this.shortNameMode = mode ?? 'enforcing';
    this.aliases = aliases;
    this.files = files.map((f) => f.path);
  }

  /** The `[[registry]]` whose prefix matches `ref` (a reference, name or host) longest, if any. */
  findRegistry(ref: string): RegistryEntry | undefined {
    let found: RegistryEntry | undefined;
    for (const r of this.registries) {
      if (refMatchingPrefix(ref, r.prefix) >= 0 && r.prefix.length > (found?.prefix.length ?? 0)) found = r;
    }
    return found;
  }

  /** True when a registry host is configured `insecure` (as a registry or as a mirror). */
  isInsecure(host: string): boolean {
    if (this.findRegistry(host)?.insecure) return true;
    return this.registries.some((r) =>
      r.mirrors.some((m) => m.insecure && m.location.split('/')[0] === host),
    );
  }

  /** PermissionDeniedError when `ref`'s registry is `blocked`. */
  checkBlocked(ref: Reference, action: 'pull' | 'push'): void {
    const reg = this.findRegistry(ref.toString());
    if (reg?.blocked) {
      throw new PermissionDeniedError(
        `cannot ${action} ${ref.toString()}: registry "${reg.prefix}" is blocked in ${this.files.join(', ') || 'registries.conf'}`,
        { details: { prefix: reg.prefix, reference: ref.toString() } },
      );
    }
  }

  /**
   * Where to pull `ref` from, in order: its registry's mirrors (those that serve this kind of
   * reference), then the registry's location, each with the reference rewritten from the prefix to
   * that location. Just `ref` when no `[[registry]]` matches. PermissionDeniedError when blocked.
   */
  pullSources(ref: Reference): PullSource[] {
    const text = ref.toString();
    const reg = this.findRegistry(text);
    if (reg === undefined) return [{ reference: ref, mirror: false, insecure: false }];
    this.checkBlocked(ref, 'pull');
    const digested = ref.digest !== undefined;
    const endpoints: { location: string; insecure: boolean; mirror: boolean }[] = [];
    for (const m of reg.mirrors) {
      if (reg.mirrorByDigestOnly && !digested) continue;
      if (m.pullFromMirror === 'digest-only' && !digested) continue;
      if (m.pullFromMirror === 'tag-only' && digested) continue;
      endpoints.push({ location: m.location, insecure: m.insecure, mirror: true });
    }
    endpoints.push({ location: reg.location, insecure: reg.insecure, mirror: false });
    const matched = refMatchingPrefix(text, reg.prefix);
    return endpoints.map((e) => ({
      reference: e.location === '' ? ref : parseNormalizedReference(`${e.location}${text.slice(matched)}`),
      mirror: e.mirror,
      insecure: e.insecure,
    }));
  }

  /**
   * Resolves a name as the user typed it, as podman does: a name with a registry is itself; a short
   * name uses its alias, else each `unqualified-search-registries` entry in order (in `enforcing`
   * mode more than one is an error, since ocikit does not prompt), else docker.io when no file sets a
   * search list. InvalidArgumentError when the name is malformed or cannot be resolved.
   */
  resolve(input: string): ShortNameResolution {
    const split = splitShort(input);
    if (!split.isShort) return { candidates: [parseNormalizedReference(input)], rationale: 'qualified' };
    const at = input.indexOf('@');
    const nameAndTag = at < 0 ? input : input.slice(0, at);
    const colon = nameAndTag.lastIndexOf(':');
    const name = colon > nameAndTag.lastIndexOf('/') ? nameAndTag.slice(0, colon) : nameAndTag;
    const suffix = input.slice(name.length);
    const alias = this.aliases.get(name);
    if (alias !== undefined && alias !== '') {
      const origin = this.#aliasOrigin.get(name);
      return {
        candidates: [parseNormalizedReference(`${alias}${suffix}`)],
        rationale: 'alias',
        ...(origin ? { origin } : {}),
      };
    }
    const search = this.unqualifiedSearchRegistries;
    if (search === undefined) return { candidates: [parseNormalizedReference(input)], rationale: 'default' };
    const origin = this.#searchOrigin as string;
    if (search.length === 0) {
      throw new InvalidArgumentError(
        `short name "${input}" did not resolve to an alias and no unqualified-search-registries are defined in ${origin}`,
        { hint: 'use a fully qualified name such as docker.io/library/busybox' },
      );
    }
    const candidates = search.map((host) => parseNormalizedReference(`${host}/${input}`));
    if (this.shortNameMode === 'enforcing' && candidates.length > 1) {
      throw new InvalidArgumentError(
        `short name "${input}" is ambiguous: it could be ${candidates.map((c) => c.toString()).join(', ')} (short-name-mode = "enforcing" in ${this.files.join(', ')})`,
        {
          hint: 'use a fully qualified name, add an [aliases] entry, or set short-name-mode = "permissive" to try each in order',
        },
      );
    }
    return { candidates, rationale: 'search', origin };
  }
}

/** Where {@link loadRegistriesConf} reads. */
export interface RegistriesConfLookup {
  /** The environment (`CONTAINERS_REGISTRIES_CONF`, `HOME`); default `process.env`. */
  readonly env?: Record<string, string | undefined>;
  /** The main file, instead of the environment's or the default. */
  readonly path?: string | undefined;
}

async function readDropIns(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => !e.isDirectory() && e.name.endsWith('.conf'))
      .map((e) => join(dir, e.name))
      .sort();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new InvalidArgumentError(`cannot read ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw new InvalidArgumentError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Loads registries.conf as containers/image does: the main file is `path`, else
 * `$CONTAINERS_REGISTRIES_CONF`, else `$HOME/.config/containers/registries.conf` when it exists,
 * else `/etc/containers/registries.conf`; then the drop-ins (`*.conf`, in name order) of
 * `/etc/containers/registries.conf.d` and `$HOME/.config/containers/registries.conf.d` (only the
 * latter when the main file is the user's). A missing default file is an empty configuration; a
 * missing file that was named explicitly is an InvalidArgumentError.
 */
export async function loadRegistriesConf(lookup: RegistriesConfLookup = {}): Promise<RegistriesConf> {
  const env = lookup.env ?? process.env;
  const home = env['HOME'];
  const userFile = home ? join(home, '.config/containers/registries.conf') : undefined;
  const userDir = home ? join(home, '.config/containers/registries.conf.d') : undefined;
  const explicit = lookup.path ?? (env['CONTAINERS_REGISTRIES_CONF'] || undefined);
  let main: string;
  const dirs: string[] = [];
  let mainText: string | undefined;
  if (explicit !== undefined) {
    main = explicit;
    mainText = await readIfExists(main);
    if (mainText === undefined) {
      throw new InvalidArgumentError(`the registries configuration ${main} does not exist`, {
        hint: 'CONTAINERS_REGISTRIES_CONF must name an existing file',
      });
    }
    dirs.push('/etc/containers/registries.conf.d', ...(userDir ? [userDir] : []));
  } else {
    const userText = userFile ? await readIfExists(userFile) : undefined;
    if (userFile && userText !== undefined) {
      main = userFile;
      mainText = userText;
      if (userDir) dirs.push(userDir);
    } else {
      main = '/etc/containers/registries.conf';
      mainText = await readIfExists(main);
      dirs.push('/etc/containers/registries.conf.d', ...(userDir ? [userDir] : []));
    }
  }
  const parsed: RegistriesConfFile[] = [];
  if (mainText !== undefined) parsed.push(parseRegistriesConf(mainText, main));
  for (const dir of dirs) {
    for (const file of await readDropIns(dir)) {
      const text = await readIfExists(file);
      if (text !== undefined) parsed.push(parseRegistriesConf(text, file));
    }
  }
  return new RegistriesConf(parsed);
}
