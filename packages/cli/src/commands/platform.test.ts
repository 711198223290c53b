// Platform selection in the CLI (inspect, manifest, config, run's unpack): one implementation,
// `selectManifest` of @ocikit/content, so nested indexes and entries without a platform work the
// same everywhere, and a platform that is not there is a NotFound naming what is.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OciLayout, openLayout, pushBytes } from '@ocikit/content';
import { type Descriptor, MediaType, type Platform } from '@ocikit/image-spec';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
let layout: string;
const digests: Record<string, string> = {};

async function image(store: OciLayout, platform: Platform, label: string): Promise<Descriptor> {
  const layer = await pushBytes(store, MediaType.ImageLayerGzip, Buffer.from(`layer ${label}`));
  const config = await pushBytes(
    store,
    MediaType.ImageConfig,
    json({ ...platform, config: { Cmd: [label] }, rootfs: { type: 'layers', diff_ids: [] } }),
  );
  return pushBytes(
    store,
    MediaType.ImageManifest,
    json({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config, layers: [layer] }),
  );
}

const index = (store: OciLayout, manifests: Descriptor[]) =>
  pushBytes(
    store,
    MediaType.ImageIndex,
    json({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests }),
  );

beforeAll(async () => {
  layout = join(mkdtempSync(join(tmpdir(), 'ocikit-cli-platform-')), 'layout');
  const store = await openLayout(layout, { create: true });
  const amd64 = { os: 'linux', architecture: 'amd64' };
  const s390x = { os: 'linux', architecture: 's390x' };
  const ppc = { os: 'linux', architecture: 'ppc64le' };
  const a = await image(store, amd64, 'amd64');
  const b = await image(store, s390x, 's390x');
  const c = await image(store, ppc, 'ppc64le');
  digests['amd64'] = a.digest;
  digests['s390x'] = b.digest;
  digests['ppc64le'] = c.digest;
  // an index holding a manifest, an index for s390x, and an index without a platform whose
  // manifest has none either (its config says ppc64le)
  const root = await index(store, [
    { ...a, platform: amd64 },
    { ...(await index(store, [{ ...b, platform: s390x }])), platform: s390x },
    await index(store, [c]),
  ]);
  await store.tag(root, 'nested');
});

describe('--platform through nested indexes', () => {
  it('inspect and config find the manifest in a nested index, with or without a platform on the way', async () => {
    const s390x = await runCli(['--json', 'inspect', '--platform', 'linux/s390x', `oci:${layout}:nested`]);
    expect(s390x.code, s390x.stderr).toBe(0);
    expect((JSON.parse(s390x.stdout) as { image: { digest: string } }).image.digest).toBe(digests['s390x']);
    const ppc = await runCli(['config', '--platform', 'linux/ppc64le', `oci:${layout}:nested`]);
    expect(ppc.code, ppc.stderr).toBe(0);
    expect((JSON.parse(ppc.stdout) as { config: { Cmd: string[] } }).config.Cmd).toEqual(['ppc64le']);
    const manifest = await runCli(['manifest', '--platform', 'linux/amd64', `oci:${layout}:nested`]);
    expect(manifest.code, manifest.stderr).toBe(0);
    expect(JSON.parse(manifest.stdout)).toMatchObject({ mediaType: MediaType.ImageManifest });
  });

  it('a platform that is not there: what is, and how to choose', async () => {
    const r = await runCli(['manifest', '--platform', 'linux/mips64le', `oci:${layout}:nested`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`no manifest for platform linux/mips64le in oci:${layout}:nested`);
    expect(r.stderr).toContain('available: linux/amd64, linux/s390x, linux/ppc64le');
    expect(r.stderr).toContain('choose one with --platform os/arch[/variant]');
  });
});
