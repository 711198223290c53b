// The local engine's image store (ROOT/content, a plain OCI layout whose index.json entries carry
// the full normalized name) and how names, short names and ids find an image in it.
import { join } from 'node:path';
import { fetchAll, type OciLayout, openLayout } from '@ocikit/content';
import { engineError, type Operation } from '@ocikit/engine';
import { isInvalidArgument } from '@ocikit/errors';
import {
  Annotation,
  type Descriptor,
  hostPlatform,
  isIndexMediaType,
  isManifestMediaType,
  matchPlatform,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import {
  loadCredentials,
  loadRegistriesConf,
  proxySettingsFromEnv,
  type RegistriesConf,
  Transport,
} from '@ocikit/registry';
import type { LocalContext } from './context.ts';
import { imagesInUse } from './image-use.ts';

/** The local image store of a state root, `ROOT/content` (made when missing). */
export function openImageStore(ctx: LocalContext, signal?: AbortSignal): Promise<OciLayout> {
  return openLayout(join(ctx.root, 'content'), { create: true, ...(signal ? { signal } : {}) });
}

const confs = new WeakMap<LocalContext, Promise<RegistriesConf>>();

/**
 * registries.conf as podman reads it (`CONTAINERS_REGISTRIES_CONF`, `$HOME/.config/containers/`,
 * `/etc/containers/`, with their drop-ins) in the engine's environment, read once per engine.
 */
export function registriesConf(ctx: LocalContext): Promise<RegistriesConf> {
  let conf = confs.get(ctx);
  if (!conf) {
    conf = loadRegistriesConf({ env: { ...ctx.env } });
    confs.set(ctx, conf);
  }
  return conf;
}

/** Per-call registry settings of a pull or push. */
export interface TransferSettings {
  /** Verify TLS certificates (false: `insecure` for every registry). */
  tlsVerify?: boolean | undefined;
  /** Credentials instead of those in the auth files. */
  auth?:
    | { username: string; password: string; serveraddress?: string | undefined }
    | { identityToken: string; serveraddress?: string | undefined }
    | undefined;
}

/**
 * The HTTP transport of one pull or push: credentials (the call's, else Docker's `config.json` and
 * podman's `auth.json` in the engine's environment), the engine's registry flags, registries.conf's
 * `insecure`, certs.d, and proxies from the environment. The caller closes it.
 */
export function transportFor(ctx: LocalContext, settings: TransferSettings = {}): Transport {
  const env = { ...ctx.env } as NodeJS.ProcessEnv;
  const { registry } = ctx;
  const auth = settings.auth;
  return new Transport({
    insecure:
      registry.insecure || settings.tlsVerify === false
        ? true
        : async (host) => (await registriesConf(ctx)).isInsecure(host),
    credentials: auth
      ? 'identityToken' in auth
        ? { identityToken: auth.identityToken }
        : { username: auth.username, password: auth.password }
      : (host, options) => loadCredentials(host, { env, ...options }),
    proxy: proxySettingsFromEnv(env),
    ...(env.OCIKIT_REGISTRY_HTTP === 'undici' ? { engine: 'undici' as const } : {}),
    ...(registry.plainHttp ? { plainHttp: true } : {}),
    ...(registry.caFile !== undefined ? { caFile: registry.caFile } : {}),
    ...(registry.certDir !== undefined ? { certDir: registry.certDir } : {}),
    ...(registry.onRequest !== undefined ? { onRequest: registry.onRequest } : {}),
    userAgent: 'ocikit',
  });
}

/**
 * The names a reference may have in the store, as registries.conf resolves it: its own normalized
 * name first, then (for a short name) its alias or each search registry's; an ambiguous short name
 * gives only its own.
 */
export async function candidateNames(ctx: LocalContext, ref: string): Promise<string[]> {
  const own = parseReference(ref).toString();
  try {
    const resolved = (await registriesConf(ctx))
      .resolve(ref)
      .candidates.map((c) => parseReference(c.toString()).toString());
    return [own, ...resolved.filter((n) => n !== own)];
  } catch (e) {
    if (isInvalidArgument(e)) return [own];
    throw e;
  }
}

/** An image found in the store. */
export interface StoredImage {
  /** Its root (manifest or index) as stored. */
  descriptor: Descriptor;
  /** The name it was found by; undefined when found by id or digest. */
  name: string | undefined;
}

const refName = (d: Descriptor) => d.annotations?.[Annotation.RefName];

/**
 * The image id of a stored root: its config digest (for an index, this machine's image's when the
 * store holds it; else the index digest), as docker and podman name images.
 */
export async function imageIdOf(store: OciLayout, root: Descriptor, signal?: AbortSignal): Promise<string> {
  const opts = signal ? { signal } : {};
  if (isManifestMediaType(root.mediaType))
    return parseManifest(await fetchAll(store, root, opts)).config.digest;
  if (isIndexMediaType(root.mediaType)) {
    const index = parseIndex(await fetchAll(store, root, opts));
    const host = index.manifests.find(
      (m) => isManifestMediaType(m.mediaType) && m.platform && matchPlatform(hostPlatform(), m.platform),
    );
    if (host && (await store.exists(host)))
      return parseManifest(await fetchAll(store, host, opts)).config.digest;
  }
  return root.digest;
}

/**
 * Finds an image in the store by name (normalized: `busybox` is `docker.io/library/busybox:latest`;
 * a short name also by the names registries.conf gives it), by `name@digest`, or by id (`sha256:…`
 * or a unique prefix of at least 3 hex digits of the config or root digest). Undefined when the
 * store has no such image; `bad-argument` for an ambiguous id prefix.
 */
export async function findImage(
  ctx: LocalContext,
  store: OciLayout,
  ref: string,
  operation: Operation,
  signal?: AbortSignal,
): Promise<StoredImage | undefined> {
  const entries = await store.list(signal ? { signal } : {});
  const hex = /^(?:sha256:)?([0-9a-f]{3,64})$/.exec(ref)?.[1];
  if (hex === undefined || ref.startsWith('sha256:') === false) {
    let names: string[] | undefined;
    try {
      names = await candidateNames(ctx, ref);
    } catch (e) {
      if (hex === undefined) throw badReference(ref, operation, e);
    }
    for (const name of names ?? []) {
      const parsed = parseReference(name);
      const found =
        entries.find((d) => refName(d) === name) ??
        (parsed.digest === undefined
          ? undefined
          : entries.find((d) => d.digest === parsed.digest && sameRepository(refName(d), parsed.name)));
      if (found) return { descriptor: found, name: parsed.digest !== undefined ? refName(found) : name };
    }
    if (hex === undefined) return undefined;
  }
  // an id: the config digest (docker's and podman's image id) or the root digest, or a prefix
  const matches = new Map<string, Descriptor>();
  const isId = async (d: Descriptor) =>
    [d.digest, await imageIdOf(store, d, signal)].some((id) =>
      id.slice(id.indexOf(':') + 1).startsWith(hex ?? ''),
    );
  for (const d of entries) if (await isId(d)) matches.set(d.digest, d);
  if (matches.size === 0) {
    // an image that lost its names but that a container still uses (pinned) is found by its id too
    for (const { image: d } of await imagesInUse(ctx, store))
      if (!matches.has(d.digest) && (await store.exists(d)) && (await isId(d))) matches.set(d.digest, d);
  }
  if (matches.size > 1)
    throw engineError('bad-argument', {
      engine: 'local',
      operation,
      message: `the id prefix ${ref} matches ${matches.size} images; give more of it`,
    });
  const [only] = matches.values();
  return only ? { descriptor: only, name: undefined } : undefined;
}

function sameRepository(stored: string | undefined, repository: string): boolean {
  try {
    return stored !== undefined && parseReference(stored).name === repository;
  } catch {
    return false;
  }
}

/** A reference as messages show it: normalized (`docker.io/library/x:latest`), an id as given. */
function shownName(ref: string): string {
  if (/^(?:sha256:)?[0-9a-f]{3,64}$/.test(ref)) return ref;
  try {
    return parseReference(ref).toString();
  } catch {
    return ref;
  }
}

/** {@link findImage}, failing with `image-not-found` when the store lacks it. */
export async function requireImage(
  ctx: LocalContext,
  store: OciLayout,
  ref: string,
  operation: Operation,
  signal?: AbortSignal,
): Promise<StoredImage> {
  const found = await findImage(ctx, store, ref, operation, signal);
  if (found) return found;
  throw engineError('image-not-found', {
    engine: 'local',
    operation,
    message: `no image ${shownName(ref)} in the local store`,
    extra: { name: ref },
  });
}

/** The bad-argument error for a reference that does not parse. */
export function badReference(ref: string, operation: Operation, cause: unknown) {
  return engineError('bad-argument', {
    engine: 'local',
    operation,
    message: `${JSON.stringify(ref)} is not an image reference: ${(cause as Error).message}`,
    cause,
  });
}
