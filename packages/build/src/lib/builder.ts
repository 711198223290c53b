// `build`: a Dockerfile into an image in the state root's store, daemonless. The stages the target
// needs run in order; each step is looked up in the cache by its key first, and only a miss runs
// (RUN in a container, COPY/ADD into a snapshot, or a config change); the result is written as
// buildah writes it, then tagged and exported. Nothing is tagged unless every step succeeded.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fetchAll, openLayout, selectManifest, type Target } from '@ocikit/content';
import { type Digest, randomHex } from '@ocikit/digest';
import { isNotFound, throwIfAborted, truncate } from '@ocikit/errors';
import {
  Annotation,
  type Descriptor,
  formatPlatform,
  hostPlatform,
  type ImageConfig,
  matchPlatform,
  type Platform,
  parseImageConfig,
  parsePlatform,
} from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { Runtime } from '@ocikit/shim';
import { defaultSnapshotter, mountAll, type Snapshotter, unmount, unpackToSnapshots } from '@ocikit/snapshot';
import type { Instruction, SourceRange, Stage } from './ast.ts';
import { type ImageState, StepCache, stepKey } from './cache.ts';
import type { SourceTree } from './context.ts';
import { dockerignoreMatcher } from './dockerignore.ts';
import { badInstruction, unmet } from './errors.ts';
import { type MadeLayer, unmountBelow } from './layer.ts';
import { type BuildExport, exportImage, normalizeTag, ociLayer, writeImage } from './output.ts';
import { parseDockerfile, parseInstructions } from './parse.ts';
import type { BorrowedTree, BuildEvent, BuildSession } from './session.ts';
import { baseStage, expandGlobal, globalArgValues, planStages, stageNamed, targetStage } from './stages.ts';
import { copyStep, planCopy } from './step-copy.ts';
import { planRun, runKeyMaterial, runStep } from './step-run.ts';
import { applyConfigInstruction, nopCreatedBy, type StageScope } from './steps.ts';

/** Options of {@link build}. */
export interface BuildOptions {
  /** The build context directory. */
  context: string;
  /** The Dockerfile's path (relative to the context); default `Dockerfile`, else `Containerfile`. */
  file?: string | undefined;
  /** The Dockerfile's text, instead of reading `file`. */
  dockerfile?: string | undefined;
  /** `--build-arg` values. */
  buildArgs?: Readonly<Record<string, string>> | undefined;
  /** The stage to build (name or index); default the last. */
  target?: string | undefined;
  /** `os/arch[/variant]`: only the host's, unless qemu binfmt handlers are registered. */
  platform?: string | undefined;
  /** Names for the image in the store (`app:1`). */
  tags?: readonly string[] | undefined;
  /** The state root: `content/` (store), `snapshots/`, `build/` (cache, cache mounts, runtime state). */
  root: string;
  /** The image store; default the OCI layout at `ROOT/content`. */
  store?: Target | undefined;
  /** The snapshotter; default the state root's (overlay when the kernel has it). */
  snapshotter?: Snapshotter | undefined;
  /** The OCI runtime for RUN: `runc` (default), `crun`, or a path. */
  runtime?: string | undefined;
  /** Puts a base image that is not in the store into it (a pull); without it such a base is `base-not-found`. */
  pull?:
    | ((ref: string, options: { platform: Platform; signal?: AbortSignal | undefined }) => Promise<void>)
    | undefined;
  /** Run every step, reading no cache (results are still cached). */
  noCache?: boolean | undefined;
  /** Media types: `oci` (default) or `docker`. */
  format?: 'oci' | 'docker' | undefined;
  /** Seconds since the epoch: every created time, and layer mtimes clamped to it — reproducible digests. */
  sourceDateEpoch?: number | undefined;
  /** The network RUN steps get unless they say: `host` (default) or `none`. */
  network?: 'none' | 'host' | undefined;
  /** Labels added to the image. */
  labels?: Readonly<Record<string, string>> | undefined;
  /** Copies of the image to write (`oci:DIR`, `docker-archive:FILE`). */
  exports?: readonly BuildExport[] | undefined;
  /** Progress per step and RUN output as it comes. */
  onEvent?: ((event: BuildEvent) => void) | undefined;
  /**
   * Called with the uncompressed size (the tar's bytes) of each layer whose size the build learns
   * anyway: a base image's layer it applies into a snapshot, a layer a step writes (not one taken
   * from the cache). An engine can keep them, so listing the image need not measure its layers.
   */
  onLayerSize?: ((diffId: Digest, size: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** What one step did. */
export interface StepResult {
  /** Its stage (name or index). */
  stage: string;
  /** The instruction as written. */
  instruction: string;
  /** Its history wording. */
  createdBy: string;
  /** True when it came from the cache. */
  cached: boolean;
  /** The layer it made, when it made one (cached or not). */
  layer?: Descriptor | undefined;
  durationMs: number;
}

/** What {@link build} made. */
export interface BuildResult {
  /** The image manifest (in the store). */
  manifest: Descriptor;
  /** The image config (in the store). */
  config: Descriptor;
  /** The image id: the config's digest. */
  imageId: string;
  /** The tags given, normalized. */
  tags: string[];
  /** Every step of the stages built, in order. */
  steps: StepResult[];
}

/** An RFC 3339 time as Go writes it (no zero fraction). */
function timestamp(epoch: number | undefined): string {
  const iso = (epoch === undefined ? new Date() : new Date(epoch * 1000)).toISOString();
  return iso.replace('.000Z', 'Z');
}

/** The platform a build is for; refused unless it is the host's or a qemu binfmt handler exists. */
function checkPlatform(text: string | undefined): Platform {
  const host = hostPlatform();
  if (text === undefined || text === '') return host;
  const want = parsePlatform(text);
  if (matchPlatform(want, host) || matchPlatform(host, want)) return { ...host, ...want };
  const qemu = `/proc/sys/fs/binfmt_misc/qemu-${want.architecture === 'amd64' ? 'x86_64' : want.architecture === 'arm64' ? 'aarch64' : want.architecture}`;
  if (existsSync(qemu)) return want;
  throw unmet(
    'platform-unsupported',
    `cannot build for ${formatPlatform(want)} on this ${formatPlatform(host)} host: no qemu binfmt handler for it`,
    'build for the host platform, or install qemu-user-static (binfmt handlers) first',
  );
}

/** The Dockerfile's text (given, or read from the context) and the name errors call it by. */
function dockerfileText(options: BuildOptions): { text: string; name: string } {
  if (options.dockerfile !== undefined)
    return { text: options.dockerfile, name: options.file ?? 'Dockerfile' };
  const names = options.file ? [options.file] : ['Dockerfile', 'Containerfile'];
  for (const name of names) {
    const path = isAbsolute(name) ? name : join(options.context, name);
    if (existsSync(path)) return { text: readFileSync(path, 'utf8'), name };
  }
  throw unmet(
    'source-not-found',
    `no ${names.join(' or ')} in ${truncate(options.context, 120)}`,
    'give the Dockerfile with file (a path) or dockerfile (its text)',
  );
}

/** The scratch image: no layers, the build platform. */
function scratch(platform: Platform): ImageConfig {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

/**
 * Builds a Dockerfile into an image in the state root's store, as buildah does with `--layers`:
 * each step cached by its parent, its instruction after expansion and the digests of what it
 * copies; RUN in a real container through the OCI runtime. Returns the manifest and config it
 * wrote and what every step did; tags and exports only when every step succeeded.
 *
 * @example
 * ```ts
 * const result = await build({ context: '.', root: '/var/lib/ocikit', tags: ['app:1'] });
 * console.log(result.imageId);
 * ```
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const { signal } = options;
  throwIfAborted(signal);
  const dockerfile = dockerfileText(options);
  const file = parseDockerfile(dockerfile.text, { file: dockerfile.name });
  const tags = (options.tags ?? []).map(normalizeTag);
  const platform = checkPlatform(options.platform);
  const buildArgs = options.buildArgs ?? {};
  const globals = globalArgValues(file, buildArgs);
  const target = targetStage(file, options.target);
  const stages = planStages(file, target, globals);
  const root = resolve(options.root);
  const store =
    options.store ??
    (await openLayout(join(root, 'content'), { create: true, ...(signal ? { signal } : {}) }));
  const snapshotter = options.snapshotter ?? defaultSnapshotter(join(root, 'snapshots'));
  // made at the first RUN: a build without one needs no runtime installed
  let runtime: Runtime | undefined;
  const cache = new StepCache(root);
  const epoch = options.sourceDateEpoch;
  await mkdir(join(root, 'build', 'tmp'), { recursive: true });
  await removeStaleTemps(join(root, 'build', 'tmp'));
  const tmp = await mkdtemp(join(root, 'build', 'tmp', `b-${process.pid}-`));
  const context = contextTree(options.context, options.file);
  const built = new Map<number, ImageState>();
  const bases = new Map<number, Record<string, string>>();
  const steps: StepResult[] = [];
  const emit = (e: BuildEvent) => options.onEvent?.(e);
  // ONBUILD triggers of a base add to it when their stage starts
  let count = stages.reduce((n, s) => n + s.instructions.length, 0);
  let index = 0;

  const session: BuildSession = {
    root,
    tmp,
    store,
    snapshotter,
    get runtime() {
      runtime ??= new Runtime({ binary: options.runtime ?? 'runc', root: join(root, 'build', 'runtime') });
      return runtime;
    },
    context,
    clampTime: epoch,
    network: options.network ?? 'host',
    signal,
    emit,
    borrow: (from, range) => borrow(from, range),
  };

  /** A base image from the store (pulled through `pull` when missing), unpacked into snapshots. */
  const image = async (
    name: string,
    want: Platform,
    range: SourceRange,
  ): Promise<ImageState & { digest: string }> => {
    let ref: string;
    try {
      ref = parseReference(name).toString();
    } catch (e) {
      throw badInstruction(
        `invalid image reference ${JSON.stringify(truncate(name, 80))}: ${(e as Error).message}`,
        range,
      );
    }
    const sig = signal ? { signal } : {};
    let desc = await store.resolve(ref, sig).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (!desc && options.pull) {
      await options.pull(ref, { platform: want, signal });
      desc = await store.resolve(ref, sig);
    }
    if (!desc)
      throw unmet(
        'base-not-found',
        `the base image ${ref} is not in the store`,
        'pull it first (ocikit pull), or give build a pull callback',
      );
    const selected = await selectManifest(store, desc, { platform: want, name: ref, ...sig });
    const config = parseImageConfig(await fetchAll(store, selected.manifest.config, sig));
    const chain =
      selected.manifest.layers.length > 0
        ? (
            await unpackToSnapshots(store, selected.descriptor, snapshotter, {
              platform: want,
              ...(options.onLayerSize ? { onApplied: options.onLayerSize } : {}),
              ...sig,
            })
          ).chainId
        : undefined;
    return {
      config,
      layers: selected.manifest.layers.map(ociLayer),
      chain,
      key: stepKey('image', selected.descriptor.digest),
      digest: selected.descriptor.digest,
    };
  };

  /** A stage's or image's tree, mounted read-only under the build's temp dir. */
  const borrow = async (from: string, range: SourceRange): Promise<BorrowedTree> => {
    const name = expandGlobal(file, globals, from);
    const stage = stageNamed(file, name);
    let state: ImageState | undefined;
    if (stage) {
      state = built.get(stage.index);
      if (!state) throw badInstruction(`--from=${name}: that stage is not built before this one`, range);
    } else state = await image(name, platform, range);
    const dir = await mkdtemp(join(tmp, 'from-'));
    const key = `build-view-${randomHex(8)}`;
    if (state.chain !== undefined) {
      const mounts = await snapshotter.view(key, state.chain);
      try {
        mountAll(mounts, dir);
      } catch (e) {
        await snapshotter.remove(key).catch(() => {});
        throw e;
      }
    }
    // what the tree holds: the chainID of its layers (content-addressed), or empty
    const stateKey = state.chain ?? 'empty';
    return {
      tree: { root: dir, kind: 'rootfs' },
      key: stateKey,
      release: async () => {
        unmount(dir);
        await rm(dir, { recursive: true, force: true });
        if (state?.chain !== undefined) await snapshotter.remove(key).catch(() => {});
      },
    };
  };

  /** Runs one instruction on `state`; the new state (from the cache when it can). */
  const step = async (
    stageName: string,
    inst: Instruction,
    state: ImageState,
    scope: StageScope,
  ): Promise<ImageState> => {
    throwIfAborted(signal);
    const started = performance.now();
    const at = ++index;
    const created = timestamp(epoch);
    let createdBy: string;
    let material: string;
    let run: (() => Promise<MadeLayer>) | undefined;
    let nextConfig: ImageConfig | undefined;
    let release = async () => {};
    if (inst.kind === 'RUN') {
      const plan = planRun(inst, state.config, scope, session.network);
      createdBy = plan.createdBy;
      material = await runKeyMaterial(plan, session, inst);
      material += `\ndirs=${JSON.stringify(scope.pendingDirs)}`;
      run = () => runStep(session, state, scope, inst, plan);
    } else if (inst.kind === 'COPY' || inst.kind === 'ADD') {
      const plan = await planCopy(session, state, scope, inst);
      createdBy = plan.createdBy;
      material = plan.material;
      release = plan.release;
      run = () => copyStep(session, state, scope, inst, plan);
    } else {
      nextConfig = applyConfigInstruction(inst, state.config, scope);
      createdBy = nopCreatedBy(inst, scope);
      // the ARGs in effect too: an ARG's wording names them without their values
      material = `${createdBy}\n${JSON.stringify(nextConfig.config)}\n${nextConfig.author ?? ''}\n${JSON.stringify([...scope.args])}`;
    }
    try {
      const key = stepKey(state.key, `${material}\nepoch=${epoch ?? ''}`);
      const hit = options.noCache ? undefined : await cache.get(key, store, snapshotter);
      emit({
        type: 'step',
        stage: stageName,
        index: at,
        count,
        instruction: inst.source,
        cached: hit !== undefined,
      });
      let next: ImageState;
      let layer: Descriptor | undefined;
      if (hit) {
        next = hit;
        if (run) layer = hit.layers.at(-1);
      } else if (run) {
        const made = await run();
        options.onLayerSize?.(made.diffId, made.size);
        const config = structuredClone(state.config);
        config.created = created;
        config.rootfs = { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, made.diffId] };
        config.history = [...(state.config.history ?? []), { created, created_by: createdBy }];
        layer = made.descriptor;
        next = { config, layers: [...state.layers, made.descriptor], chain: made.chain, key };
        cache.put(next);
      } else {
        const config = nextConfig as ImageConfig;
        config.created = created;
        config.history = [
          ...(state.config.history ?? []),
          { created, created_by: createdBy, empty_layer: true },
        ];
        next = { config, layers: state.layers, chain: state.chain, key };
        cache.put(next);
      }
      if (run) scope.pendingDirs = [];
      const durationMs = Math.round(performance.now() - started);
      emit({ type: 'step-done', index: at, layer: hit ? undefined : layer, durationMs });
      steps.push({
        stage: stageName,
        instruction: inst.source,
        createdBy,
        cached: hit !== undefined,
        layer,
        durationMs,
      });
      return next;
    } finally {
      await release();
    }
  };

  /** Builds one stage from its base. */
  const buildStage = async (stage: Stage): Promise<ImageState> => {
    const stageName = stage.from.alias ?? String(stage.index);
    const from = expandGlobal(file, globals, stage.from.image);
    const flag = stage.from.flags.find((f) => f.name === 'platform');
    const want =
      flag && flag.value !== true ? checkPlatform(expandGlobal(file, globals, flag.value)) : platform;
    emit({ type: 'stage', stage: stageName, base: from });
    let state: ImageState;
    const parent = baseStage(file, stage, from);
    if (parent) {
      state = built.get(parent.index) as ImageState;
      const base = bases.get(parent.index);
      if (base) bases.set(stage.index, base);
    } else if (from.toLowerCase() === 'scratch')
      state = { config: scratch(want), layers: [], key: stepKey('scratch', formatPlatform(want)) };
    else {
      const { digest, ...base } = await image(from, want, stage.from.range);
      state = base;
      // the manifest names its base image, as buildah's OCI manifests do
      bases.set(stage.index, {
        [Annotation.BaseImageName]: parseReference(from).toString(),
        [Annotation.BaseImageDigest]: digest,
      });
    }
    const scope: StageScope = {
      escape: file.escape,
      args: new Map(),
      buildArgs,
      globalArgs: globals,
      pendingDirs: [],
      cmdSet: false,
    };
    // ONBUILD triggers of the base run first; the new image does not keep them
    const triggers = (state.config.config?.['OnBuild'] as string[] | undefined) ?? [];
    if (triggers.length > 0) {
      const instructions = parseInstructions(triggers.join('\n'), {
        escape: file.escape,
        file: 'ONBUILD triggers',
      });
      count += instructions.length;
      const config = structuredClone(state.config);
      if (config.config) delete config.config['OnBuild'];
      state = { ...state, config, key: stepKey(state.key, 'onbuild cleared') };
      for (const inst of instructions) state = await step(stageName, inst, state, scope);
    }
    for (const inst of stage.instructions) state = await step(stageName, inst, state, scope);
    return state;
  };

  try {
    for (const stage of stages) built.set(stage.index, await buildStage(stage));
    let final = built.get(target.index) as ImageState;
    if (options.labels && Object.keys(options.labels).length > 0) {
      const config = structuredClone(final.config);
      config.config = { ...config.config, Labels: { ...config.config?.Labels, ...options.labels } };
      final = { ...final, config };
    }
    // an abort after the last step still tags nothing
    throwIfAborted(signal);
    const written = await writeImage(store, final, options.format ?? 'oci', {
      annotations: bases.get(target.index),
      signal,
    });
    for (const tag of tags) await store.tag(written.manifest, tag, signal ? { signal } : {});
    if (options.exports?.length) await exportImage(store, written.manifest, options.exports, signal);
    return {
      manifest: written.manifest,
      config: written.config,
      imageId: written.config.digest,
      tags,
      steps,
    };
  } finally {
    unmountBelow(tmp);
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The context as a source tree, filtered by `<Dockerfile>.dockerignore` beside the Dockerfile when
 * there is one (BuildKit's rule), else by the context's `.dockerignore`.
 */
function contextTree(dir: string, dockerfile: string | undefined): SourceTree {
  const root = resolve(dir);
  const own =
    dockerfile === undefined
      ? undefined
      : `${isAbsolute(dockerfile) ? dockerfile : join(root, dockerfile)}.dockerignore`;
  const ignoreFile = own !== undefined && existsSync(own) ? own : join(root, '.dockerignore');
  if (!existsSync(ignoreFile)) return { root, kind: 'context' };
  const matcher = dockerignoreMatcher(readFileSync(ignoreFile, 'utf8'));
  return {
    root,
    kind: 'context',
    ignored: (rel) => matcher(rel),
    mayIncludeBelow: (d) => matcher.mayIncludeBelow(d),
  };
}

/** True when process `pid` runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes what builds whose process died (killed mid-step) left in the temp dir: their mounts first. */
async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/^b-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    unmountBelow(join(dir, name));
    await rm(join(dir, name), { recursive: true, force: true });
  }
}
