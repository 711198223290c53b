// Test helper: a busybox bundle (static busybox and its applets, config.json from defaultSpec).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec, type Spec } from '@ocikit/runtime-spec';

/** Fills `dir/rootfs` with busybox and writes `dir/config.json` running `args`. */
export function writeBusyboxBundle(
  dir: string,
  args: string[],
  edit: (spec: Spec) => void = () => {},
): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(
    join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
  );
  chmodSync(dir, 0o755);
  const spec = defaultSpec();
  spec.root = { path: 'rootfs', readonly: true };
  if (spec.process) {
    spec.process.args = args;
    spec.process.terminal = false;
  }
  edit(spec);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

/** A fresh bundle in a temp directory. */
export function busyboxBundle(args: string[], edit?: (spec: Spec) => void): string {
  return writeBusyboxBundle(mkdtempSync(join(tmpdir(), 'ocikit-shim-bundle-')), args, edit);
}
