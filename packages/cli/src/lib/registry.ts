import {
  type CopyEvent,
  copy,
  type OciLayout,
  openLayout,
  type ReadOnlyTarget,
  type Target,
} from '@ocikit/content';
import type { ProgressEvent } from '@ocikit/engine';
import { InvalidArgumentError, isInvalidArgument } from '@ocikit/errors';
import { type Descriptor, hostPlatform } from '@ocikit/image-spec';
import type { LocalRegistryOptions } from '@ocikit/local';
import { parseReference } from '@ocikit/reference';
import {
  findPullSource,
  loadCredentials,
  loadRegistriesConf,
  openRepository,
  proxySettingsFromEnv,
  type RegistriesConf,
  type Repository,
  type RequestEvent,
  Transport,
} from '@ocikit/registry';
import type { Context } from './command.ts';
import { openLocalImage } from './image-source.ts';
import { parseLocation } from './location.ts';
import { copyFlags, copyFlagsHelp, copyOptionsFrom } from './platform-flags.ts';
import { Progress } from './progress.ts';

/** The flags of commands that talk to registries. */
export const registryFlags = {
  'plain-http': { type: 'boolean' },
  insecure: { type: 'boolean' },
  'ca-file': { type: 'string' },
  'cert-dir': { type: 'string' },
} as const;

/** Help text of {@link registryFlags}. */
export const registryFlagsHelp = {
  'plain-http': 'use plain HTTP (loopback registries always do)',
  insecure: 'skip TLS certificate verification',
  'ca-file': 'a PEM file of extra trusted CA certificates',
  'cert-dir':
    'a directory of *.crt CAs and *.cert/*.key client certificates for every registry (instead of certs.d)',
} as const;

/** The flags of commands that copy images to or from registries. */
export const transferFlags = { ...copyFlags, ...registryFlags } as const;
/** Help text of {@link transferFlags}. */
export const transferFlagsHelp = { ...copyFlagsHelp, ...registryFlagsHelp } as const;

type RegistryValues = {
  'plain-http'?: boolean | undefined;
  insecure?: boolean | undefined;
  'ca-file'?: string | undefined;
  'cert-dir'?: string | undefined;
};

const registriesConfs = new WeakMap<Context, Promise<RegistriesConf>>();

/**
 * registries.conf as podman reads it (`CONTAINERS_REGISTRIES_CONF`, `$HOME/.config/containers/`,
 * `/etc/containers/`, with their `registries.conf.d`), in the command's environment, read once per
 * command.
 */
export function registriesConfFor(ctx: Context): Promise<RegistriesConf> {
  let conf = registriesConfs.get(ctx);
  if (!conf) {
    conf = loadRegistriesConf({ env: ctx.env });
    registriesConfs.set(ctx, conf);
  }
  return conf;
}

/**
 * The HTTP transport for a command: credentials from Docker's and Podman's files (in the
 * command's environment), TLS flags, registries.conf's `insecure`, certs.d, proxies from the
 * environment, and a line per request on stderr under `--debug`.
 */
export function transportFor(ctx: Context, values: RegistryValues): Transport {
  const env = ctx.env as NodeJS.ProcessEnv;
  return new Transport({
    // registries.conf `insecure = true`: TLS certificates of that registry are not verified
    insecure: values.insecure
      ? true
      : async (registry) => (await registriesConfFor(ctx)).isInsecure(registry),
    credentials: (registry, options) => loadCredentials(registry, { env, ...options }),
    // HTTPS_PROXY, HTTP_PROXY and NO_PROXY of the command's environment, as Go's container tools read them
    proxy: proxySettingsFromEnv(env),
    // OCIKIT_REGISTRY_HTTP=undici: every request through undici, for measuring it (decision 060)
    ...(env['OCIKIT_REGISTRY_HTTP'] === 'undici' ? { engine: 'undici' as const } : {}),
    ...(values['plain-http'] ? { plainHttp: true } : {}),
    ...(values['ca-file'] !== undefined ? { caFile: values['ca-file'] } : {}),
    ...(values['cert-dir'] !== undefined ? { certDir: values['cert-dir'] } : {}),
    userAgent: 'ocikit',
    ...(ctx.debug ? { onRequest: debugRequest(ctx) } : {}),
  });
}

/** `--debug`'s line per registry request on stderr. */
function debugRequest(ctx: Context): (e: RequestEvent) => void {
  return (e) =>
    ctx.stderr.write(
      `debug: ${e.method} ${e.url} → ${e.status ?? e.error ?? '?'} (${e.ms} ms${e.attempt ? `, retry ${e.attempt}` : ''})\n`,
    );
}

/** A registry repository for an image reference, and the tag or digest it names. */
export function remoteImage(
  arg: string,
  transport: Transport,
): { repo: Repository; ref: string; name: string } {
  const parsed = parseReference(arg);
  const repo = openRepository(parsed, { transport });
  return { repo, ref: parsed.digest ?? parsed.tag ?? 'latest', name: parsed.toString() };
}

/**
 * The registry repository to pull `arg` from, as registries.conf says (`findPullSource` of
 * `@ocikit/registry`: short names, mirrors, blocked registries); `name` stays the reference the
 * user asked for, never a mirror's. Under `--debug`, a line for each place that failed and for a
 * mirror used.
 */
export async function pullSource(
  ctx: Context,
  arg: string,
  transport: Transport,
): Promise<{ repo: Repository; ref: string; name: string }> {
  const found = await findPullSource(await registriesConfFor(ctx), arg, {
    transport,
    signal: ctx.signal,
    ...(ctx.debug
      ? { onMiss: (ref: string, e: unknown) => ctx.stderr.write(`debug: ${ref}: ${(e as Error).message}\n`) }
      : {}),
  });
  if (ctx.debug && found.mirror)
    ctx.stderr.write(`debug: pulling ${found.name} from mirror ${found.repository.name}\n`);
  return { repo: found.repository, ref: found.ref, name: found.name };
}

/**
 * The names a reference may have in the local store, as registries.conf resolves it (a short name:
 * its alias or each search registry, with the default tag); none when it cannot be resolved.
 */
export async function localCandidates(ctx: Context, arg: string): Promise<string[]> {
  try {
    return (await registriesConfFor(ctx))
      .resolve(arg)
      .candidates.map((c) => parseReference(c.toString()).toString());
  } catch (e) {
    if (isInvalidArgument(e)) return []; // an ambiguous short name: only a pull can say more
    throw e;
  }
}

/** PermissionDeniedError when registries.conf blocks the registry of `arg` (a push destination). */
export async function checkPushAllowed(ctx: Context, arg: string): Promise<void> {
  (await registriesConfFor(ctx)).checkBlocked(parseReference(arg), 'push');
}

/** One end of a copy: a target, the reference there, and how to show it. */
export interface Endpoint {
  target: Target;
  ref: string | undefined;
  display: string;
  kind: 'registry' | 'oci' | 'local';
}

/**
 * Opens a copy source or destination: `oci:DIR[:REF]` is a layout (created when a destination),
 * `local:REF` the local store under `--root`, anything else a registry reference.
 */
export async function openEndpoint(
  ctx: Context,
  arg: string,
  transport: Transport,
  role: 'source' | 'destination',
): Promise<Endpoint> {
  if (arg.startsWith('local:')) {
    const image = await openLocalImage(ctx, arg);
    return { target: image.layout, ref: image.ref, display: image.ref, kind: 'local' };
  }
  const loc = parseLocation(arg);
  if (loc.kind === 'oci') {
    if (role === 'source') {
      const image = await openLocalImage(ctx, arg);
      return { target: image.layout, ref: image.ref, display: arg, kind: 'oci' };
    }
    const layout = await openLayout(loc.dir, { create: true, signal: ctx.signal });
    return { target: layout, ref: loc.ref, display: arg, kind: 'oci' };
  }
  if (role === 'destination') {
    await checkPushAllowed(ctx, loc.ref);
    const { repo, ref, name } = remoteImage(loc.ref, transport);
    return { target: repo, ref, display: name, kind: 'registry' };
  }
  const { repo, ref, name } = await pullSource(ctx, loc.ref, transport);
  return { target: repo, ref, display: name, kind: 'registry' };
}

/** The local image store, `ROOT/content`. */
export function openStore(ctx: Context): Promise<OciLayout> {
  return openLayout(`${ctx.root}/content`, { create: true, signal: ctx.signal });
}

/**
 * Copies with per-blob progress bars on a TTY and a summary line otherwise. From a registry, an
 * index is narrowed to the host's platform unless `--platform` or `--all-platforms` says otherwise.
 */
export async function copyWithProgress(
  ctx: Context,
  src: { target: ReadOnlyTarget; ref: string; kind: Endpoint['kind'] },
  dst: { target: Target; ref: string | undefined },
  values: Parameters<typeof copyOptionsFrom>[0],
  verb: string,
): Promise<Descriptor> {
  const options = copyOptionsFrom(values);
  if (src.kind === 'registry' && options.platform === undefined && !options.allPlatforms) {
    options.platform = hostPlatform();
  }
  const progress = new Progress(ctx);
  const onProgress = (e: CopyEvent) => {
    if (e.type === 'start') progress.start(e.descriptor.digest, e.descriptor.size);
    else if (e.type === 'progress') progress.advance(e.descriptor.digest, e.bytes);
    else if (e.type === 'done') progress.finish(e.descriptor.digest);
    else progress.skip(e.descriptor.digest, e.descriptor.size);
  };
  const desc = await copy(src.target, src.ref, dst.target, dst.ref, {
    ...options,
    onProgress,
    signal: ctx.signal,
  });
  progress.end(verb);
  return desc;
}

/**
 * The local engine's registry settings from a command's registry and copy flags (`--plain-http`,
 * `--insecure`, `--ca-file`, `--cert-dir`, `--concurrency`), and a line per request on stderr
 * under `--debug`, for `ctx.engine({ registry })`.
 */
export function engineRegistry(
  ctx: Context,
  values: RegistryValues &
    Parameters<typeof copyOptionsFrom>[0] & {
      'signature-policy'?: string | undefined;
      'sigstore-trusted-root'?: string | undefined;
    },
): LocalRegistryOptions {
  const { concurrency } = copyOptionsFrom(values);
  return {
    ...(values['plain-http'] ? { plainHttp: true } : {}),
    ...(values.insecure ? { insecure: true } : {}),
    ...(values['ca-file'] !== undefined ? { caFile: values['ca-file'] } : {}),
    ...(values['cert-dir'] !== undefined ? { certDir: values['cert-dir'] } : {}),
    ...(values.concurrency !== undefined ? { concurrency } : {}),
    ...(values['signature-policy'] !== undefined ? { signaturePolicy: values['signature-policy'] } : {}),
    ...(values['sigstore-trusted-root'] !== undefined
      ? { sigstoreTrustedRoot: values['sigstore-trusted-root'] }
      : {}),
    ...(ctx.debug ? { onRequest: debugRequest(ctx) } : {}),
  };
}

/**
 * Progress bars (and the summary line) for an engine's pull or push progress events: Docker's
 * words (`Pulling fs layer`/`Preparing` start a blob, `Downloading`/`Pushing` advance it,
 * `Download complete`/`Pull complete`/`Pushed` end it, `Already exists`/`Layer already exists` skip it).
 */
export function engineProgress(ctx: Context): {
  onProgress: (e: ProgressEvent) => void;
  end: (verb: string) => void;
} {
  const progress = new Progress(ctx);
  const seen = new Map<string, number>();
  const begin = (id: string, e: ProgressEvent) => {
    if (seen.has(id)) return;
    seen.set(id, e.current ?? 0);
    progress.start(id, e.total ?? 0);
  };
  return {
    onProgress: (e) => {
      const { id } = e;
      if (id === undefined) return;
      switch (e.status) {
        case 'Pulling fs layer':
        case 'Preparing':
        case 'Waiting':
          begin(id, e);
          break;
        case 'Downloading':
        case 'Pushing': {
          begin(id, e);
          const current = e.current ?? 0;
          progress.advance(id, Math.max(0, current - (seen.get(id) ?? 0)));
          seen.set(id, current);
          break;
        }
        case 'Download complete':
        case 'Pull complete':
        case 'Pushed':
          begin(id, e);
          progress.finish(id);
          break;
        case 'Already exists':
        case 'Layer already exists':
          seen.set(id, e.total ?? 0);
          progress.skip(id, e.total ?? 0);
          break;
      }
    },
    end: (verb) => progress.end(verb),
  };
}

/** Fails unless `arg` is a registry reference (not `oci:` or `local:`). */
export function expectRemote(arg: string, what: string): void {
  if (arg.startsWith('oci:') || arg.startsWith('local:')) {
    throw new InvalidArgumentError(`${what} must be a registry reference, not "${arg}"`);
  }
}

/** Parses a `--limit` value: a positive whole number, or undefined when not given. */
export function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!(Number.isInteger(limit) && limit > 0)) {
    throw new InvalidArgumentError(`--limit must be a positive whole number, not "${value}"`);
  }
  return limit;
}
