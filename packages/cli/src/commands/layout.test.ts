import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-layout-'));
let umociLayout: string;
let umociDigest: string;

// A real image written by umoci, with a real layer.
beforeAll(() => {
  umociLayout = join(tmp(), 'layout');
  execFileSync('umoci', ['init', '--layout', umociLayout]);
  execFileSync('umoci', ['new', '--image', `${umociLayout}:v1`]);
  const bundle = join(tmp(), 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${umociLayout}:v1`, bundle]);
  mkdirSync(join(bundle, 'rootfs', 'bin'), { recursive: true });
  writeFileSync(join(bundle, 'rootfs', 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
  execFileSync('umoci', ['repack', '--image', `${umociLayout}:v1`, bundle]);
  umociDigest = (
    JSON.parse(readFileSync(join(umociLayout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }
  ).manifests[0]!.digest;
});

describe('ocikit ls / copy / fsck / gc on real layouts', () => {
  it('lists a layout umoci wrote', async () => {
    const r = await runCli(['ls', `oci:${umociLayout}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^REF\s+DIGEST/);
    expect(r.stdout).toContain('v1');
    const j = await runCli(['--json', 'ls', `oci:${umociLayout}`]);
    expect((JSON.parse(j.stdout) as { digest: string }[])[0]?.digest).toBe(umociDigest);
  });

  it('copies umoci → ocikit → skopeo → ocikit with the digest unchanged, and umoci unpacks ours', async () => {
    const ours = join(tmp(), 'ours');
    const c = await runCli(['copy', `oci:${umociLayout}:v1`, `oci:${ours}:copied`]);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe(`${umociDigest}\n`);
    expect(c.stderr).toMatch(/^copied 3 blob\(s\)/);
    const inspect = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci:${ours}:copied`], { encoding: 'utf8' }),
    ) as {
      Digest: string;
    };
    expect(inspect.Digest).toBe(umociDigest);
    const viaSkopeo = join(tmp(), 'skopeo');
    execFileSync('skopeo', ['copy', '--quiet', `oci:${ours}:copied`, `oci:${viaSkopeo}:s`]);
    const back = join(tmp(), 'back');
    const again = await runCli(['copy', `oci:${viaSkopeo}`, `oci:${back}`]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${umociDigest}\n`);
    expect((await runCli(['fsck', `oci:${viaSkopeo}`])).code).toBe(0);
    const unpacked = join(tmp(), 'unpacked');
    execFileSync('umoci', ['unpack', '--image', `${back}:s`, unpacked]);
    expect(readFileSync(join(unpacked, 'rootfs', 'bin', 'hello'), 'utf8')).toContain('echo hello');
  });

  it('fsck exits 1 naming a corrupt blob; --repair removes it; gc removes what is unreferenced', async () => {
    const dir = join(tmp(), 'l');
    expect((await runCli(['copy', `oci:${umociLayout}:v1`, `oci:${dir}:v1`])).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'blobs', ...umociDigest.split(':')), 'utf8')) as {
      layers: { digest: string }[];
    };
    const layer = manifest.layers[0]!.digest;
    writeFileSync(join(dir, 'blobs', ...layer.split(':')), 'corrupt');
    const bad = await runCli(['fsck', `oci:${dir}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`corrupt: blob ${layer} is corrupt`);
    expect((await runCli(['fsck', '--repair', `oci:${dir}`])).code).toBe(0);
    const missing = await runCli(['fsck', `oci:${dir}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`missing: blob ${layer}`);
    const gc = await runCli(['--json', 'gc', `oci:${dir}`]);
    expect(gc.code).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({ removed: [] });
  });

  it('gives one clear line for a missing layout, a missing ref, and a non-layout argument', async () => {
    const nowhere = await runCli(['ls', `oci:${join(tmp(), 'nope')}`]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/is not an OCI image layout \(no oci-layout file\)/);
    const noRef = await runCli(['copy', `oci:${umociLayout}:nope`, `oci:${join(tmp(), 'x')}`]);
    expect(noRef.code).toBe(1);
    expect(noRef.stderr).toContain('"nope" not found');
    const notOci = await runCli(['ls', umociLayout]);
    expect(notOci.code).toBe(1);
    expect(notOci.stderr).toContain('is not an OCI layout (write oci:DIR[:REF])');
    const flags = await runCli(['copy', '--concurrency', 'lots', `oci:${umociLayout}`, `oci:${tmp()}`]);
    expect(flags.stderr).toContain('--concurrency must be a whole number');
  });
});

describe('ocikit unpack', () => {
  it('unpacks the umoci image into a directory identical to umoci unpack', async () => {
    const dir = join(tmp(), 'rootfs');
    const r = await runCli(['unpack', `oci:${umociLayout}:v1`, dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${umociDigest}\n`);
    expect(r.stderr).toMatch(/^unpacked 1 blob\(s\), /);
    expect(readFileSync(join(dir, 'bin', 'hello'), 'utf8')).toContain('echo hello');
    const missing = await runCli(['unpack', `oci:${umociLayout}:nope`, dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('"nope" not found');
    const local = await runCli(['--root', tmp(), 'unpack', 'busybox', dir]);
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('"docker.io/library/busybox:latest" not found');
  });
});

describe('ocikit snapshots', () => {
  it('unpacks an image into snapshots once, lists and removes them', async () => {
    const root = tmp();
    const first = await runCli(['--root', root, 'snapshots', 'unpack', `oci:${umociLayout}:v1`]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^1 layer\(s\) applied, 0 reused \((overlay|native)\)/);
    const top = first.stdout.trim();
    expect(top).toMatch(/^sha256:[a-f0-9]{64}$/);
    const again = await runCli(['--root', root, 'snapshots', 'unpack', `oci:${umociLayout}:v1`]);
    expect(again.stderr).toMatch(/^0 layer\(s\) applied, 1 reused/);
    const ls = await runCli(['--root', root, 'snapshots', 'ls']);
    expect(ls.stdout).toContain(`${top}`);
    expect(ls.stdout).toContain('committed');
    expect((await runCli(['--root', root, 'snapshots', 'rm', top])).code).toBe(0);
    expect((await runCli(['--root', root, '-q', 'snapshots', 'ls'])).stdout).toBe('');
    const bad = await runCli(['--root', root, 'snapshots', 'frob']);
    expect(bad.stderr).toContain('unknown action "frob"');
  });
});

describe('ocikit diff', () => {
  it('writes a layer between two directories and prints its digests', async () => {
    const a = tmp();
    const b = tmp();
    writeFileSync(join(a, 'f'), 'old');
    writeFileSync(join(b, 'f'), 'new');
    const out = join(tmp(), 'layer.tgz');
    const r = await runCli(['diff', a, b, '-o', out, '--timestamp', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^digest: sha256:[a-f0-9]{64}\ndiffID: sha256:[a-f0-9]{64}\n/);
    expect(execFileSync('tar', ['-tzf', out], { encoding: 'utf8' })).toBe('f\n');
    expect((await runCli(['diff', a, b])).stderr).toContain('-o LAYER is required');
  });
});

describe('progress on a terminal', () => {
  it('draws per-blob bars when stderr is a TTY (driven through a real pseudo-terminal)', () => {
    const dir = join(tmp(), 'rootfs');
    const bin = join(import.meta.dirname, '..', 'bin.ts');
    const cmd = `${process.execPath} --conditions=@ocikit/source ${bin} unpack oci:${umociLayout}:v1 ${dir}`;
    const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(out).toMatch(/sha256:[0-9a-f]{12}\s+\[=+\]\s+\S+ \S+\/\S+ \S+\s+done/);
    expect(out).toContain('\x1b[2K');
    expect(out).toMatch(/unpacked 1 blob\(s\)/);
  });
});
