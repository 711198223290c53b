import { digestOfSync, parseDigest } from '@ocikit/digest';
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { chainId } from './chain.ts';
import {
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  layerCompression,
  layerMediaTypeFor,
  MediaType,
} from './media-types.ts';
import { MAX_DOCUMENT_SIZE, parseIndex, parseManifest } from './parse.ts';
import { formatPlatform, hostPlatform, matchPlatform, normalizePlatform, parsePlatform } from './platform.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.ImageManifest,
  config: { mediaType: MediaType.ImageConfig, digest: d('a'), size: 2 },
  layers: [{ mediaType: MediaType.ImageLayerGzip, digest: d('b'), size: 3 }],
  extraField: { kept: true },
};

function errorOf(fn: () => unknown): { message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    expect(isInvalidArgument(e)).toBe(true);
    return e as { message: string; details: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

describe('parse functions', () => {
  it('keeps unknown fields and accepts bytes, strings and values', () => {
    const text = JSON.stringify(manifest);
    expect(parseManifest(text)).toEqual(manifest);
    expect(parseManifest(new TextEncoder().encode(text))).toEqual(manifest);
    expect(parseManifest(manifest)).toEqual(manifest);
  });

  it('names the position of malformed JSON', () => {
    expect(errorOf(() => parseManifest('{"schemaVersion": 2,')).message).toMatch(
      /manifest: malformed JSON .*position 20/,
    );
  });

  it('names the field of a bad digest and lists every problem', () => {
    const bad = { ...manifest, layers: [{ ...manifest.layers[0], digest: 'sha256:XYZ' }], config: {} };
    const e = errorOf(() => parseManifest(bad));
    expect(e.message).toContain('config.mediaType: is required');
    expect(e.details['issues']).toEqual(
      expect.arrayContaining([expect.stringMatching(/^layers\[0\]\.digest: invalid digest "sha256:XYZ"/)]),
    );
  });

  it('rejects an index given to parseManifest and the other way round', () => {
    const index = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
    expect(errorOf(() => parseManifest(index)).message).toContain('mediaType: not a manifest media type');
    expect(errorOf(() => parseIndex(manifest)).message).toContain('not an index media type');
    expect(parseIndex({ ...index, mediaType: MediaType.DockerManifestList })).toBeTruthy();
  });

  it('rejects negative sizes, wrong schema versions and oversized documents', () => {
    const neg = { ...manifest, config: { ...manifest.config, size: -1 } };
    expect(errorOf(() => parseManifest(neg)).message).toContain('config.size: must not be negative');
    expect(errorOf(() => parseManifest({ ...manifest, schemaVersion: 1 })).message).toContain(
      'schemaVersion',
    );
    const huge = JSON.stringify({ ...manifest, annotations: { x: 'y'.repeat(MAX_DOCUMENT_SIZE) } });
    expect(errorOf(() => parseManifest(huge)).details['reason']).toBe('too-large');
  });
});

describe('media types', () => {
  it('classifies OCI and Docker types', () => {
    expect(isManifestMediaType(MediaType.DockerManifest)).toBe(true);
    expect(isIndexMediaType(MediaType.ImageIndex)).toBe(true);
    expect(isIndexMediaType(MediaType.ImageManifest)).toBe(false);
    expect(isLayerMediaType(MediaType.DockerLayerGzip)).toBe(true);
    expect(layerCompression(MediaType.ImageLayerZstd)).toBe('zstd');
    expect(layerCompression(MediaType.ImageConfig)).toBeUndefined();
  });

  it('converts layer media types between the OCI and Docker families, keeping compression', () => {
    for (const [oci, docker] of [
      [MediaType.ImageLayerGzip, MediaType.DockerLayerGzip],
      [MediaType.ImageLayer, MediaType.DockerLayer],
    ] as const) {
      expect(layerMediaTypeFor(oci, 'docker')).toBe(docker);
      expect(layerMediaTypeFor(docker, 'oci')).toBe(oci);
      expect(layerMediaTypeFor(oci, 'oci')).toBe(oci);
      expect(layerMediaTypeFor(docker, 'docker')).toBe(docker);
    }
    // no Docker counterpart: unchanged
    expect(layerMediaTypeFor(MediaType.ImageLayerZstd, 'docker')).toBe(MediaType.ImageLayerZstd);
    expect(layerMediaTypeFor(MediaType.ImageConfig, 'docker')).toBe(MediaType.ImageConfig);
  });
});

describe('platforms', () => {
  it('parses and formats', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('windows:10.0.17763/amd64')).toEqual({
      os: 'windows',
      architecture: 'amd64',
      'os.version': '10.0.17763',
    });
    expect(parsePlatform('windows/amd64:10.0.17763')).toEqual({
      os: 'windows',
      architecture: 'amd64',
      'os.version': '10.0.17763',
    });
    expect(parsePlatform('linux/arm/v7:5.10')).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
      'os.version': '5.10',
    });
    expect(() => parsePlatform('windows:1/amd64:2')).toThrow(/misplaced os\.version/);
    expect(() => parsePlatform('windows/amd64:1:2')).toThrow(/misplaced os\.version/);
    expect(() => parsePlatform('windows/amd64:')).toThrow(/misplaced os\.version/);
    expect(() => parsePlatform('linux/arm:1/v7')).toThrow(/misplaced os\.version/);
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
    expect(formatPlatform(parsePlatform('windows:10.0.17763/amd64'))).toBe('windows/amd64:10.0.17763');
    expect(parsePlatform(formatPlatform(parsePlatform('linux/arm/v7:5.10')))).toEqual(
      parsePlatform('linux/arm/v7:5.10'),
    );
    expect(() => parsePlatform('linux')).toThrow(/expected os\/arch/);
    expect(() => parsePlatform('linux/amd64/v1/x')).toThrow(/invalid platform/);
  });

  it('normalizes aliases and default variants', () => {
    expect(normalizePlatform({ os: 'Linux', architecture: 'aarch64' })).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
    expect(normalizePlatform({ os: 'linux', architecture: 'x86_64' })).toEqual({
      os: 'linux',
      architecture: 'amd64',
    });
    expect(normalizePlatform({ os: 'linux', architecture: 'armhf' })).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
    });
  });

  it('matches with variant normalization', () => {
    expect(matchPlatform(parsePlatform('linux/arm64'), parsePlatform('linux/arm64/v8'))).toBe(true);
    expect(matchPlatform(parsePlatform('linux/arm64/v8'), parsePlatform('linux/arm64'))).toBe(true);
    expect(matchPlatform(parsePlatform('linux/arm/v7'), parsePlatform('linux/arm/v6'))).toBe(false);
    expect(matchPlatform(parsePlatform('linux/amd64'), parsePlatform('linux/arm64'))).toBe(false);
    expect(matchPlatform(parsePlatform('linux/arm'), parsePlatform('linux/arm/v6'))).toBe(true);
  });

  it('knows the host', () => {
    expect(hostPlatform()).toMatchObject({
      os: 'linux',
      architecture: process.arch === 'x64' ? 'amd64' : 'arm64',
    });
  });
});

describe('chainId', () => {
  it('follows config.md', () => {
    const a = parseDigest(d('1'));
    const b = parseDigest(d('2'));
    const c = parseDigest(d('3'));
    expect(chainId([a])).toBe(a);
    const ab = digestOfSync(`${a} ${b}`);
    expect(chainId([a, b])).toBe(ab);
    expect(chainId([a, b, c])).toBe(digestOfSync(`${ab} ${c}`));
    expect(() => chainId([])).toThrow(/at least one/);
  });
});
