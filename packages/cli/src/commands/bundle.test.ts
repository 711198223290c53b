import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-bundle-'));

// A busybox image written by umoci, whose entrypoint echoes.
function busyboxImage(): string {
  const layout = join(tmp(), 'layout');
  execFileSync('umoci', ['init', '--layout', layout]);
  execFileSync('umoci', ['new', '--image', `${layout}:bb`]);
  const b = join(tmp(), 'b');
  execFileSync('umoci', ['unpack', '--image', `${layout}:bb`, b]);
  execFileSync('install', ['-D', '-m', '0755', '/bin/busybox', join(b, 'rootfs/bin/busybox')]);
  execFileSync('ln', ['-s', 'busybox', join(b, 'rootfs/bin/sh')]);
  execFileSync('umoci', ['repack', '--image', `${layout}:bb`, b]);
  execFileSync('umoci', [
    'config',
    '--image',
    `${layout}:bb`,
    '--config.entrypoint',
    '/bin/sh',
    '--config.cmd',
    '-c',
    '--config.cmd',
    'echo hello from $(id -u) in $(pwd)',
    '--config.workingdir',
    '/tmp',
  ]);
  return layout;
}

describe('ocikit bundle', () => {
  it('writes a bundle that the real runc runs as it is', async () => {
    const layout = busyboxImage();
    const bundle = join(tmp(), 'bundle');
    const r = await runCli(['bundle', `oci:${layout}:bb`, bundle]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(bundle).mode & 0o777).toBe(0o755);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
      process: { args: string[]; cwd: string };
    };
    expect(spec.process.args).toEqual(['/bin/sh', '-c', 'echo hello from $(id -u) in $(pwd)']);
    expect(spec.process.cwd).toBe('/tmp');
    const id = `ocikit-test-${process.pid}`;
    const run = spawnSync('runc', ['run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
    spawnSync('runc', ['delete', '--force', id]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('hello from 0 in /tmp\n');
    expect(run.status).toBe(0);
  });

  it('names the file in the way when the target directory is a file (bundle and unpack)', async () => {
    const layout = busyboxImage();
    const file = join(tmp(), 'a-file');
    writeFileSync(file, 'not a directory');
    for (const args of [
      ['bundle', `oci:${layout}:bb`, file],
      ['unpack', `oci:${layout}:bb`, file],
    ]) {
      const r = await runCli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file} is a file, not a directory`);
      expect(r.stderr).not.toMatch(/EEXIST|ENOTDIR/);
    }
  });
});
