// Test helper: writes an OCI image made of hand-built layers into a layout, and reads trees back.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openLayout, pushBytes } from '@ocikit/content';
import { digestOfSync } from '@ocikit/digest';
import { type Descriptor, MediaType } from '@ocikit/image-spec';
import { type FixtureEntry, tarOf } from './test-tar.ts';

/** Writes an image of `layers` (gzip) into the layout at `dir`, tagged `ref`. */
export async function writeImage(dir: string, ref: string, layers: FixtureEntry[][]): Promise<Descriptor> {
  const layout = await openLayout(dir, { create: true });
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const entries of layers) {
    const tar = await tarOf(entries);
    diffIds.push(digestOfSync(tar));
    descs.push(await pushBytes(layout, MediaType.ImageLayerGzip, gzipSync(tar)));
  }
  const config = await pushBytes(
    layout,
    MediaType.ImageConfig,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    ),
  );
  const manifest = await pushBytes(
    layout,
    MediaType.ImageManifest,
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config, layers: descs }),
    ),
  );
  await layout.tag(manifest, ref);
  return manifest;
}

/** One line per entry below `root`: path, type, mode, owner, size, content hash or link target, link group. */
export function describeTree(root: string): string[] {
  const inodes = new Map<number, string>();
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const r = `${rel}/${name}`;
      const st = lstatSync(path);
      const type = st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFile()
            ? 'file'
            : st.isFIFO()
              ? 'fifo'
              : 'other';
      let what = '';
      if (st.isFile()) {
        what = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
        if (st.nlink > 1) {
          const first = inodes.get(st.ino);
          if (first) what += ` link=${first}`;
          else inodes.set(st.ino, r);
        }
      } else if (st.isSymbolicLink()) what = `-> ${readlinkSync(path)}`;
      const size = st.isFile() ? st.size : 0;
      out.push(
        `${r} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${size} ${what}`.trimEnd(),
      );
      if (st.isDirectory()) walk(path, r);
    }
  };
  walk(root, '');
  return out;
}
