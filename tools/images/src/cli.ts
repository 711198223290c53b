#!/usr/bin/env node
// ocikit-test-images busybox|layers|debian [LAYOUT] — builds a test image and prints what was built.
import { buildBusyboxImage, buildDebianImage, buildWhiteoutImage } from './index.ts';

const [kind, layout] = process.argv.slice(2);
const need = (): string => {
  if (!layout) throw new Error(`usage: ocikit-test-images ${kind} LAYOUT`);
  return layout;
};
const built =
  kind === 'busybox'
    ? buildBusyboxImage(need())
    : kind === 'layers'
      ? buildWhiteoutImage(need())
      : kind === 'debian'
        ? buildDebianImage()
        : undefined;
if (!built) {
  process.stderr.write('usage: ocikit-test-images busybox|layers LAYOUT | debian\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(built, null, 2)}\n`);
