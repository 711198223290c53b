// containers-registries.d(5): where simple signing signatures of docker images live (lookaside) and
// whether sigstore signatures are attached to the registry, read and merged as containers/image's
// docker/registries_d.go does.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError, InvalidArgumentError, throwIfAborted, truncate } from '@ocikit/errors';
import { parseNormalizedReference } from '@ocikit/reference';
import { parseDocument } from 'yaml';
import { dockerNamespaces } from './policy.ts';

/** The system-wide registries.d directory. */
export const SYSTEM_REGISTRIES_D = '/etc/containers/registries.d';

/** One `docker:` namespace's (or `default-docker`'s) settings. */
export interface RegistryNamespace {
  /** Where signatures are read from (and written, when there is no staging URL). */
  lookaside?: string | undefined;
  /** Where signatures are written. */
  lookasideStaging?: string | undefined;
  /** Whether sigstore signatures are read from / written to the registry. */
  useSigstoreAttachments?: boolean | undefined;
}

/** The merged registries.d configuration. */
export interface RegistriesD {
  /** `default-docker`, for images no `docker:` namespace matches. */
  defaultDocker: RegistryNamespace | undefined;
  /** `docker:` namespaces (the same scopes as containers-policy.json's `docker` transport). */
  docker: Record<string, RegistryNamespace>;
  /** The directory read, or undefined when none existed. */
  dir: string | undefined;
}

/** Options of {@link loadRegistriesD}. */
export interface LoadRegistriesDOptions {
  /** `--registries.d DIR`: this directory and no other. */
  dir?: string | undefined;
  /** The environment to take `HOME` from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The system directory (default {@link SYSTEM_REGISTRIES_D}). */
  systemDir?: string | undefined;
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
}

function fail(file: string, where: string, why: string): never {
  throw new InvalidArgumentError(`invalid registries.d file ${file}${where ? ` at ${where}` : ''}: ${why}`, {
    details: { reason: 'invalid-registries-d', file, path: where },
  });
}

function parseNamespace(file: string, where: string, value: unknown): RegistryNamespace {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(file, where, 'expected a mapping');
  const v = value as Record<string, unknown>;
  const str = (key: string): string | undefined => {
    const x = v[key];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string') fail(file, `${where}.${key}`, 'expected a string');
    return x;
  };
  const ns: RegistryNamespace = {};
  // The old names are kept for compatibility; the new ones win when both are given.
  const lookaside = str('lookaside') || str('sigstore');
  const staging = str('lookaside-staging') || str('sigstore-staging');
  if (lookaside) ns.lookaside = lookaside;
  if (staging) ns.lookasideStaging = staging;
  const attach = v['use-sigstore-attachments'];
  if (attach !== undefined && attach !== null) {
    if (typeof attach !== 'boolean')
      fail(file, `${where}.use-sigstore-attachments`, 'expected true or false');
    ns.useSigstoreAttachments = attach;
  }
  return ns;
}

/**
 * Parses one registries.d YAML document (`file` names it in errors). Unknown keys are ignored, as
 * containers/image ignores them; duplicate keys and wrongly typed values are refused.
 */
export function parseRegistriesDFile(
  text: string,
  file: string,
): { defaultDocker: RegistryNamespace | undefined; docker: Record<string, RegistryNamespace> } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) fail(file, '', truncate(doc.errors[0]?.message ?? 'malformed YAML', 200));
  const top: unknown = doc.toJS({ maxAliasCount: 100 });
  if (top === null || top === undefined) return { defaultDocker: undefined, docker: {} };
  if (typeof top !== 'object' || Array.isArray(top)) fail(file, '', 'expected a mapping at the top level');
  const t = top as Record<string, unknown>;
  const defaultDocker =
    t['default-docker'] === undefined || t['default-docker'] === null
      ? undefined
      : parseNamespace(file, 'default-docker', t['default-docker']);
  const docker: Record<string, RegistryNamespace> = {};
  const d = t.docker;
  if (d !== undefined && d !== null) {
    if (typeof d !== 'object' || Array.isArray(d)) fail(file, 'docker', 'expected a mapping of namespaces');
    for (const [scope, value] of Object.entries(d as Record<string, unknown>)) {
      docker[scope] = parseNamespace(file, `docker.${scope}`, value);
    }
  }
  return { defaultDocker, docker };
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads and merges every `*.yaml` file of the registries.d directory: `dir` when given, else
 * `$HOME/.config/containers/registries.d` when it exists, else `/etc/containers/registries.d`.
 * A missing directory is an empty configuration.
 *
 * @throws InvalidArgumentError naming the file when one is malformed, or when two files define
 *   `default-docker` or the same `docker:` namespace.
 */
export async function loadRegistriesD(options: LoadRegistriesDOptions = {}): Promise<RegistriesD> {
  throwIfAborted(options.signal);
  let dir = options.dir;
  if (dir === undefined || dir === '') {
    const home = (options.env ?? process.env).HOME;
    const user = home ? join(home, '.config/containers/registries.d') : undefined;
    dir = user !== undefined && (await isDir(user)) ? user : (options.systemDir ?? SYSTEM_REGISTRIES_D);
  }
  const merged: RegistriesD = { defaultDocker: undefined, docker: {}, dir: undefined };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return merged;
    throw new InvalidArgumentError(
      `cannot read registries.d directory ${dir}: ${(e as NodeJS.ErrnoException).code}`,
      { cause: e },
    );
  }
  merged.dir = dir;
  let defaultFrom = '';
  const from: Record<string, string> = {};
  for (const name of names.filter((n) => n.endsWith('.yaml')).sort()) {
    const file = join(dir, name);
    let text: string;
    try {
      text = await readFile(file, { encoding: 'utf8', signal: options.signal });
    } catch (e) {
      if ((e as Error).name === 'AbortError')
        throw new AbortedError('reading registries.d was cancelled', { cause: e });
      throw new InvalidArgumentError(
        `cannot read registries.d file ${file}: ${(e as NodeJS.ErrnoException).code}`,
        { cause: e },
      );
    }
    const config = parseRegistriesDFile(text, file);
    if (config.defaultDocker !== undefined) {
      if (merged.defaultDocker !== undefined)
        fail(file, 'default-docker', `"default-docker" defined both in ${defaultFrom} and ${file}`);
      merged.defaultDocker = config.defaultDocker;
      defaultFrom = file;
    }
    for (const [scope, ns] of Object.entries(config.docker)) {
      if (Object.hasOwn(merged.docker, scope)) {
        fail(
          file,
          `docker.${scope}`,
          `"docker" namespace "${scope}" defined both in ${from[scope]} and ${file}`,
        );
      }
      merged.docker[scope] = ns;
      from[scope] = file;
    }
  }
  return merged;
}

/** The scopes a docker reference is looked up under: `name:tag`/`name@digest`, then its namespaces. */
function scopesOf(dockerReference: string): { name: string; path: string; scopes: string[] } {
  const ref = parseNormalizedReference(dockerReference);
  const tagged =
    ref.digest !== undefined ? ref.withoutTag() : ref.tag !== undefined ? ref : ref.withTag('latest');
  return { name: ref.name, path: ref.repository, scopes: [tagged.toString(), ...dockerNamespaces(ref.name)] };
}

/** The built-in lookaside when nothing is configured: `/var/lib/containers/sigstore` for root, else `~/.local/share/containers/sigstore`. */
export function defaultLookaside(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  if (uid === 0) return 'file:///var/lib/containers/sigstore';
  return `file://${join(env.HOME ?? '/', '.local/share/containers/sigstore')}`;
}

/**
 * The lookaside base URL for a docker image's signatures, as containers/image's
 * `lookasideStorageBaseURL`: the most specific `docker:` namespace with a URL (for writing,
 * `lookaside-staging` first), else `default-docker`, else {@link defaultLookaside}; then `/` and the
 * repository path (`library/busybox`) appended.
 *
 * @throws InvalidArgumentError when the reference or the configured URL is invalid.
 */
export function lookasideFor(
  config: RegistriesD,
  dockerReference: string,
  options: { write?: boolean; env?: Readonly<Record<string, string | undefined>> } = {},
): URL {
  const { path, scopes } = scopesOf(dockerReference);
  const pick = (ns: RegistryNamespace | undefined): string | undefined =>
    ns === undefined ? undefined : ((options.write ? ns.lookasideStaging : undefined) ?? ns.lookaside);
  let top: string | undefined;
  for (const scope of scopes) {
    top = pick(Object.hasOwn(config.docker, scope) ? config.docker[scope] : undefined);
    if (top !== undefined) break;
  }
  top ??= pick(config.defaultDocker) ?? defaultLookaside(options.env);
  let url: URL;
  try {
    url = new URL(top);
  } catch (cause) {
    throw new InvalidArgumentError(`invalid signature storage URL ${truncate(top, 200)}`, { cause });
  }
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${path}`;
  return url;
}

/**
 * Whether sigstore signatures of `dockerReference` are read from and written to its registry
 * (`use-sigstore-attachments`; the most specific namespace that sets it, else `default-docker`,
 * else false).
 */
export function useSigstoreAttachments(config: RegistriesD, dockerReference: string): boolean {
  for (const scope of scopesOf(dockerReference).scopes) {
    const v = Object.hasOwn(config.docker, scope) ? config.docker[scope]?.useSigstoreAttachments : undefined;
    if (v !== undefined) return v;
  }
  return config.defaultDocker?.useSigstoreAttachments ?? false;
}
