import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a builder wrote: the layout directory, the tag, and the manifest and layer digests. */
export interface BuiltImage {
  /** The OCI image layout directory. */
  layout: string;
  /** The tag in index.json (`org.opencontainers.image.ref.name`). */
  ref: string;
  /** Digest of the image manifest, `sha256:…`. */
  manifest: string;
  /** Size of the image manifest in bytes. */
  manifestSize: number;
  /** Compressed layer digests, bottom first. */
  layers: string[];
  /** Uncompressed layer digests (diffIDs), bottom first. */
  diffIds: string[];
}

/** One layer: a staging directory whose contents become the layer (whiteouts as `.wh.` files). */
export interface LayerFiles {
  /** Directory to archive; its entries are stored relative to it (`./` stripped). */
  dir: string;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function putBlob(layout: string, bytes: Buffer): string {
  const digest = sha(bytes);
  const path = join(layout, 'blobs', 'sha256', digest.slice(7));
  if (!existsSync(path)) {
    writeFileSync(`${path}.tmp`, bytes);
    renameSync(`${path}.tmp`, path);
  }
  return digest;
}

/**
 * Writes an image whose layers are the given staging directories (bottom first) into `layout`
 * (created if needed), tagged `ref`, with gzip layers made by GNU tar: sorted names, numeric
 * owners and modes as on disk, xattrs kept, every mtime 0 (so builds are reproducible).
 * Whole layers are held in memory: meant for test images, not for large trees. `options.config`
 * adds fields to the image config's `config` (`Volumes`, `User`, `Cmd`, …).
 *
 * @example
 * const img = writeImageLayout('/tmp/l', 'mine', [{ dir: '/tmp/rootfs' }]);
 */
export function writeImageLayout(
  layout: string,
  ref: string,
  layers: readonly LayerFiles[],
  options: { config?: Record<string, unknown> } = {},
): BuiltImage {
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const descs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  for (const layer of layers) {
    const tar = execFileSync(
      'tar',
      [
        '--sort=name',
        '--numeric-owner',
        '--xattrs',
        '--xattrs-include=*',
        '--format=pax',
        '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
        '--mtime=@0',
        '-C',
        layer.dir,
        '-cf',
        '-',
        '.',
      ],
      { maxBuffer: 1 << 30 },
    );
    diffIds.push(sha(tar));
    const gz = execFileSync('gzip', ['-n', '-6'], { input: tar, maxBuffer: 1 << 30 });
    descs.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: putBlob(layout, gz),
      size: gz.length,
    });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        Cmd: ['/bin/sh'],
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...options.config,
      },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created: '1970-01-01T00:00:00Z', created_by: '@ocikit/test-images' })),
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: putBlob(layout, config),
        size: config.length,
      },
      layers: descs,
    }),
  );
  const digest = putBlob(layout, manifest);
  const indexPath = join(layout, 'index.json');
  const index = existsSync(indexPath)
    ? (JSON.parse(readFileSync(indexPath, 'utf8')) as {
        manifests: { annotations?: Record<string, string> }[];
      })
    : { manifests: [] };
  const manifests = index.manifests.filter(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] !== ref,
  );
  manifests.push({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest,
    size: manifest.length,
    platform: { architecture: 'amd64', os: 'linux' },
    annotations: { 'org.opencontainers.image.ref.name': ref },
  } as { annotations: Record<string, string> });
  writeFileSync(
    `${indexPath}.tmp`,
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
  );
  renameSync(`${indexPath}.tmp`, indexPath);
  return {
    layout,
    ref,
    manifest: digest,
    manifestSize: manifest.length,
    layers: descs.map((d) => d.digest),
    diffIds,
  };
}
