import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { digestOfSync } from '@ocikit/digest';
import { isDataLoss, isInvalidArgument, isNotFound } from '@ocikit/errors';
import { type Descriptor, MediaType } from '@ocikit/image-spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from './archive-read.ts';
import { createArchiveWriter } from './archive-write.ts';
import { copy } from './copy.ts';
import { fetchAll, pushBytes } from './helpers.ts';
import { type OciLayout, openLayout } from './layout.ts';
import { buildIndex } from './test-suite.ts';

const made: string[] = [];
/** A fresh temp dir, removed after the file's tests (66 were left in /tmp per run before). */
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-archive-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A layer tar made by GNU tar from a directory holding `files`. */
function layerTar(files: Record<string, string>): Buffer {
  const dir = tmp();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return execFileSync('tar', [
    '-C',
    dir,
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '-cf',
    '-',
    '.',
  ]);
}

/** An image of gzip layers (or plain ones) in `layout`, tagged `ref`; `diffIds` overrides the config's. */
async function buildImage(
  layout: OciLayout,
  ref: string,
  opts: { gzip?: boolean; diffIds?: string[]; files?: Record<string, string>[] } = {},
) {
  const tars = (opts.files ?? [{ hello: 'hello\n' }, { world: 'world\n' }]).map(layerTar);
  const diffIds = opts.diffIds ?? tars.map((t) => digestOfSync(t));
  const layers: Descriptor[] = [];
  for (const t of tars) {
    layers.push(
      opts.gzip === false
        ? await pushBytes(layout, MediaType.ImageLayer, t)
        : await pushBytes(layout, MediaType.ImageLayerGzip, gzipSync(t)),
    );
  }
  const configJson = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  const config = await pushBytes(layout, MediaType.ImageConfig, Buffer.from(JSON.stringify(configJson)));
  const manifest = await pushBytes(
    layout,
    MediaType.ImageManifest,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config, layers })),
  );
  await layout.tag(manifest, ref);
  return { manifest, config, layers, tars, diffIds };
}

type RawEntry = { name: string; data?: string | Buffer; type?: '0' | '2' | '5'; linkname?: string };

/** A tar file with exactly the entries given, names and link targets as written (hostile ones too). */
function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    h.write(e.linkname ?? '', 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A one-image docker-archive, built by hand, with `tweak` applied to its entries. */
function handmadeDockerArchive(tweak: (entries: RawEntry[]) => RawEntry[] = (e) => e): string {
  const layer = layerTar({ a: 'a\n' });
  const diffId = digestOfSync(layer);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }),
  );
  const configHex = digestOfSync(config).slice(7);
  const manifest = [
    { Config: `${configHex}.json`, RepoTags: ['example.com/app:v1'], Layers: ['aaaa/layer.tar'] },
  ];
  const entries = tweak([
    { name: `${configHex}.json`, data: config },
    { name: 'aaaa/', type: '5' },
    { name: 'aaaa/layer.tar', data: layer },
    { name: 'manifest.json', data: JSON.stringify(manifest) },
  ]);
  const file = join(tmp(), 'handmade.tar');
  writeFileSync(file, rawTar(entries));
  return file;
}

let src: OciLayout;
let image: Awaited<ReturnType<typeof buildImage>>;

/** `src`'s image `ref` written to a new archive file of `format` under `name`; the file and its directory. */
async function writeArchive(format: 'docker-archive' | 'oci-archive', name: string, ref = 'v1') {
  const dir = tmp();
  const file = join(dir, 'image.tar');
  const writer = await createArchiveWriter(file, format);
  await copy(src, ref, writer, name);
  await writer.commit();
  return { dir, file };
}

beforeAll(async () => {
  src = await openLayout(join(tmp(), 'src'), { create: true });
  image = await buildImage(src, 'v1');
});

describe('docker-archive', () => {
  it('writes an uncompressed docker save archive that skopeo reads, and reads it back with the same config', async () => {
    const { dir, file } = await writeArchive('docker-archive', 'example.com/app:v1');
    expect(readdirSync(dir)).toEqual(['image.tar']);
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listed).toEqual(
      [
        `${image.config.digest.slice(7)}.json`,
        ...image.diffIds.map((d) => `${d.slice(7)}.tar`),
        'manifest.json',
      ].sort(),
    );
    const manifestJson = JSON.parse(
      execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' }),
    );
    expect(manifestJson[0].RepoTags).toEqual(['example.com/app:v1']);

    const viaSkopeo = join(tmp(), 'skopeo');
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      `docker-archive:${file}:example.com/app:v1`,
      `oci:${viaSkopeo}:v1`,
    ]);
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', '--config', `oci:${viaSkopeo}:v1`], { encoding: 'utf8' }),
    );
    expect(inspected.rootfs.diff_ids).toEqual(image.diffIds);

    const archive = await openArchive(file, 'docker-archive');
    expect(await archive.tags()).toEqual(['example.com/app:v1']);
    const desc = await archive.resolveImage();
    expect((await archive.resolve('example.com/app:v1')).digest).toBe(desc.digest);
    expect((await archive.resolve('@0')).digest).toBe(desc.digest);
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    await copy(archive, desc.digest, dst, 'back');
    const manifest = JSON.parse(Buffer.from(await fetchAll(dst, await dst.resolve('back'))).toString());
    expect(manifest.mediaType).toBe(MediaType.ImageManifest);
    expect(manifest.config.digest).toBe(image.config.digest);
    expect(manifest.layers.map((l: Descriptor) => l.digest)).toEqual(image.diffIds);
    expect(manifest.layers.map((l: Descriptor) => l.mediaType)).toEqual([
      MediaType.ImageLayer,
      MediaType.ImageLayer,
    ]);
    expect((await dst.fsck()).problems).toEqual([]);
    await archive.close();
  });

  it('reads what skopeo writes (gzip layers decompressed by skopeo, the image named by REF)', async () => {
    const file = join(tmp(), 'skopeo.tar');
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      `oci:${src.path}:v1`,
      `docker-archive:${file}:localhost:5000/x/y:2`,
    ]);
    const archive = await openArchive(file, 'docker-archive');
    const desc = await archive.resolve('localhost:5000/x/y:2');
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    await copy(archive, 'localhost:5000/x/y:2', dst, 'x');
    const manifest = JSON.parse(Buffer.from(await fetchAll(dst, desc)).toString());
    expect(manifest.config.digest).toBe(image.config.digest);
    expect(manifest.layers.map((l: Descriptor) => l.digest)).toEqual(image.diffIds);
    await archive.close();
  });

  it('reads gzip-compressed layer files and a gzip-compressed archive, checking them against the diffIDs', async () => {
    const file = handmadeDockerArchive((entries) =>
      entries.map((e) => (e.name === 'aaaa/layer.tar' ? { ...e, data: gzipSync(e.data as Buffer) } : e)),
    );
    writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
    const archive = await openArchive(`${file}.gz`, 'docker-archive');
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    await copy(archive, 'example.com/app:v1', dst, 'x');
    expect((await dst.fsck()).problems).toEqual([]);
    await archive.close();
  });

  it("follows docker save's symlink from one layer path to another inside the archive", async () => {
    const file = handmadeDockerArchive((entries) => [
      ...entries.map((e) => (e.name === 'aaaa/layer.tar' ? { ...e, name: 'bbbb/layer.tar' } : e)),
      { name: 'aaaa/layer.tar', type: '2', linkname: '../bbbb/layer.tar' },
    ]);
    const archive = await openArchive(file, 'docker-archive');
    await copy(archive, 'example.com/app:v1', await openLayout(join(tmp(), 'dst'), { create: true }), 'x');
  });

  it('reads the archives docker 25 and later save: an OCI layout with a manifest.json beside it', async () => {
    const plain = await openLayout(join(tmp(), 'plain'), { create: true });
    const built = await buildImage(plain, 'v1', { gzip: false });
    const work = tmp();
    execFileSync('cp', [
      '-r',
      join(plain.path, 'blobs'),
      join(plain.path, 'index.json'),
      join(plain.path, 'oci-layout'),
      work,
    ]);
    const manifestJson = [
      {
        Config: `blobs/sha256/${built.config.digest.slice(7)}`,
        RepoTags: ['new:1'],
        Layers: built.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      },
    ];
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifestJson));
    const file = join(tmp(), 'docker25.tar');
    execFileSync('tar', ['-C', work, '-cf', file, 'blobs', 'index.json', 'oci-layout', 'manifest.json']);
    const archive = await openArchive(file, 'docker-archive');
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    await copy(archive, 'new:1', dst, 'x');
    const manifest = JSON.parse(Buffer.from(await fetchAll(dst, await dst.resolve('x'))).toString());
    expect(manifest.layers.map((l: Descriptor) => l.digest)).toEqual(built.diffIds);
    await archive.close();
    // the same file as an oci-archive: the layout's own manifest
    const asOci = await openArchive(file, 'oci-archive');
    expect((await asOci.resolveImage()).digest).toBe(built.manifest.digest);
    await asOci.close();
  });

  it('refuses a missing REF, an index out of range, and no REF when there are several images', async () => {
    const archive = await openArchive(handmadeDockerArchive(), 'docker-archive');
    await expect(archive.resolve('example.com/app:v2')).rejects.toSatisfy(isNotFound);
    await expect(archive.resolve('@1')).rejects.toSatisfy(isNotFound);
    await expect(archive.resolve('example.com/app@sha256:' + 'a'.repeat(64))).rejects.toSatisfy(
      isInvalidArgument,
    );

    const file = join(tmp(), 'two.tar');
    const writer = await createArchiveWriter(file, 'docker-archive');
    await copy(src, 'v1', writer, 'a:1');
    const other = await buildImage(src, 'v2', { files: [{ other: 'x' }] });
    await copy(src, 'v2', writer, 'b:1');
    await writer.commit();
    const two = await openArchive(file, 'docker-archive');
    expect((await two.images()).map((i) => i.names)).toEqual([
      ['docker.io/library/a:1'],
      ['docker.io/library/b:1'],
    ]);
    await expect(two.resolveImage()).rejects.toSatisfy(isInvalidArgument);
    expect((await two.resolve('@1')).digest).not.toBe((await two.resolve('@0')).digest);
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    await copy(two, 'b:1', dst, 'b');
    const manifest = JSON.parse(Buffer.from(await fetchAll(dst, await dst.resolve('b'))).toString());
    expect(manifest.config.digest).toBe(other.config.digest);
  });

  it('refuses a truncated archive with DataLossError', async () => {
    const { file } = await writeArchive('docker-archive', 'a:1');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    await expect(openArchive(file, 'docker-archive')).rejects.toSatisfy(isDataLoss);
    truncateSync(file, 0);
    await expect(openArchive(file, 'docker-archive')).rejects.toSatisfy(isDataLoss);
  });

  it('refuses a config whose content is not the digest manifest.json names it by', async () => {
    const file = handmadeDockerArchive((entries) =>
      entries.map((e) =>
        e.name.endsWith('.json') && e.name !== 'manifest.json'
          ? { ...e, data: Buffer.from(String(e.data).replace('amd64', 'arm64')) }
          : e,
      ),
    );
    const err = await openArchive(file, 'docker-archive').catch((e: unknown) => e);
    expect(isDataLoss(err)).toBe(true);
    expect((err as Error).message).toMatch(/manifest\.json names the config/);
  });

  it('refuses a layer that is not what its diffID says, as it is read, and the copy tags nothing', async () => {
    const file = handmadeDockerArchive((entries) =>
      entries.map((e) => (e.name === 'aaaa/layer.tar' ? { ...e, data: layerTar({ a: 'b\n' }) } : e)),
    );
    const archive = await openArchive(file, 'docker-archive');
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    await expect(copy(archive, 'example.com/app:v1', dst, 'x')).rejects.toSatisfy(isDataLoss);
    await expect(dst.resolve('x')).rejects.toSatisfy(isNotFound);
  });

  it.each([
    ['a path climbing out with ..', { name: '../evil', data: 'x' }],
    ['an absolute path', { name: '/etc/evil', data: 'x' }],
    ['a symlink out of the archive', { name: 'link', type: '2', linkname: '../../etc/passwd' }],
    ['an absolute symlink', { name: 'link', type: '2', linkname: '/etc/passwd' }],
  ] as const)('refuses %s with InvalidArgumentError', async (_, hostile) => {
    const file = handmadeDockerArchive((entries) => [hostile as RawEntry, ...entries]);
    const err = await openArchive(file, 'docker-archive').catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as { details: Record<string, unknown> }).details['reason']).toBe('unsafe-entry');
  });

  it('refuses the same name twice, and a layer path that is a symlink to a symlink', async () => {
    const twice = handmadeDockerArchive((entries) => [...entries, { name: 'manifest.json', data: '[]' }]);
    await expect(openArchive(twice, 'docker-archive')).rejects.toSatisfy(isInvalidArgument);
    const chain = handmadeDockerArchive((entries) => [
      ...entries.map((e) => (e.name === 'aaaa/layer.tar' ? { ...e, name: 'cccc/layer.tar' } : e)),
      { name: 'bbbb/layer.tar', type: '2', linkname: '../cccc/layer.tar' },
      { name: 'aaaa/layer.tar', type: '2', linkname: '../bbbb/layer.tar' },
    ]);
    await expect(openArchive(chain, 'docker-archive')).rejects.toSatisfy(isInvalidArgument);
  });

  it('refuses layers that do not decompress, reading and writing, with DataLossError', async () => {
    const file = handmadeDockerArchive((entries) =>
      entries.map((e) =>
        e.name === 'aaaa/layer.tar' ? { ...e, data: gzipSync(e.data as Buffer).subarray(0, 40) } : e,
      ),
    );
    const read = await openArchive(file, 'docker-archive').catch((e: unknown) => e);
    expect(isDataLoss(read)).toBe(true);
    expect((read as Error).message).toMatch(/aaaa\/layer\.tar is not valid gzip data/);

    // buildIndex's layers are labelled gzip but are plain text
    const multi = await openLayout(join(tmp(), 'multi'), { create: true });
    const { amd } = await buildIndex(multi);
    await multi.tag(amd.manifest, 'amd');
    const dir = tmp();
    const writer = await createArchiveWriter(join(dir, 'x.tar'), 'docker-archive');
    await copy(multi, 'amd', writer, 'amd:1');
    const written = await writer.commit().catch((e: unknown) => e);
    expect(isDataLoss(written)).toBe(true);
    expect((written as Error).message).toMatch(/is not valid gzip data/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a multi-platform index (InvalidArgumentError), writing nothing', async () => {
    const multi = await openLayout(join(tmp(), 'multi'), { create: true });
    const { index } = await buildIndex(multi);
    await multi.tag(index, 'multi');
    const dir = tmp();
    const writer = await createArchiveWriter(join(dir, 'x.tar'), 'docker-archive');
    await copy(multi, 'multi', writer, 'multi:1', { allPlatforms: true });
    const err = await writer.commit().catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(/not an image index/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a destination in a directory that does not exist with NotFoundError', async () => {
    await expect(createArchiveWriter(join(tmp(), 'no', 'such.tar'), 'docker-archive')).rejects.toSatisfy(
      isNotFound,
    );
  });

  it('leaves the destination as it was when writing fails (a layer that does not match its diffID)', async () => {
    const bad = await openLayout(join(tmp(), 'bad'), { create: true });
    await buildImage(bad, 'bad', { diffIds: [`sha256:${'0'.repeat(64)}`, `sha256:${'1'.repeat(64)}`] });
    const dir = tmp();
    const file = join(dir, 'out.tar');
    writeFileSync(file, 'before');
    const writer = await createArchiveWriter(file, 'docker-archive');
    await copy(bad, 'bad', writer, 'bad:1');
    await expect(writer.commit()).rejects.toSatisfy(isDataLoss);
    expect(readFileSync(file, 'utf8')).toBe('before');
    expect(readdirSync(dir)).toEqual(['out.tar']);
  });
});

describe('oci-archive', () => {
  it('writes an archive skopeo reads with the same manifest digest, and reads it back', async () => {
    const { dir, file } = await writeArchive('oci-archive', 'v1');
    expect(readdirSync(dir)).toEqual(['image.tar']);
    const viaSkopeo = join(tmp(), 'skopeo');
    execFileSync('skopeo', ['copy', '--quiet', `oci-archive:${file}:v1`, `oci:${viaSkopeo}:v1`]);
    const index = JSON.parse(readFileSync(join(viaSkopeo, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(image.manifest.digest);

    const archive = await openArchive(file, 'oci-archive');
    expect((await archive.resolveImage()).digest).toBe(image.manifest.digest);
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    expect((await copy(archive, 'v1', dst, 'v1')).digest).toBe(image.manifest.digest);
    expect((await dst.fsck()).problems).toEqual([]);
    await expect(archive.resolve('v2')).rejects.toSatisfy(isNotFound);
    await archive.close();
  });

  it('keeps a multi-platform index whole, every manifest and blob', async () => {
    const multi = await openLayout(join(tmp(), 'multi'), { create: true });
    const { index, amd, arm } = await buildIndex(multi);
    await multi.tag(index, 'multi');
    const file = join(tmp(), 'multi.tar');
    const writer = await createArchiveWriter(file, 'oci-archive');
    await copy(multi, 'multi', writer, 'multi');
    await writer.commit();
    const archive = await openArchive(file, 'oci-archive');
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    expect((await copy(archive, 'multi', dst, 'multi')).digest).toBe(index.digest);
    for (const d of [amd.manifest, amd.config, ...amd.layers, arm.manifest, arm.config, ...arm.layers])
      expect(await dst.exists(d)).toBe(true);
    await archive.close();
  });

  it('reads what skopeo writes', async () => {
    const file = join(tmp(), 'skopeo.tar');
    execFileSync('skopeo', ['copy', '--quiet', `oci:${src.path}:v1`, `oci-archive:${file}:mine`]);
    const archive = await openArchive(file, 'oci-archive');
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    expect((await copy(archive, 'mine', dst, 'v1')).digest).toBe(image.manifest.digest);
    await archive.close();
  });

  it('refuses a blob whose content is not its name as it is read', async () => {
    const { file } = await writeArchive('oci-archive', 'v1');
    const work = tmp();
    execFileSync('tar', ['-C', work, '-xf', file]);
    const layerHex = (image.layers[0] as Descriptor).digest.slice(7);
    const layerFile = join(work, 'blobs', 'sha256', layerHex);
    const bytes = readFileSync(layerFile);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(layerFile, bytes);
    execFileSync('tar', ['-C', work, '-cf', file, 'oci-layout', 'index.json', 'blobs']);
    const archive = await openArchive(file, 'oci-archive');
    const dst = await openLayout(join(tmp(), 'dst'), { create: true });
    await expect(copy(archive, 'v1', dst, 'v1')).rejects.toSatisfy(isDataLoss);
    await expect(dst.resolve('v1')).rejects.toSatisfy(isNotFound);
  });
});
