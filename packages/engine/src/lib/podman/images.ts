// images.* over podman's libpod API: pull with a pull policy, TLS verification per call and every
// platform of an index; list, inspect, remove, tag and push in libpod's forms.
import { randomUUID } from 'node:crypto';
import { parseStrictReference } from '@ocikit/reference';
import type {
  CallOptions,
  Handlers,
  ImageDetails,
  ImageListOptions,
  ImageRemoved,
  ImageRemoveOptions,
  ImageSummary,
  ProgressEvent,
  PulledImage,
  PullOptions,
  PushedImage,
  PushOptions,
  RegistryAuth,
} from '../contract.ts';
import type { EngineHttp, HttpRequest } from '../docker/http.ts';
import { imageDetailsOf, imageSummaryOf, registryAuthHeader } from '../docker/images.ts';
import { isObj, type Json, nonEmpty, obj, str, strings } from '../docker/json.ts';
import { libpodImagesPrune } from '../docker/prune.ts';

/** `X-Registry-Auth` for credentials, when there are some. */
function authHeaders(auth: RegistryAuth | undefined): Record<string, string> | undefined {
  return auth === undefined ? undefined : { 'X-Registry-Auth': registryAuthHeader(auth) };
}

/** A podman progress line (`Copying blob sha256:…`) as a contract progress event. */
export function progressOf(line: string): ProgressEvent | undefined {
  const text = line.trim();
  if (!text) return undefined;
  const m = /^(Copying (?:blob|config)) (?:sha256:)?([0-9a-f]{12})[0-9a-f]*/.exec(text);
  if (m) return { id: m[2], status: m[1] as string };
  return { status: text };
}

/** `os/arch[/variant]` as libpod's `OS`, `Arch` and `Variant` query parameters. */
function platformQuery(platform: string | undefined): Record<string, string | undefined> {
  if (!platform) return {};
  const [os, arch, variant] = platform.split('/');
  return { OS: os || undefined, Arch: arch || undefined, Variant: variant || undefined };
}

/** The image handlers of a podman service whose libpod API lives under `prefix`. */
export function libpodImageHandlers(
  http: EngineHttp,
  prefix: string,
): Pick<
  Handlers,
  | 'images.pull'
  | 'images.list'
  | 'images.inspect'
  | 'images.remove'
  | 'images.tag'
  | 'images.push'
  | 'images.prune'
> {
  const path = (ref: string, rest = '') => `${prefix}/images/${encodeURIComponent(ref)}${rest}`;

  /**
   * The lines of a libpod pull or push stream: `stream` lines go to `onProgress`, an `error` line
   * (podman answers 200 and reports failures in the stream) is thrown as a standard error.
   */
  async function* progressStream(
    req: HttpRequest,
    onProgress: ((event: ProgressEvent) => void) | undefined,
  ): AsyncGenerator<Json> {
    for await (const line of http.jsonLines(req)) {
      const l = obj(line);
      const error = nonEmpty(l, 'error');
      if (error !== undefined) throw http.messageError(0, error, req);
      const stream = nonEmpty(l, 'stream');
      const event = stream === undefined ? undefined : progressOf(stream);
      if (event) onProgress?.(event);
      yield l;
    }
  }

  /** One libpod pull; gives the ids podman reports. */
  async function pullOnce(ref: string, options: PullOptions, platform: string | undefined): Promise<string> {
    const req: HttpRequest = {
      method: 'POST',
      path: `${prefix}/images/pull`,
      query: {
        reference: ref,
        policy: options.policy,
        tlsVerify: options.tlsVerify,
        ...platformQuery(platform),
      },
      headers: authHeaders(options.auth),
      signal: options.signal,
      operation: 'images.pull',
      subject: 'image',
      target: ref,
    };
    let id: string | undefined;
    for await (const l of progressStream(req, options.onProgress)) {
      id = nonEmpty(l, 'id') ?? strings(l, 'images').at(-1) ?? id;
    }
    if (id === undefined) {
      throw http.fail('bad-response', req, {
        message: `the pull of ${JSON.stringify(ref)} ended without an image id`,
      });
    }
    return id;
  }

  /**
   * The digests of every platform of the index `ref` names, read by podman itself (so its TLS
   * setting and credentials apply): podman 4.3's pull has no all-platforms switch and its remote
   * manifest inspect ignores `tlsVerify`, so a scratch manifest list takes the index's entries
   * (`all`) and is read, then deleted.
   */
  async function platformDigests(ref: string, options: PullOptions): Promise<string[]> {
    const scratch = `localhost/ocikit-platforms-${randomUUID()}:latest`;
    const base = {
      signal: options.signal,
      operation: 'images.pull' as const,
      subject: 'image' as const,
      target: ref,
    };
    const list = `${prefix}/manifests/${encodeURIComponent(scratch)}`;
    await http.ok({ ...base, method: 'POST', path: list });
    try {
      await http.ok({
        ...base,
        method: 'PUT',
        path: list,
        query: { tlsVerify: options.tlsVerify },
        headers: authHeaders(options.auth),
        json: { operation: 'update', images: [`docker://${ref}`], all: true },
      });
      const index = obj(await http.json({ ...base, method: 'GET', path: `${list}/json` }));
      const manifests = Array.isArray(index['manifests']) ? index['manifests'].map(obj) : [];
      return manifests.map((m) => str(m, 'digest')).filter((d): d is string => d !== undefined);
    } finally {
      await http.ok({ ...base, method: 'DELETE', path: list, signal: undefined }).catch(() => {});
    }
  }

  /** The name and digest a pull of `ref` stored image `id` under. */
  async function pulledAs(ref: string, id: string, options: PullOptions): Promise<PulledImage> {
    const image = obj(
      await http.json({
        method: 'GET',
        path: path(id, '/json'),
        signal: options.signal,
        operation: 'images.pull',
        subject: 'image',
        target: ref,
      }),
    );
    let wanted = ref;
    let digest: string | undefined;
    try {
      const parsed = parseStrictReference(ref);
      digest = parsed.digest;
      wanted = parsed.digest ? `${parsed.name}@${parsed.digest}` : `${parsed.name}:${parsed.tag ?? 'latest'}`;
    } catch {
      // podman took it; keep it as written
    }
    const names = digest ? strings(image, 'RepoDigests') : strings(image, 'RepoTags');
    const name = names.find((n) => n === wanted || n.endsWith(`/${wanted}`)) ?? names[0] ?? wanted;
    return { name, id: sha256Id(id), digest: digest ?? nonEmpty(image, 'Digest') };
  }

  return {
    // libpod's: podman 4.3's compatible /images/prune refuses Docker's `dangling=false`
    'images.prune': (options) => libpodImagesPrune(http, prefix, options),

    async 'images.pull'(ref, options) {
      if (options.allPlatforms) {
        let name = ref;
        try {
          name = parseStrictReference(ref).name;
        } catch {
          // podman reports a bad reference below
        }
        for (const digest of await platformDigests(ref, options)) {
          await pullOnce(`${name}@${digest}`, options, undefined);
        }
      }
      const id = await pullOnce(ref, options, options.platform);
      return pulledAs(ref, id, options);
    },

    async 'images.list'(options: ImageListOptions) {
      const filters = options.reference ? JSON.stringify({ reference: [options.reference] }) : undefined;
      const list = await http.json({
        method: 'GET',
        path: `${prefix}/images/json`,
        query: { all: options.all, filters },
        signal: options.signal,
        operation: 'images.list',
      });
      return (Array.isArray(list) ? list : []).map((i) => libpodImageSummaryOf(obj(i)));
    },

    async 'images.inspect'(ref: string, options: CallOptions) {
      const req = {
        method: 'GET',
        path: path(ref, '/json'),
        signal: options.signal,
        operation: 'images.inspect',
        subject: 'image',
        target: ref,
      } as const;
      const v = await http.json(req);
      if (!isObj(v) || typeof v['Id'] !== 'string') {
        throw http.fail('bad-response', req, { message: 'the image answer has no Id' });
      }
      return libpodImageDetailsOf(v);
    },

    async 'images.remove'(ref: string, options: ImageRemoveOptions) {
      const v = obj(
        await http.json({
          method: 'DELETE',
          path: path(ref),
          query: { force: options.force },
          signal: options.signal,
          operation: 'images.remove',
          subject: 'image',
          target: ref,
        }),
      );
      const out: ImageRemoved[] = [
        ...strings(v, 'Untagged').map((untagged) => ({ untagged })),
        ...strings(v, 'Deleted').map((deleted) => ({ deleted: sha256Id(deleted) })),
      ];
      return out;
    },

    async 'images.tag'(source: string, target: string, options: CallOptions) {
      const req: HttpRequest = {
        method: 'POST',
        path: path(source, '/tag'),
        signal: options.signal,
        operation: 'images.tag',
        subject: 'image',
        target: source,
      };
      let repo = target;
      let tag = 'latest';
      try {
        const parsed = parseStrictReference(target);
        if (parsed.digest) throw new Error('digest');
        repo = parsed.name;
        tag = parsed.tag ?? 'latest';
      } catch {
        throw http.fail('bad-argument', req, {
          message: `${JSON.stringify(target)} is not a name to tag an image with (NAME[:TAG])`,
        });
      }
      await http.ok({ ...req, query: { repo, tag } });
    },

    async 'images.push'(ref: string, options: PushOptions): Promise<PushedImage> {
      const req: HttpRequest = {
        method: 'POST',
        path: path(ref, '/push'),
        query: { destination: ref, tlsVerify: options.tlsVerify, quiet: false },
        headers: authHeaders(options.auth),
        signal: options.signal,
        operation: 'images.push',
        subject: 'image',
        target: ref,
      };
      let digest: string | undefined;
      for await (const l of progressStream(req, options.onProgress)) {
        digest = nonEmpty(l, 'manifestdigest') ?? digest;
      }
      return { digest };
    },
  };
}

/** The image id with its `sha256:` prefix (libpod gives the bare hex). */
function sha256Id(id: string): string {
  return `sha256:${id.replace(/^sha256:/, '')}`;
}

/** One entry of libpod's image list in the contract's terms (Docker's fields, a bare-hex `Id`). */
export function libpodImageSummaryOf(v: Json): ImageSummary {
  const summary = imageSummaryOf(v);
  return { ...summary, id: sha256Id(summary.id) };
}

/** libpod's image inspect answer in the contract's terms (Docker's fields, a bare-hex `Id`). */
export function libpodImageDetailsOf(v: Json): ImageDetails {
  const details = imageDetailsOf(v);
  return { ...details, id: sha256Id(details.id) };
}
