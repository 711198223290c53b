import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BuildEvent, BuildExport } from '@ocikit/build';
import type { Engine } from '@ocikit/engine';
import { InvalidArgumentError } from '@ocikit/errors';
import { formatPlatform } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { parseLocation, parseTransport } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import { engineRegistry, registryFlags, registryFlagsHelp } from '../lib/registry.ts';

/** `K=V` pairs of a repeatable flag; a bare `K` takes its value from `env` (docker's `--build-arg K`), when `fromEnv`. */
export function keyValues(
  flag: string,
  values: readonly string[] | undefined,
  env?: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq === 0 || (eq < 0 && env === undefined))
      throw new InvalidArgumentError(`ocikit build: ${flag} ${JSON.stringify(v)}: give KEY=VALUE`);
    if (eq < 0) {
      const fromEnv = env?.[v];
      if (fromEnv !== undefined) out[v] = fromEnv;
      continue;
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/**
 * `--output` values: `oci:DIR[:REF]` and `docker-archive:FILE[:REF]`, split at the first `:` after
 * the prefix as skopeo (and `ocikit copy`) split them, or `type=oci|docker-archive,dest=PATH`
 * (BuildKit's form, no reference).
 */
export function buildExports(outputs: readonly string[] | undefined): BuildExport[] {
  return (outputs ?? []).map((o) => {
    const bad = () =>
      new InvalidArgumentError(
        `ocikit build: --output ${JSON.stringify(o)}: give oci:DIR or docker-archive:FILE`,
      );
    const kv = /^type=([a-z-]+),(?:dest|destination)=(.+)$/.exec(o);
    if (kv) {
      if (kv[1] !== 'oci' && kv[1] !== 'docker-archive') throw bad();
      return { type: kv[1], path: resolve(kv[2] ?? '') };
    }
    const at = o.startsWith('oci:') ? parseLocation(o) : parseTransport(o);
    if (at?.kind === 'oci') return { type: 'oci', path: resolve(at.dir), ...(at.ref ? { ref: at.ref } : {}) };
    if (at?.kind === 'archive' && at.format === 'docker-archive')
      return { type: 'docker-archive', path: resolve(at.file), ...(at.ref ? { ref: at.ref } : {}) };
    throw bad();
  });
}

/** Prints build events: a line per step (`STEP 2/5: RUN make`, `--> Using cache`), RUN output as it comes. */
function stepPrinter(out: NodeJS.WritableStream & { isTTY?: boolean }): (e: BuildEvent) => void {
  const tty = out.isTTY === true;
  let atLineStart = true;
  return (e) => {
    if (e.type === 'stage') return;
    if (e.type === 'step') {
      if (!atLineStart) out.write('\n');
      const head = `STEP ${e.index}/${e.count}: ${e.instruction}`;
      out.write(tty ? `\x1b[1m${head}\x1b[0m\n` : `${head}\n`);
      if (e.cached) out.write('--> Using cache\n');
      atLineStart = true;
      return;
    }
    if (e.type === 'output') {
      out.write(e.chunk);
      if (e.chunk.length > 0) atLineStart = e.chunk[e.chunk.length - 1] === 0x0a;
      return;
    }
    if (!atLineStart) out.write('\n');
    atLineStart = true;
    if (e.layer) out.write(`--> ${e.layer.digest.slice(7, 19)} (${(e.durationMs / 1000).toFixed(2)}s)\n`);
  };
}

/** `ocikit build [flags] [CONTEXT]`: a Dockerfile into an image in the local store, daemonless. */
export const buildCommand = defineCommand({
  name: 'build',
  summary: 'Build an image from a Dockerfile, daemonless, into the local store',
  usage: 'ocikit build [-t NAME]... [-f DOCKERFILE] [--build-arg K=V]... [--target STAGE] [flags] [CONTEXT]',
  description:
    'As buildah bud and docker build: the Dockerfile (CONTEXT/Dockerfile, else Containerfile; -f a path, or - for stdin) is built in the ' +
    'local state root (--root), whatever --host says: RUN steps run in containers of the OCI runtime, each step is cached ' +
    '(--no-cache: run them all again). Base images not in the store are pulled. Each step is printed on stderr with the ' +
    'output of RUN as it comes; the image id goes to stdout (-q: only that). A failing RUN ends the build with exit 1, its exit code and last output; nothing is tagged. ' +
    '-o oci:DIR[:REF] writes an OCI layout, -o docker-archive:FILE[:REF] a docker load archive; --push pushes every -t name to its registry.',
  options: {
    tag: { type: 'string', short: 't', multiple: true },
    file: { type: 'string', short: 'f' },
    'build-arg': { type: 'string', multiple: true },
    target: { type: 'string' },
    'no-cache': { type: 'boolean' },
    platform: { type: 'string' },
    format: { type: 'string' },
    network: { type: 'string' },
    label: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o', multiple: true },
    push: { type: 'boolean' },
    iidfile: { type: 'string' },
    runtime: { type: 'string' },
    ...registryFlags,
  },
  help: {
    tag: 'a name for the image (repeatable)',
    file: 'the Dockerfile (default CONTEXT/Dockerfile, else Containerfile; - reads stdin)',
    'build-arg': 'an ARG value, KEY=VALUE, or KEY for its value in the environment (repeatable)',
    target: 'the stage to build (default the last); only the stages it needs are built',
    'no-cache': 'run every step again (the results are still cached)',
    platform: "os/arch[/variant]: this machine's (others need qemu-user-static binfmt handlers)",
    format: 'oci (default) or docker media types (docker keeps HEALTHCHECK and ONBUILD in the config)',
    network: 'the network of RUN steps: host (default) or none',
    label: 'a label for the image, KEY=VALUE (repeatable)',
    output: 'also write the image to oci:DIR[:REF] or docker-archive:FILE[:REF] (repeatable)',
    push: 'push every -t name to its registry after the build',
    iidfile: 'write the image id to this file',
    runtime: 'the OCI runtime for RUN: runc (default), crun, or a path',
    ...registryFlagsHelp,
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(buildCommand, positionals, 0, 1);
    const context = resolve(positionals[0] ?? '.');
    const format = values.format ?? 'oci';
    if (format !== 'oci' && format !== 'docker')
      throw new InvalidArgumentError(`ocikit build: --format ${JSON.stringify(format)}: give oci or docker`);
    const network = values.network ?? 'host';
    if (network !== 'none' && network !== 'host')
      throw new InvalidArgumentError(`ocikit build: --network ${JSON.stringify(network)}: give none or host`);
    const tags = (values.tag ?? []).map((t) => {
      const parsed = parseReference(t);
      if (parsed.digest !== undefined)
        throw new InvalidArgumentError(
          `ocikit build: -t ${JSON.stringify(t)} is a digest reference; give a tag`,
        );
      return parsed.toString();
    });
    if (values.push && tags.length === 0)
      throw new InvalidArgumentError('ocikit build: --push needs a name to push (-t NAME)');
    const buildArgs = keyValues('--build-arg', values['build-arg'], ctx.env);
    const labels = keyValues('--label', values.label);
    const exports = buildExports(values.output);
    let dockerfile: string | undefined;
    if (values.file === '-') {
      const chunks: Buffer[] = [];
      for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Uint8Array));
      dockerfile = Buffer.concat(chunks).toString('utf8');
    } else if (values.file !== undefined) {
      // a path from where the command runs, as docker's and buildah's -f
      dockerfile = readFileSync(resolve(values.file), 'utf8');
    }
    const epoch = ctx.env.SOURCE_DATE_EPOCH;

    // base images are pulled, and names pushed, by the local engine of the same state root
    let local: Promise<Engine> | undefined;
    const registry = engineRegistry(ctx, values);
    const engine = () => {
      local ??= Promise.all([import('@ocikit/engine'), import('@ocikit/local')]).then(
        ([{ Engine }, { localDriver }]) =>
          Engine.connect(localDriver({ registry }), `local:${resolve(ctx.root)}`, {
            env: ctx.env,
            signal: ctx.signal,
          }),
      );
      return local;
    };
    // the uncompressed sizes of the layers the build applies and writes, for the local engine's
    // cache (decision 215): the first `images` after a build then measures none of them
    const layerSizes = new Map<string, number>();
    try {
      const { build } = await import('@ocikit/build');
      const show = ctx.quiet || ctx.json ? undefined : stepPrinter(ctx.stderr);
      const result = await build({
        context,
        root: resolve(ctx.root),
        ...(dockerfile !== undefined ? { dockerfile } : {}),
        ...(Object.keys(buildArgs).length > 0 ? { buildArgs } : {}),
        ...(values.target !== undefined ? { target: values.target } : {}),
        ...(values.platform !== undefined ? { platform: values.platform } : {}),
        ...(tags.length > 0 ? { tags } : {}),
        ...(values.runtime !== undefined ? { runtime: values.runtime } : {}),
        ...(values['no-cache'] ? { noCache: true } : {}),
        format,
        network,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        ...(exports.length > 0 ? { exports } : {}),
        ...(epoch !== undefined && /^\d+$/.test(epoch) ? { sourceDateEpoch: Number(epoch) } : {}),
        pull: async (ref, { platform, signal }) => {
          await (await engine()).images.pull(ref, {
            policy: 'missing',
            platform: formatPlatform(platform),
            ...(signal ? { signal } : {}),
          });
        },
        ...(show ? { onEvent: show } : {}),
        onLayerSize: (diffId, size) => layerSizes.set(diffId, size),
        signal: ctx.signal,
      });
      const pushed: { reference: string; digest: string }[] = [];
      for (const tag of values.push ? tags : []) {
        const { digest } = await (await engine()).images.push(tag, {
          ...(values.insecure ? { tlsVerify: false } : {}),
          signal: ctx.signal,
        });
        pushed.push({ reference: tag, digest: digest ?? result.manifest.digest });
        if (!ctx.quiet && !ctx.json) ctx.stderr.write(`pushed ${tag}@${digest ?? result.manifest.digest}\n`);
      }
      if (values.iidfile !== undefined) writeFileSync(resolve(values.iidfile), result.imageId);
      if (ctx.json)
        printJson(ctx, {
          id: result.imageId,
          manifest: result.manifest.digest,
          tags: result.tags,
          ...(pushed.length > 0 ? { pushed } : {}),
          steps: result.steps.map((s) => ({
            stage: s.stage,
            instruction: s.instruction,
            cached: s.cached,
            ...(s.layer ? { layer: s.layer.digest } : {}),
            durationMs: s.durationMs,
          })),
        });
      else println(ctx, result.imageId);
      return 0;
    } finally {
      if (local) await (await local.catch(() => undefined))?.close();
      // also after a failed build (its layers are stored); a cache entry left unwritten is measured later
      if (layerSizes.size > 0)
        await import('@ocikit/local')
          .then(({ recordLayerSizes }) => recordLayerSizes({ root: resolve(ctx.root) }, layerSizes))
          .catch(() => {});
    }
  },
});
