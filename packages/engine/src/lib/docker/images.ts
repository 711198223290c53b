// images.* over the Docker API: pull (the JSON message stream as progress, its error lines as
// standard errors, policies `missing`/`never` decided here with an inspect), list, inspect, remove,
// tag, push, save and load.
import { parseReference, type Reference } from '@ocikit/reference';
import type {
  Handlers,
  ImageDetails,
  ImageRemoved,
  ImageSummary,
  ProgressEvent,
  PulledImage,
  PullOptions,
  RegistryAuth,
} from '../contract.ts';
import type { EngineErrorReason } from '../errors.ts';
import { base64urlJson, type EngineHttp, type HttpRequest } from './http.ts';
import {
  fromUnix,
  isObj,
  type Json,
  keys,
  labels,
  maybeStrings,
  nonEmpty,
  num,
  obj,
  str,
  strings,
  time,
} from './json.ts';

type ImageHandlers = Pick<
  Handlers,
  | 'images.pull'
  | 'images.list'
  | 'images.inspect'
  | 'images.remove'
  | 'images.tag'
  | 'images.push'
  | 'images.save'
  | 'images.load'
>;

/** One `{Untagged}` or `{Deleted}` line of a removal or prune answer, as the contract gives it. */
export function imageRemovedOf(line: unknown): ImageRemoved {
  const o = obj(line);
  const untagged = str(o, 'Untagged');
  // podman's compatible API gives the bare hex
  const deleted = str(o, 'Deleted');
  return {
    ...(untagged === undefined ? {} : { untagged: fullName(untagged) }),
    ...(deleted === undefined
      ? {}
      : { deleted: /^[0-9a-f]{64}$/.test(deleted) ? `sha256:${deleted}` : deleted }),
  };
}

/** The `X-Registry-Auth` header for credentials (base64url JSON, as Docker wants it). */
export function registryAuthHeader(auth: RegistryAuth | undefined): string {
  if (!auth) return base64urlJson({});
  if ('identityToken' in auth) {
    return base64urlJson({ identitytoken: auth.identityToken, serveraddress: auth.serveraddress });
  }
  return base64urlJson({
    username: auth.username,
    password: auth.password,
    serveraddress: auth.serveraddress,
  });
}

/** A full name (`docker.io/library/busybox:latest`) for what Docker shows familiar (`busybox:latest`). */
export function fullName(name: string): string {
  try {
    return parseReference(name).toString();
  } catch {
    return name;
  }
}

/** One progress line of Docker's JSON message stream, or undefined for lines that are not progress. */
export function progressOf(line: Json): ProgressEvent | undefined {
  const status = str(line, 'status');
  if (status === undefined) return undefined;
  const detail = obj(line['progressDetail']);
  return {
    id: nonEmpty(line, 'id'),
    status,
    current: num(detail, 'current'),
    total: num(detail, 'total'),
  };
}

/** The error of a JSON message stream line (`error`/`errorDetail`), if it is one. */
export function streamError(line: Json): string | undefined {
  const detail = obj(line['errorDetail']);
  return str(detail, 'message') ?? str(line, 'error');
}

/** Docker's image summary (`/images/json`) in the contract's terms. */
export function imageSummaryOf(v: Json): ImageSummary {
  return {
    id: str(v, 'Id') ?? '',
    repoTags: strings(v, 'RepoTags')
      .filter((t) => t !== '<none>:<none>')
      .map(fullName),
    repoDigests: strings(v, 'RepoDigests')
      .filter((t) => t !== '<none>@<none>')
      .map(fullName),
    created: fromUnix(num(v, 'Created')),
    size: num(v, 'Size') ?? 0,
    labels: labels(v, 'Labels'),
  };
}

/** Docker's image inspect (`/images/{name}/json`) in the contract's terms. */
export function imageDetailsOf(v: Json): ImageDetails {
  const config = obj(v['Config']);
  const os = str(v, 'Os') ?? '';
  const architecture = str(v, 'Architecture') ?? '';
  const variant = nonEmpty(v, 'Variant');
  return {
    id: str(v, 'Id') ?? '',
    repoTags: strings(v, 'RepoTags').map(fullName),
    repoDigests: strings(v, 'RepoDigests').map(fullName),
    created: time(v, 'Created'),
    size: num(v, 'Size') ?? 0,
    platform: os && architecture ? `${os}/${architecture}${variant ? `/${variant}` : ''}` : undefined,
    labels: labels(config, 'Labels'),
    os,
    architecture,
    variant,
    author: nonEmpty(v, 'Author'),
    config: {
      user: nonEmpty(config, 'User'),
      env: strings(config, 'Env'),
      entrypoint: maybeStrings(config, 'Entrypoint'),
      cmd: maybeStrings(config, 'Cmd'),
      workingDir: nonEmpty(config, 'WorkingDir'),
      exposedPorts: keys(config, 'ExposedPorts'),
      volumes: keys(config, 'Volumes'),
      labels: labels(config, 'Labels'),
      stopSignal: nonEmpty(config, 'StopSignal'),
    },
    diffIds: strings(obj(v['RootFS']), 'Layers'),
    raw: v,
  };
}

/** `repo` and `tag` of a target name for `/images/{name}/tag` and `/images/create`. */
function repoAndTag(ref: Reference): { repo: string; tag: string } {
  return { repo: ref.name, tag: ref.identifier ?? 'latest' };
}

/** The image handlers of a Docker-API engine whose API lives under `prefix`. */
export function imageHandlers(http: EngineHttp, prefix: string): ImageHandlers {
  const inspect = async (
    ref: string,
    signal: AbortSignal | undefined,
    operation: HttpRequest['operation'],
  ) => {
    const req: HttpRequest = {
      method: 'GET',
      path: `${prefix}/images/${encodeURIComponent(ref)}/json`,
      signal,
      operation,
      subject: 'image',
      target: ref,
    };
    const v = await http.json(req);
    if (!isObj(v)) throw http.fail('bad-response', req, { message: 'the image answer is not an object' });
    return imageDetailsOf(v);
  };

  /** `ref` parsed as Docker normalizes it; a bad one is `bad-argument` for `req`. */
  const parse = (ref: string, req: HttpRequest): Reference => {
    try {
      return parseReference(ref);
    } catch (e) {
      throw http.fail('bad-argument', req, { message: (e as Error).message, cause: e });
    }
  };

  /** Reads a JSON message stream: progress to `onProgress`, an error line thrown as a standard error. */
  const follow = async (
    req: HttpRequest,
    onProgress: ((e: ProgressEvent) => void) | undefined,
    fallback: EngineErrorReason,
    each?: (line: Json) => void,
  ): Promise<void> => {
    for await (const value of http.jsonLines(req)) {
      const line = obj(value);
      const error = streamError(line);
      if (error !== undefined) throw http.messageError(0, error, req, fallback);
      each?.(line);
      const progress = progressOf(line);
      if (progress && onProgress) onProgress(progress);
    }
  };

  const pull = async (ref: string, options: PullOptions): Promise<PulledImage> => {
    const { signal } = options;
    const base: HttpRequest = {
      method: 'POST',
      path: `${prefix}/images/create`,
      signal,
      operation: 'images.pull',
      subject: 'image',
      target: ref,
    };
    const parsed = parse(ref, base);
    if (options.allPlatforms) {
      throw http.fail('bad-argument', base, {
        message: 'the Docker API cannot pull every platform of an image',
      });
    }
    const policy = options.policy ?? 'always';
    if (policy === 'missing' || policy === 'never') {
      const have = await inspect(ref, signal, 'images.pull').catch((e: unknown) => {
        if ((e as { details?: { reason?: string } }).details?.reason === 'image-not-found') return undefined;
        throw e;
      });
      if (have) return { name: parsed.toString(), id: have.id, digest: undefined };
      if (policy === 'never') {
        throw http.fail('image-not-found', base, {
          message: `no image ${JSON.stringify(ref)} and the pull policy is never`,
        });
      }
    }
    const { repo, tag } = repoAndTag(parsed);
    let digest: string | undefined;
    const req: HttpRequest = {
      ...base,
      query: { fromImage: repo, tag, platform: options.platform },
      headers: options.auth ? { 'x-registry-auth': registryAuthHeader(options.auth) } : undefined,
    };
    await follow(req, options.onProgress, 'engine-error', (line) => {
      const m = /^Digest: (sha256:[0-9a-f]{64})/.exec(str(line, 'status') ?? '');
      if (m?.[1]) digest = m[1];
    });
    const name = parsed.toString();
    const pulled = await inspect(
      parsed.digest ? `${parsed.name}@${parsed.digest}` : name,
      signal,
      'images.pull',
    );
    return { name, id: pulled.id, digest };
  };

  return {
    'images.pull': pull,

    async 'images.list'(options) {
      const req: HttpRequest = {
        method: 'GET',
        path: `${prefix}/images/json`,
        query: {
          all: options.all ? '1' : undefined,
          filters: options.reference ? JSON.stringify({ reference: [options.reference] }) : undefined,
        },
        signal: options.signal,
        operation: 'images.list',
      };
      const v = await http.json(req);
      if (!Array.isArray(v))
        throw http.fail('bad-response', req, { message: 'the image list is not an array' });
      return v.map((i) => imageSummaryOf(obj(i)));
    },

    async 'images.inspect'(ref, { signal }) {
      return inspect(ref, signal, 'images.inspect');
    },

    async 'images.remove'(ref, options) {
      const req: HttpRequest = {
        method: 'DELETE',
        path: `${prefix}/images/${encodeURIComponent(ref)}`,
        query: { force: options.force ? '1' : undefined },
        signal: options.signal,
        operation: 'images.remove',
        subject: 'image',
        target: ref,
      };
      const v = await http.json(req);
      if (!Array.isArray(v))
        throw http.fail('bad-response', req, { message: 'the removal answer is not an array' });
      return v.map(imageRemovedOf);
    },

    async 'images.tag'(source, target, { signal }) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/images/${encodeURIComponent(source)}/tag`,
        signal,
        operation: 'images.tag',
        subject: 'image',
        target: source,
      };
      const to = parse(target, req);
      if (to.digest) throw http.fail('bad-argument', req, { message: `cannot tag with a digest: ${target}` });
      const { repo, tag } = repoAndTag(to);
      await http.ok({ ...req, query: { repo, tag } });
    },

    async 'images.push'(ref, options) {
      const base: HttpRequest = {
        method: 'POST',
        path: `${prefix}/images/create`,
        signal: options.signal,
        operation: 'images.push',
        subject: 'image',
        target: ref,
      };
      const parsed = parse(ref, base);
      let digest: string | undefined;
      const req: HttpRequest = {
        ...base,
        path: `${prefix}/images/${encodeURIComponent(parsed.name)}/push`,
        query: { tag: parsed.tag ?? 'latest' },
        // Docker refuses a push without the header ("Bad parameters and missing X-Registry-Auth")
        headers: { 'x-registry-auth': registryAuthHeader(options.auth) },
      };
      await follow(req, options.onProgress, 'engine-error', (line) => {
        const d =
          str(obj(line['aux']), 'Digest') ??
          /digest: (sha256:[0-9a-f]{64})/.exec(str(line, 'status') ?? '')?.[1];
        if (d) digest = d;
      });
      return { digest };
    },

    'images.save'(refs, { signal }) {
      return http.bytes({
        method: 'GET',
        path: `${prefix}/images/get`,
        query: { names: refs },
        signal,
        operation: 'images.save',
        subject: 'image',
        target: refs.join(' '),
      });
    },

    async 'images.load'(archive, options) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/images/load`,
        query: { quiet: '0' },
        headers: { 'content-type': 'application/x-tar' },
        body: archive,
        signal: options.signal,
        operation: 'images.load',
      };
      const loaded: string[] = [];
      await follow(req, options.onProgress, 'bad-argument', (line) => {
        const text = str(line, 'stream') ?? '';
        for (const m of text.matchAll(/Loaded image(?: ID)?: (\S+)/g)) {
          if (m[1]) loaded.push(m[1].startsWith('sha256:') ? m[1] : fullName(m[1]));
        }
      });
      return loaded;
    },
  };
}
