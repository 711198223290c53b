import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig } from '@ocikit/image-spec';
import { afterAll, describe, expect, it } from 'vitest';
import { specFromImageConfig } from './convert.ts';

// A busybox bundle whose image runs `id` as the named user "alice"; the runtime itself shows
// which uid, gid and supplementary groups our conversion produced.
const bundle = mkdtempSync(join(tmpdir(), 'ocikit-rs-run-'));
chmodSync(bundle, 0o755);
afterAll(() => rmSync(bundle, { recursive: true, force: true }));
const rootfs = join(bundle, 'rootfs');
mkdirSync(join(rootfs, 'bin'), { recursive: true });
mkdirSync(join(rootfs, 'etc'));
mkdirSync(join(rootfs, 'work'));
copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
symlinkSync('busybox', join(rootfs, 'bin', 'sh'));
writeFileSync(
  join(rootfs, 'etc', 'passwd'),
  'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/work:/bin/sh\n',
);
writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nalice:x:1000:\nwheel:x:10:alice\naudio:x:29:alice\n');

const image: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config: {
    User: 'alice',
    Env: ['GREETING=hi'],
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo "$GREETING $(/bin/busybox id -u):$(/bin/busybox id -g):$(/bin/busybox id -G) in $(pwd)"'],
    WorkingDir: '/work',
  },
};

async function writeBundle(): Promise<void> {
  const spec = await specFromImageConfig(image, { rootfs });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
}

const expected = 'hi 1000:1000:1000 10 29 in /work\n';

describe('a converted image config runs under real runtimes', () => {
  it('runc runs it as the resolved user with its groups', async () => {
    await writeBundle();
    const id = `ocikit-rs-runc-${process.pid}`;
    const run = spawnSync('runc', ['run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
    spawnSync('runc', ['delete', '--force', id]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(expected);
    expect(run.status).toBe(0);
  });

  it('crun runs it too (inside a mount namespace without the cgroup v2 hierarchy)', async () => {
    await writeBundle();
    const id = `ocikit-rs-crun-${process.pid}`;
    // This host's hybrid cgroup layout makes crun refuse to start (see shared peers notes);
    // unmounting the v2 hierarchy in a private mount namespace is the documented way around it.
    const run = spawnSync(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'umount /sys/fs/cgroup/unified 2>/dev/null; crun run --bundle "$1" "$2"; s=$?; crun delete --force "$2" 2>/dev/null; exit $s',
        'sh',
        bundle,
        id,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(expected);
    expect(run.status).toBe(0);
  });
});

describe('the root file system, as podman and Docker have it', () => {
  const writeAs = async (readOnly: boolean | undefined) => {
    const spec = await specFromImageConfig(
      { ...image, config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo x > /f && echo wrote'] } },
      { rootfs, ...(readOnly === undefined ? {} : { readOnly }) },
    );
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    const id = `ocikit-rs-rw-${process.pid}`;
    const run = spawnSync('runc', ['run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
    spawnSync('runc', ['delete', '--force', id]);
    rmSync(join(rootfs, 'f'), { force: true });
    return run;
  };

  it('is writable by default', async () => {
    const run = await writeAs(undefined);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('wrote\n');
    expect(run.status).toBe(0);
  });

  it('is read-only with readOnly: true', async () => {
    const run = await writeAs(true);
    expect(run.stderr).toMatch(/Read-only file system/);
    expect(run.status).not.toBe(0);
  });
});
