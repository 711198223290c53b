// The registry commands end to end: the real CLI (a child process) against the real registry with
// htpasswd Basic auth, credentials stored by `ocikit login` in a private DOCKER_CONFIG, and skopeo
// on the other side for interop.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-reg-'));
// Async on purpose: a blocked event loop stops draining the registry's log pipe, and it stalls.
const run = async (cmd: string, args: string[]) =>
  (await promisify(execFile)(cmd, args, { encoding: 'utf8' })).stdout;
const sha256 = (b: string | Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let registry: RunningRegistry;
let image: BuiltImage;
let env: Record<string, string>;
let root: string;
let host: string;

const cli = (args: string[], stdin?: string) =>
  runCli(['--root', root, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) });

beforeAll(async () => {
  registry = await startRegistry({ auth: 'basic' });
  host = registry.host;
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  root = tmp();
  env = { DOCKER_CONFIG: tmp(), REGISTRY_AUTH_FILE: join(tmp(), 'none.json'), XDG_RUNTIME_DIR: tmp() };
});
afterAll(async () => {
  await registry?.stop();
});

describe('ocikit login, push, pull and friends against a real registry', () => {
  it('refuses to work without credentials, then logs in, storing them in Docker config.json', async () => {
    const anonymous = await cli(['tags', `${host}/cli/busybox`]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/401|credentials/);

    const wrong = await cli(
      ['login', '-u', registry.credentials.username, '--password-stdin', host],
      'wrong-password-xyz\n',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).not.toContain('wrong-password-xyz');

    const ok = await cli(
      ['login', '-u', registry.credentials.username, '--password-stdin', host],
      `${registry.credentials.password}\n`,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Login Succeeded');
    expect(ok.stdout + ok.stderr).not.toContain(registry.credentials.password);
    const config = JSON.parse(readFileSync(join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Buffer.from(config.auths[host]!.auth, 'base64').toString()).toBe(
      `${registry.credentials.username}:${registry.credentials.password}`,
    );
  });

  it('pushes a layout image, and reads it back with tags, digest, manifest, config, blob and inspect', async () => {
    const push = await cli(['push', `oci:${image.layout}:busybox`, `${host}/cli/busybox:1`]);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toBe(`${image.manifest}\n`);
    expect(push.stderr).toMatch(/^pushed 3 blob\(s\)/m);

    expect((await cli(['tags', `${host}/cli/busybox`])).stdout).toBe('1\n');
    expect((await cli(['catalog', host])).stdout).toContain('cli/busybox\n');
    expect((await cli(['digest', `${host}/cli/busybox:1`])).stdout).toBe(`${image.manifest}\n`);

    const manifest = await cli(['manifest', `${host}/cli/busybox:1`]);
    expect(sha256(manifest.stdout)).toBe(image.manifest);
    const config = await cli(['config', `${host}/cli/busybox:1`]);
    const parsedConfig = JSON.parse(config.stdout) as { rootfs: { diff_ids: string[] } };
    expect(parsedConfig.rootfs.diff_ids).toEqual(image.diffIds);

    const blob = await runCliBytes(['blob', `${host}/cli/busybox@${image.layers[0]}`]);
    expect(sha256(blob)).toBe(image.layers[0]);

    const inspect = await cli(['--json', 'inspect', `${host}/cli/busybox:1`]);
    const info = JSON.parse(inspect.stdout) as {
      digest: string;
      image: { layers: { digest: string }[]; platform: string };
    };
    expect(info.digest).toBe(image.manifest);
    expect(info.image.layers.map((l) => l.digest)).toEqual(image.layers);
    const text = await cli(['inspect', `${host}/cli/busybox:1`]);
    expect(text.stdout).toMatch(/^Digest:\s+sha256:/m);
    expect(text.stdout).toContain(image.layers[0]);
  });

  it('pulls into the local store, lists, tags, and removes it', async () => {
    const pull = await cli(['pull', `${host}/cli/busybox:1`]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toBe(`${image.manifest}\n`);
    const images = await cli(['--json', 'images']);
    expect(JSON.parse(images.stdout)).toEqual([
      expect.objectContaining({ reference: `${host}/cli/busybox:1`, digest: image.manifest }),
    ]);
    const again = await cli(['pull', `${host}/cli/busybox:1`]);
    expect(again.stderr).toMatch(/pulled 0 blob\(s\).*already present/);
    expect((await cli(['tag', `${host}/cli/busybox:1`, 'mine:latest'])).code).toBe(0);
    expect((await cli(['images', '--format', '{{.Reference}}'])).stdout).toBe(
      `${host}/cli/busybox:1\ndocker.io/library/mine:latest\n`,
    );
    expect((await cli(['inspect', '-q', 'local:mine'])).stdout).toBe(`${image.manifest}\n`);
    expect((await cli(['rmi', `${host}/cli/busybox:1`, 'mine'])).code).toBe(0);
    expect((await cli(['-q', 'images'])).stdout).toBe('');
    const gone = await cli(['rmi', 'mine']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no image docker.io/library/mine:latest');
  });

  it('copies registry to registry by mounting, and registry to a layout', async () => {
    const copy = await cli(['copy', `${host}/cli/busybox:1`, `${host}/cli/other:2`]);
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stderr).toMatch(/copied 1 blob\(s\).*2 already present/); // the manifest; config and layer mounted
    expect(registry.logs()).toMatch(/mount=sha256(:|%3A)[0-9a-f]{64}&from=cli(\/|%2F)busybox/);
    const dir = join(tmp(), 'out');
    const toLayout = await cli(['copy', `${host}/cli/other:2`, `oci:${dir}:x`]);
    expect(toLayout.stdout).toBe(`${image.manifest}\n`);
    expect((await cli(['fsck', `oci:${dir}`])).code).toBe(0);
  });

  it('interoperates with skopeo both ways, digests unchanged', async () => {
    const creds = `${registry.credentials.username}:${registry.credentials.password}`;
    await run('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--dest-creds',
      creds,
      `oci:${image.layout}:busybox`,
      `docker://${host}/skopeo/pushed:1`,
    ]);
    const pulled = await cli(['pull', `${host}/skopeo/pushed:1`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const skopeoDigest = JSON.parse(
      await run('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--creds',
        creds,
        `docker://${host}/skopeo/pushed:1`,
      ]),
    ) as { Digest: string };
    expect(pulled.stdout).toBe(`${skopeoDigest.Digest}\n`);

    expect((await cli(['push', `${host}/skopeo/pushed:1`, `${host}/ocikit/pushed:1`])).code).toBe(0);
    const out = join(tmp(), 'skopeo-out');
    await run('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--src-creds',
      creds,
      `docker://${host}/ocikit/pushed:1`,
      `oci:${out}:x`,
    ]);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(index.manifests[0]!.digest).toBe(skopeoDigest.Digest);
  });

  it('deletes a manifest, then logs out', async () => {
    const del = await cli(['delete', `${host}/cli/other:2`]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toBe(`${image.manifest}\n`);
    const after = await cli(['digest', `${host}/cli/other:2`]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/not found|404|unknown/i);

    expect((await cli(['logout', host])).code).toBe(0);
    const config = JSON.parse(readFileSync(join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as {
      auths: Record<string, unknown>;
    };
    expect(config.auths[host]).toBeUndefined();
    expect((await cli(['tags', `${host}/cli/busybox`])).code).toBe(1);
  });

  it('gives one clear line for bad references, bad flags and a dead registry', async () => {
    const bad = await cli(['pull', 'UPPER/Case:tag']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const flag = await cli(['pull', '--concurrency', 'lots', `${host}/x`]);
    expect(flag.stderr).toContain('--concurrency');
    const dead = await cli(['inspect', '127.0.0.1:9/nothing:1']);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/cannot reach 127\.0\.0\.1:9/);
    expect(dead.stderr.trim().split('\n')).toHaveLength(1);
  });
});

/** Runs the CLI and returns stdout as bytes (for binary blobs). */
async function runCliBytes(args: string[]): Promise<Buffer> {
  const { spawn } = await import('node:child_process');
  const bin = new URL('../bin.ts', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@ocikit/source', bin, '--root', root, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`exit ${code}`)),
    );
  });
}
