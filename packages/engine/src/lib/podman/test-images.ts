// Test images for the podman driver's tests: the busybox test image, and a two-platform index made
// from it by hand (linux/amd64 as built, plus a linux/arm64/v8 twin whose config says arm64; the
// layer is the same bytes), pushed to the project's test registry with skopeo.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildBusyboxImage } from '@ocikit/test-images';

/** What {@link pushTestImages} put in the registry. */
export interface PushedTestImages {
  /** `HOST/busybox:latest`, one platform (linux/amd64). */
  busybox: string;
  /** `HOST/multi:latest`, an OCI index of linux/amd64 and linux/arm64/v8. */
  multi: string;
  /** The index's digest. */
  multiIndex: string;
  /** Manifest digests in the index, by platform (`linux/amd64`, `linux/arm64/v8`). */
  multiManifests: Record<string, string>;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Builds the busybox image into `dir`, derives a two-platform index from it in the same layout,
 * and pushes both to `registryHost` (plain HTTP; with `credentials` when it wants some) with
 * `skopeo copy --all` — asynchronously: a
 * registry this process started must keep draining its log while skopeo talks to it.
 */
export async function pushTestImages(
  dir: string,
  registryHost: string,
  credentials?: { username: string; password: string },
): Promise<PushedTestImages> {
  const built = buildBusyboxImage(dir, 'busybox');
  const blob = (digest: string) => join(dir, 'blobs', 'sha256', digest.slice(7));
  const put = (bytes: Buffer) => {
    const digest = sha(bytes);
    writeFileSync(blob(digest), bytes);
    return digest;
  };
  const amd64Manifest = readFileSync(blob(built.manifest));
  const manifest = JSON.parse(amd64Manifest.toString('utf8')) as {
    config: { digest: string; size: number };
  };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as Record<string, unknown>;
  const armConfig = Buffer.from(JSON.stringify({ ...config, architecture: 'arm64', variant: 'v8' }));
  const armManifest = Buffer.from(
    JSON.stringify({
      ...manifest,
      config: { ...manifest.config, digest: put(armConfig), size: armConfig.length },
    }),
  );
  const armDigest = put(armManifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: built.manifest,
          size: amd64Manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: armDigest,
          size: armManifest.length,
          platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
        },
      ],
    }),
  );
  const indexDigest = put(index);
  const indexJson = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
  indexJson.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: indexDigest,
    size: index.length,
    annotations: { 'org.opencontainers.image.ref.name': 'multi' },
  });
  writeFileSync(join(dir, 'index.json'), JSON.stringify(indexJson));
  const busybox = `${registryHost}/busybox:latest`;
  const multi = `${registryHost}/multi:latest`;
  const copy = (args: string[]) =>
    promisify(execFile)(
      'skopeo',
      [
        'copy',
        '-q',
        '--dest-tls-verify=false',
        ...(credentials ? ['--dest-creds', `${credentials.username}:${credentials.password}`] : []),
        ...args,
      ],
      { timeout: 120_000 },
    );
  await copy([`oci:${dir}:busybox`, `docker://${busybox}`]);
  await copy(['--all', `oci:${dir}:multi`, `docker://${multi}`]);
  return {
    busybox,
    multi,
    multiIndex: indexDigest,
    multiManifests: { 'linux/amd64': built.manifest, 'linux/arm64/v8': armDigest },
  };
}
