// The Target conformance suite, exported as `@ocikit/content/testsuite` so every implementation —
// ours (memory, layout, registry) and anyone else's — is held to the same contract, as
// containerd exports content/testsuite for its stores. Framework-free: the cases assert with
// node:assert and run under vitest, node:test or jest through a `describe`/`it` pair.
import assert from 'node:assert/strict';
import { digestOfSync } from '@ocikit/digest';
import { isAborted, isDataLoss, isNotFound, isOcikitError } from '@ocikit/errors';
import { type Descriptor, MediaType } from '@ocikit/image-spec';
import { fetchAll, pushBytes } from './helpers.ts';
import type { Target } from './target.ts';

const enc = new TextEncoder();

/** One conformance case: a name and a check run against a fresh, empty target. */
export interface TargetConformanceCase {
  /** What the case checks, e.g. `rejects bytes that do not match the digest, and keeps nothing`. */
  readonly name: string;
  /** Runs the check; throws (an `AssertionError` or the target's error) when the target fails it. */
  run(target: Target): Promise<void>;
}

/** The two functions of a test framework the suite needs (vitest's, jest's or node:test's fit). */
export interface TestFramework {
  /** Groups the cases. */
  describe(name: string, body: () => void): void;
  /** Declares one case. */
  it(name: string, body: () => Promise<void>): void;
}

/** Options of {@link describeTargetConformance}. */
export interface TargetConformanceOptions {
  /** Called after each case with the target it made (close connections, remove directories). */
  release?: (target: Target) => Promise<void>;
}

/** The descriptor and bytes of `text` as a blob. */
export function blob(
  text: string | Uint8Array,
  mediaType = 'application/octet-stream',
): { desc: Descriptor; bytes: Uint8Array } {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  return { desc: { mediaType, digest: digestOfSync(bytes), size: bytes.byteLength }, bytes };
}

/** Builds a small image (config, two layers, manifest) into `target`; returns its descriptors. */
export async function buildImage(
  target: Target,
  seed: string,
  platform?: { os: string; architecture: string },
): Promise<{ manifest: Descriptor; config: Descriptor; layers: Descriptor[] }> {
  const layer1 = await pushBytes(target, MediaType.ImageLayerGzip, enc.encode(`layer one ${seed}`));
  const layer2 = await pushBytes(target, MediaType.ImageLayerGzip, enc.encode(`layer two ${seed}`));
  const config = await pushBytes(
    target,
    MediaType.ImageConfig,
    enc.encode(
      JSON.stringify({
        architecture: platform?.architecture ?? 'amd64',
        os: platform?.os ?? 'linux',
        rootfs: { type: 'layers', diff_ids: [layer1.digest, layer2.digest] },
      }),
    ),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config,
    layers: [layer1, layer2],
  };
  const desc = await pushBytes(target, MediaType.ImageManifest, enc.encode(JSON.stringify(manifest)));
  return { manifest: desc, config, layers: [layer1, layer2] };
}

/** Builds a two-platform index (linux/amd64, linux/arm64/v8) into `target`; returns its descriptors. */
export async function buildIndex(target: Target): Promise<{
  index: Descriptor;
  amd: Awaited<ReturnType<typeof buildImage>>;
  arm: Awaited<ReturnType<typeof buildImage>>;
}> {
  const amd = await buildImage(target, 'amd64', { os: 'linux', architecture: 'amd64' });
  const arm = await buildImage(target, 'arm64', { os: 'linux', architecture: 'arm64' });
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ImageIndex,
    manifests: [
      { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
  };
  return {
    index: await pushBytes(target, MediaType.ImageIndex, enc.encode(JSON.stringify(index))),
    amd,
    arm,
  };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected the call to fail, and it succeeded'),
    (e: unknown) => e,
  );
}

function assertDataLoss(err: unknown, digest: string): void {
  assert.ok(isDataLoss(err), `expected a DataLossError, got ${describeError(err)}`);
  assert.ok(
    (err as Error).message.includes(digest),
    `the error should name ${digest}: ${(err as Error).message}`,
  );
}

function assertNotFound(err: unknown): void {
  assert.ok(isNotFound(err), `expected a NotFoundError, got ${describeError(err)}`);
}

function describeError(err: unknown): string {
  return isOcikitError(err) ? `${err.name}: ${err.message}` : String(err);
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c as Uint8Array);
  return Buffer.concat(chunks);
}

async function* streamOf(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield enc.encode(p);
}

/** The cases of the Target contract (see `Target` and its parts in `@ocikit/content`). */
export function targetConformanceCases(): TargetConformanceCase[] {
  return [
    {
      name: 'pushes, finds and fetches a blob',
      async run(t) {
        const { desc, bytes } = blob('hello');
        assert.equal(await t.exists(desc), false);
        await t.push(desc, bytes);
        assert.equal(await t.exists(desc), true);
        assert.equal(Buffer.from(await fetchAll(t, desc)).toString(), 'hello');
      },
    },
    {
      name: 'stores and fetches an empty blob',
      async run(t) {
        const { desc, bytes } = blob('');
        await t.push(desc, bytes);
        assert.equal(await t.exists(desc), true);
        assert.equal((await readAll(await t.fetch(desc))).byteLength, 0);
      },
    },
    {
      name: 'fetches from an offset',
      async run(t) {
        const { desc, bytes } = blob('0123456789');
        await t.push(desc, bytes);
        assert.equal((await readAll(await t.fetch(desc, { offset: 4 }))).toString(), '456789');
      },
    },
    {
      name: 'fetches nothing from an offset at the end',
      async run(t) {
        const { desc, bytes } = blob('0123456789');
        await t.push(desc, bytes);
        assert.equal((await readAll(await t.fetch(desc, { offset: desc.size }))).byteLength, 0);
      },
    },
    {
      name: 'says NotFound for a digest it does not hold, asked to resolve',
      async run(t) {
        assertNotFound(await failure(t.resolve(blob('no manifest', MediaType.ImageManifest).desc.digest)));
      },
    },
    {
      name: 'accepts a stream and treats a second push as a no-op',
      async run(t) {
        const { desc } = blob('streamed bytes');
        await t.push(desc, streamOf('streamed ', 'bytes'));
        await t.push(desc, streamOf('streamed ', 'bytes'));
        assert.equal(Buffer.from(await fetchAll(t, desc)).toString(), 'streamed bytes');
      },
    },
    {
      name: 'takes the same blob pushed twice at once',
      async run(t) {
        const { desc, bytes } = blob('pushed twice at once');
        await Promise.all([t.push(desc, bytes), t.push(desc, streamOf('pushed twice', ' at once'))]);
        assert.equal(Buffer.from(await fetchAll(t, desc)).toString(), 'pushed twice at once');
      },
    },
    {
      name: 'rejects bytes that do not match the digest, and keeps nothing',
      async run(t) {
        const { desc } = blob('the right bytes');
        assertDataLoss(await failure(t.push(desc, enc.encode('the wrong bytes'))), desc.digest);
        assert.equal(await t.exists(desc), false);
      },
    },
    {
      name: 'rejects a stream that does not match the digest, and keeps nothing',
      async run(t) {
        const { desc } = blob('the right stream');
        assertDataLoss(await failure(t.push(desc, streamOf('the wrong', ' stream'))), desc.digest);
        assert.equal(await t.exists(desc), false);
      },
    },
    {
      name: 'rejects too many and too few bytes',
      async run(t) {
        const { desc } = blob('abc');
        assertDataLoss(await failure(t.push(desc, enc.encode('abcd'))), desc.digest);
        assertDataLoss(await failure(t.push(desc, enc.encode('ab'))), desc.digest);
        assert.equal(await t.exists(desc), false);
      },
    },
    {
      name: 'rejects a stream of too many and too few bytes',
      async run(t) {
        const { desc } = blob('abcdef');
        assertDataLoss(await failure(t.push(desc, streamOf('abc', 'defg'))), desc.digest);
        assertDataLoss(await failure(t.push(desc, streamOf('abc', 'de'))), desc.digest);
        assert.equal(await t.exists(desc), false);
      },
    },
    {
      name: 'says NotFound for a missing blob and a missing tag',
      async run(t) {
        assertNotFound(await failure(t.fetch(blob('nope').desc)));
        assertNotFound(await failure(t.resolve('missing')));
      },
    },
    {
      name: 'stores a manifest and serves its exact bytes, by digest',
      async run(t) {
        const { manifest } = await buildImage(t, 'exact');
        assert.equal(await t.exists(manifest), true);
        const resolved = await t.resolve(manifest.digest);
        assert.deepEqual(
          { mediaType: resolved.mediaType, digest: resolved.digest, size: resolved.size },
          { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
        );
        const bytes = await fetchAll(t, manifest);
        assert.equal(digestOfSync(bytes), manifest.digest);
      },
    },
    {
      name: 'tags, resolves by tag and by digest, and retags',
      async run(t) {
        const a = await buildImage(t, 'a');
        const b = await buildImage(t, 'b');
        await t.tag(a.manifest, 'v1');
        assert.equal((await t.resolve('v1')).digest, a.manifest.digest);
        assert.equal((await t.resolve('v1')).size, a.manifest.size);
        assert.equal((await t.resolve(a.manifest.digest)).mediaType, MediaType.ImageManifest);
        await t.tag(b.manifest, 'v1');
        assert.equal((await t.resolve('v1')).digest, b.manifest.digest);
      },
    },
    {
      name: 'tags an index and resolves it with its media type',
      async run(t) {
        const { index: desc } = await buildIndex(t);
        await t.tag(desc, 'multi');
        const resolved = await t.resolve('multi');
        assert.deepEqual(
          { mediaType: resolved.mediaType, digest: resolved.digest, size: resolved.size },
          { mediaType: MediaType.ImageIndex, digest: desc.digest, size: desc.size },
        );
      },
    },
    {
      name: 'refuses to tag a manifest it does not hold',
      async run(t) {
        assertNotFound(await failure(t.tag(blob('absent', MediaType.ImageManifest).desc, 'x')));
      },
    },
    {
      name: 'stops a push when its signal is aborted',
      async run(t) {
        const { desc, bytes } = blob('never stored');
        const controller = new AbortController();
        controller.abort();
        const err = await failure(t.push(desc, bytes, { signal: controller.signal }));
        assert.ok(isAborted(err), `expected an AbortedError, got ${describeError(err)}`);
        assert.equal(await t.exists(desc), false);
      },
    },
  ];
}

/**
 * Declares the conformance cases for targets made by `make` (a fresh, empty target per case).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeTargetConformance } from '@ocikit/content/testsuite';
 * describeTargetConformance('my store', async () => new MyStore(), { describe, it });
 * ```
 */
export function describeTargetConformance(
  name: string,
  make: () => Promise<Target>,
  framework: TestFramework,
  options: TargetConformanceOptions = {},
): void {
  framework.describe(`${name}: Target conformance`, () => {
    for (const c of targetConformanceCases()) {
      framework.it(c.name, async () => {
        const target = await make();
        try {
          await c.run(target);
        } finally {
          await options.release?.(target);
        }
      });
    }
  });
}
