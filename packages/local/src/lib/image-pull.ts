// images.pull of the local engine, and ensureImage — what containers.create calls to have its image
// in the store (pulled per the create's policy).
import { type CopyEvent, copy, type OciLayout } from '@ocikit/content';
import {
  engineError,
  type Operation,
  type ProgressEvent,
  type PulledImage,
  type PullOptions,
} from '@ocikit/engine';
import { isInvalidArgument, isNotFound, isOcikitError, isUnauthenticated } from '@ocikit/errors';
import { type Descriptor, hostPlatform, type Platform, parsePlatform } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { findPullSource } from '@ocikit/registry';
import type { LocalContext } from './context.ts';
import { recordEvent } from './events.ts';
import { checkPullPolicy } from './image-policy.ts';
import {
  badReference,
  findImage,
  imageIdOf,
  openImageStore,
  registriesConf,
  transportFor,
} from './image-store.ts';

/** Blobs a pull or push transfers at once (the CLI's default `--concurrency`). */
const CONCURRENCY = 8;

/** Parses a platform option, `bad-argument` when it is not `os/arch[/variant]`. */
export function platformOption(platform: string | undefined, operation: Operation): Platform | undefined {
  if (platform === undefined) return undefined;
  try {
    return parsePlatform(platform);
  } catch (e) {
    throw engineError('bad-argument', {
      engine: 'local',
      operation,
      message: `bad platform ${JSON.stringify(platform)}: ${(e as Error).message}`,
      cause: e,
    });
  }
}

/**
 * Turns `copy`'s blob events into the contract's progress events, Docker's words: `Pulling fs
 * layer`/`Preparing`, `Downloading`/`Pushing` with the bytes so far, `Download complete`/`Pushed`,
 * `Already exists`/`Layer already exists`. The id is the blob's full digest.
 */
export function progressOf(
  direction: 'pull' | 'push',
  onProgress: ((event: ProgressEvent) => void) | undefined,
): ((event: CopyEvent) => void) | undefined {
  if (!onProgress) return undefined;
  const words =
    direction === 'pull'
      ? {
          start: 'Pulling fs layer',
          moving: 'Downloading',
          done: 'Download complete',
          skip: 'Already exists',
        }
      : { start: 'Preparing', moving: 'Pushing', done: 'Pushed', skip: 'Layer already exists' };
  const done = new Map<string, number>();
  return (e) => {
    const { digest: id, size: total } = e.descriptor;
    if (e.type === 'start') {
      done.set(id, e.offset);
      onProgress({ id, status: words.start, current: e.offset, total });
    } else if (e.type === 'progress') {
      const current = (done.get(id) ?? 0) + e.bytes;
      done.set(id, current);
      onProgress({ id, status: words.moving, current, total });
    } else if (e.type === 'done') onProgress({ id, status: words.done, current: total, total });
    else onProgress({ id, status: words.skip, current: total, total });
  };
}

/** A registry failure as the contract's standard error (other failures pass unchanged). */
export function registryError(e: unknown, ref: string, operation: Operation): unknown {
  if (!isOcikitError(e) || typeof e.details.engine === 'string') return e;
  const { url } = e.details;
  // the registry's own error names it, or the URL it answered at (Docker Hub's API is docker.io)
  const host = typeof url === 'string' && URL.canParse(url) ? new URL(url).host : undefined;
  const registry =
    typeof e.details.registry === 'string'
      ? e.details.registry
      : host === 'registry-1.docker.io'
        ? 'docker.io'
        : host;
  const facts = {
    engine: 'local',
    operation,
    message: e.message,
    cause: e,
    extra: { name: ref, ...(registry ? { registry } : {}) },
  };
  if (isUnauthenticated(e)) return engineError('bad-credentials', facts);
  if (isNotFound(e)) return engineError('image-not-found', facts);
  if (isInvalidArgument(e)) return engineError('bad-argument', facts);
  return e;
}

/**
 * Pulls `ref` into the local store under its normalized name (a short name as registries.conf
 * resolves it), per `options.policy`: `always` (default) goes to the registry, `missing` only when
 * the store lacks the image, `never` fails with `image-not-found` unless it has it, `newer` copies
 * only when the registry's digest differs from the stored one. An index is narrowed to
 * `options.platform` (default this machine's) unless `allPlatforms`. Records a `pull` event.
 *
 * @example
 * ```ts
 * const { name, id } = await pullImage(ctx, 'busybox', { policy: 'missing', onProgress: console.log });
 * ```
 */
export async function pullImage(
  ctx: LocalContext,
  ref: string,
  options: PullOptions = {},
): Promise<PulledImage> {
  const operation = 'images.pull';
  const { signal } = options;
  const policy = options.policy ?? 'always';
  const platform = platformOption(options.platform, operation);
  try {
    parseReference(ref);
  } catch (e) {
    throw badReference(ref, operation, e);
  }
  const store = await openImageStore(ctx, signal);
  if (policy === 'missing' || policy === 'never') {
    const found = await findImage(ctx, store, ref, operation, signal);
    if (found) {
      const id = await imageIdOf(store, found.descriptor, signal);
      return { name: found.name ?? ref, id, digest: found.descriptor.digest };
    }
    if (policy === 'never')
      throw engineError('image-not-found', {
        engine: 'local',
        operation,
        message: `no image ${parseReference(ref).toString()} in the local store, and the pull policy is never`,
        extra: { name: ref },
      });
  }
  const transport = transportFor(ctx, { tlsVerify: options.tlsVerify, auth: options.auth });
  try {
    const source = await findPullSource(await registriesConf(ctx), ref, { transport, signal });
    let desc: Descriptor | undefined;
    if (policy === 'newer') {
      const remote = await source.repository.resolve(source.ref, signal ? { signal } : {});
      const stored = await store.resolve(source.name, signal ? { signal } : {}).catch(() => undefined);
      if (stored?.digest === remote.digest) desc = stored;
    }
    const pulled = desc === undefined;
    // the signature policy, before anything is stored; then the digest it checked is what is pulled
    const checked = pulled
      ? await checkPullPolicy(
          ctx,
          { target: source.repository, ref: source.ref, name: source.name },
          operation,
          signal,
        )
      : undefined;
    const onProgress = progressOf('pull', options.onProgress);
    desc ??= await copy(source.repository, checked?.digest ?? source.ref, store, source.name, {
      concurrency: ctx.registry.concurrency ?? CONCURRENCY,
      ...(options.allPlatforms ? { allPlatforms: true } : { platform: platform ?? hostPlatform() }),
      ...(onProgress ? { onProgress } : {}),
      ...(signal ? { signal } : {}),
    });
    options.onProgress?.({ status: `Digest: ${desc.digest}` });
    options.onProgress?.({
      status: pulled
        ? `Status: Downloaded newer image for ${source.name}`
        : `Status: Image is up to date for ${source.name}`,
    });
    const id = await imageIdOf(store, desc, signal);
    await recordEvent(ctx, {
      type: 'image',
      action: 'pull',
      id: source.name,
      attributes: { name: source.name, digest: desc.digest, imageId: id },
    });
    return { name: source.name, id, digest: desc.digest };
  } catch (e) {
    throw registryError(e, ref, operation);
  } finally {
    await transport.close();
  }
}

/** Options of {@link ensureImage}. */
export interface EnsureImageOptions {
  /** `missing` (default): pull when the store lacks it; `always`: pull first; `never`: fail when missing. */
  policy?: 'missing' | 'always' | 'never' | undefined;
  /** The platform to pull, when an index must be pulled (default this machine's). */
  platform?: string | undefined;
  /** Credentials, TLS and progress of that pull. */
  pullOptions?: Omit<PullOptions, 'signal' | 'platform' | 'policy'> | undefined;
  /** Cancels it. */
  signal?: AbortSignal | undefined;
}

/** An image {@link ensureImage} made sure of. */
export interface EnsuredImage {
  /** The local store. */
  store: OciLayout;
  /** The image's root (manifest or index) in the store. */
  descriptor: Descriptor;
  /**
   * The full name it is stored under (`docker.io/library/busybox:latest`; a short name as
   * registries.conf resolved it) — what a container record names; the root digest when found by id.
   */
  name: string;
  /** The image id (config digest, `sha256:…`). */
  id: string;
}

/**
 * Makes sure `image` (a name, short name or id) is in the local store, pulling it per the policy
 * (`containers.create`'s `pull` option): the store's copy under its own name or a name
 * registries.conf gives a short name, else a pull. `image-not-found` under `never` when missing.
 *
 * @example
 * ```ts
 * const { store, descriptor, name } = await ensureImage(ctx, spec.image, { policy: options.pull });
 * ```
 */
export async function ensureImage(
  ctx: LocalContext,
  image: string,
  options: EnsureImageOptions = {},
): Promise<EnsuredImage> {
  const { signal } = options;
  const policy = options.policy ?? 'missing';
  const pulled = await pullImage(ctx, image, {
    ...options.pullOptions,
    policy,
    ...(options.platform !== undefined ? { platform: options.platform } : {}),
    ...(signal ? { signal } : {}),
  });
  const store = await openImageStore(ctx, signal);
  const found = await findImage(ctx, store, pulled.name, 'containers.create', signal);
  const byId =
    found ?? (await findImage(ctx, store, pulled.digest ?? pulled.id, 'containers.create', signal));
  if (!byId)
    throw engineError('image-not-found', {
      engine: 'local',
      operation: 'containers.create',
      message: `${image} vanished from the local store while the container was made`,
      extra: { name: image },
    });
  return { store, descriptor: byId.descriptor, name: byId.name ?? byId.descriptor.digest, id: pulled.id };
}
