// @ocikit/test-images: builds OCI image layouts for tests without Docker or a registry — a busybox
// image from busybox-static, a Debian minbase image from debootstrap (cached per machine), and a
// hand-written three-layer image with whiteouts, an opaque directory, hardlinks and a chmod-only
// change. Layers are written with GNU tar (sorted, numeric owners, fixed mtimes) so builds are
// reproducible; blobs, manifest, config and index.json are written directly. Also a driver that
// runs a program on a real pseudo-terminal, for tests of TTY containers.

export {
  buildBusyboxImage,
  buildDebianImage,
  buildVolumeImage,
  buildWhiteoutImage,
  debianCacheDir,
} from './lib/images.ts';
export type { BuiltImage, LayerFiles } from './lib/layout.ts';
export { writeImageLayout } from './lib/layout.ts';
export { podmanGlobalFlags, podmanRunFlags } from './lib/podman.ts';
export type { PtyResult, PtyStep } from './lib/pty.ts';
export { runInPty } from './lib/pty.ts';
