// `ocikit copy` to and from docker-archive and oci-archive files, read and written by the real
// tools: podman load/save, docker load/save (a dockerd of this file's own) and skopeo.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningEngine, startDockerd, startPodmanService } from '@ocikit/test-engines';
import { type BuiltImage, buildBusyboxImage, podmanGlobalFlags, podmanRunFlags } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-archive-'));
let busybox: BuiltImage;
let configDigest: string;
let podmanRoot: string;
let docker: RunningEngine | undefined;
let podmanService: RunningEngine | undefined;

const podman = (...args: string[]) =>
  execFileSync('podman', [...podmanGlobalFlags(podmanRoot), ...args], { encoding: 'utf8' });
const dockerCli = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', env: { ...process.env, ...docker?.env } });

/** The config digest of the image `ref` names in layout `dir`. */
function layoutConfig(dir: string, ref: string): string {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (!entry) throw new Error(`${ref} not in ${dir}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as {
    config: { digest: string };
  };
  return manifest.config.digest;
}

async function ocikit(...args: string[]): Promise<string> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`ocikit ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  busybox = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  configDigest = layoutConfig(busybox.layout, 'busybox');
  podmanRoot = tmp();
  mkdirSync(join(podmanRoot, 'tmp'));
  [docker, podmanService] = await Promise.all([startDockerd(), startPodmanService()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([docker?.stop(), podmanService?.stop()]);
});

describe('ocikit copy with docker-archive: and oci-archive:', () => {
  it('podman load takes an ocikit docker-archive (and runs it); ocikit reads podman save --format docker-archive', async () => {
    const file = join(tmp(), 'busybox.tar');
    await ocikit('copy', `oci:${busybox.layout}:busybox`, `docker-archive:${file}:busybox:1`);
    expect(podman('load', '-i', file)).toContain('docker.io/library/busybox:1');
    expect(podman('image', 'inspect', '--format', '{{.Id}}', 'busybox:1').trim()).toBe(configDigest.slice(7));
    expect(podman('run', '--rm', ...podmanRunFlags, 'busybox:1', 'echo', 'loaded').trim()).toBe('loaded');

    const saved = join(tmp(), 'podman.tar');
    podman('save', '--format', 'docker-archive', '-o', saved, 'busybox:1');
    const back = join(tmp(), 'back');
    await ocikit('copy', `docker-archive:${saved}`, `oci:${back}:b`);
    expect(layoutConfig(back, 'b')).toBe(configDigest);
    expect((await runCli(['fsck', `oci:${back}`])).code).toBe(0);
  });

  it('podman load takes an ocikit oci-archive; ocikit reads podman save --format oci-archive', async () => {
    const file = join(tmp(), 'busybox-oci.tar');
    await ocikit('copy', `oci:${busybox.layout}:busybox`, `oci-archive:${file}:localhost/oci:1`);
    podman('load', '-i', file);
    expect(podman('image', 'inspect', '--format', '{{.Id}}', 'localhost/oci:1').trim()).toBe(
      configDigest.slice(7),
    );
    const saved = join(tmp(), 'podman-oci.tar');
    podman('save', '--format', 'oci-archive', '-o', saved, 'localhost/oci:1');
    const back = join(tmp(), 'back');
    await ocikit('copy', `oci-archive:${saved}`, `oci:${back}:b`);
    expect(JSON.parse(podman('image', 'inspect', 'localhost/oci:1'))[0].Id).toBe(configDigest.slice(7));
    const manifest = JSON.parse(readFileSync(join(back, 'index.json'), 'utf8')).manifests[0];
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('skopeo docker-archive → ocikit → oci-archive → skopeo keeps the config', async () => {
    const dir = tmp();
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      `oci:${busybox.layout}:busybox`,
      `docker-archive:${dir}/s.tar:busybox:2`,
    ]);
    const out = await ocikit('copy', `docker-archive:${dir}/s.tar:busybox:2`, `oci-archive:${dir}/o.tar`);
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      `oci-archive:${dir}/o.tar:docker.io/library/busybox:2`,
      `oci:${dir}/final:f`,
    ]);
    expect(layoutConfig(join(dir, 'final'), 'f')).toBe(configDigest);
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci-archive:${dir}/o.tar:docker.io/library/busybox:2`], {
        encoding: 'utf8',
      }),
    ) as { Digest: string };
    expect(inspected.Digest).toBe(out.trim());
    expect(readdirSync(dir).sort()).toEqual(['final', 'o.tar', 's.tar']);
  });

  it('docker load takes an ocikit docker-archive and runs it; ocikit reads docker save', async () => {
    const file = join(tmp(), 'busybox.tar');
    await ocikit('copy', `oci:${busybox.layout}:busybox`, `docker-archive:${file}:busybox:1`);
    expect(dockerCli('load', '-i', file)).toContain('Loaded image: busybox:1');
    expect(dockerCli('image', 'inspect', '--format', '{{.Id}}', 'busybox:1').trim()).toBe(configDigest);
    expect(dockerCli('run', '--rm', '--network', 'none', 'busybox:1', 'echo', 'loaded').trim()).toBe(
      'loaded',
    );

    const saved = join(tmp(), 'docker.tar');
    dockerCli('save', '-o', saved, 'busybox:1');
    const back = join(tmp(), 'back');
    await ocikit('copy', `docker-archive:${saved}:busybox:1`, `oci:${back}:b`);
    expect(layoutConfig(back, 'b')).toBe(configDigest);
  });

  it('docker-daemon: loads into and saves from the engine --host names, through its API', async () => {
    const host = docker?.host ?? '';
    await ocikit('--host', host, 'copy', `oci:${busybox.layout}:busybox`, 'docker-daemon:daemon:1');
    expect(dockerCli('image', 'inspect', '--format', '{{.Id}}', 'daemon:1').trim()).toBe(configDigest);
    const back = join(tmp(), 'back');
    await ocikit('--host', host, 'copy', 'docker-daemon:daemon:1', `oci:${back}`);
    expect(layoutConfig(back, 'docker.io/library/daemon:1')).toBe(configDigest);
    const missing = await runCli(['--host', host, 'copy', 'docker-daemon:missing:1', `oci:${back}:x`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing:1/);
  });

  it("docker-daemon: works the same against podman's Docker-compatible API", async () => {
    const host = podmanService?.host ?? '';
    await ocikit('--host', host, 'copy', `oci:${busybox.layout}:busybox`, 'docker-daemon:pod:1');
    const back = join(tmp(), 'back');
    await ocikit('--host', host, 'copy', 'docker-daemon:pod:1', `oci:${back}:b`);
    expect(layoutConfig(back, 'b')).toBe(configDigest);
  });

  it('docker-daemon: with no --host is the local engine (its own save and load)', async () => {
    const root = tmp();
    await ocikit('--root', root, 'copy', `oci:${busybox.layout}:busybox`, 'docker-daemon:local:1');
    const back = join(tmp(), 'back');
    await ocikit('--root', root, 'copy', 'docker-daemon:local:1', `oci:${back}:b`);
    expect(layoutConfig(back, 'b')).toBe(configDigest);
  });

  it('names what is wrong: a missing REF, an archive of two images without REF, a truncated file', async () => {
    const dir = tmp();
    await ocikit('copy', `oci:${busybox.layout}:busybox`, `docker-archive:${dir}/a.tar:busybox:1`);
    const missing = await runCli(['copy', `docker-archive:${dir}/a.tar:busybox:2`, `oci:${dir}/x`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/"docker\.io\/library\/busybox:2" not found in .*a\.tar/);

    // a second image: busybox with one more file
    dockerCli('load', '-i', `${dir}/a.tar`);
    // a retried case (decision 209) must not meet its first attempt's container
    execFileSync('docker', ['rm', '-f', 'touched'], {
      stdio: 'ignore',
      env: { ...process.env, ...docker?.env },
    });
    dockerCli(
      'run',
      '--name',
      'touched',
      '--network',
      'none',
      'busybox:1',
      '/bin/busybox',
      'touch',
      '/touched',
    );
    dockerCli('commit', 'touched', 'other:1');
    dockerCli('save', '-o', `${dir}/two.tar`, 'busybox:1', 'other:1');
    const two = await runCli(['copy', `docker-archive:${dir}/two.tar`, `oci:${dir}/x`]);
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(
      /two\.tar holds 2 images: name one \(.*docker\.io\/library\/other:1.*\) \(write docker-archive:FILE:REF\)$/m,
    );
    const picked = await runCli(['copy', `docker-archive:${dir}/two.tar:@1`, `oci:${dir}/x:o`]);
    expect(picked.code).toBe(0);

    const bytes = readFileSync(`${dir}/a.tar`);
    writeFileSync(`${dir}/cut.tar`, bytes.subarray(0, bytes.length >> 1));
    const cut = await runCli(['copy', `docker-archive:${dir}/cut.tar`, `oci:${dir}/x`]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/truncated/);
  });

  it("narrows an index to this machine's platform into a docker-archive, and refuses --all-platforms", async () => {
    // a two-platform index over the busybox manifest (the same manifest for both: enough to choose)
    const layout = join(tmp(), 'multi');
    execFileSync('cp', ['-r', busybox.layout, layout]);
    const manifest = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: busybox.manifest,
      size: busybox.manifestSize,
    };
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...manifest, platform: { os: 'linux', architecture: 'arm64' } },
          { ...manifest, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    );
    const indexDigest = createHash('sha256').update(index).digest('hex');
    writeFileSync(join(layout, 'blobs', 'sha256', indexDigest), index);
    const top = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    top.manifests.push({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: `sha256:${indexDigest}`,
      size: index.length,
      annotations: { 'org.opencontainers.image.ref.name': 'multi' },
    });
    writeFileSync(join(layout, 'index.json'), JSON.stringify(top));

    const dir = tmp();
    const out = await ocikit('copy', `oci:${layout}:multi`, `docker-archive:${dir}/one.tar:multi:1`);
    expect(out.trim()).toBe(busybox.manifest);
    const all = await runCli([
      'copy',
      '--all-platforms',
      `oci:${layout}:multi`,
      `docker-archive:${dir}/all.tar:multi:1`,
    ]);
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/a docker-archive holds single-platform images, not an image index/);
    expect(readdirSync(dir)).toEqual(['one.tar']);
  });

  it('leaves an existing destination file as it was when the copy fails', async () => {
    const dir = tmp();
    writeFileSync(`${dir}/out.tar`, 'before');
    const r = await runCli(['copy', `oci:${busybox.layout}:nope`, `docker-archive:${dir}/out.tar:x:1`]);
    expect(r.code).toBe(1);
    expect(readFileSync(`${dir}/out.tar`, 'utf8')).toBe('before');
    expect(readdirSync(dir)).toEqual(['out.tar']);
  });
});
