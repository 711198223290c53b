// A reference with both a tag and a digest (issue 13, defect 3): the digest decides what is
// pulled, and the tag stays in the name the image is stored and shown under, as containerd keeps
// it (decision 011).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-td-'));
let registry: RunningRegistry;
let image: BuiltImage;
let root: string;
let env: Record<string, string>;
const cli = (args: string[]) => runCli(['--root', root, ...args], { env });

/** The names the local store holds, with the manifest each names. */
const storedNames = () =>
  Object.fromEntries(
    (
      JSON.parse(readFileSync(join(root, 'content', 'index.json'), 'utf8')) as {
        manifests: { digest: string; annotations?: Record<string, string> }[];
      }
    ).manifests.map((m) => [m.annotations?.['org.opencontainers.image.ref.name'] ?? '', m.digest]),
  );

beforeAll(async () => {
  registry = await startRegistry();
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  root = tmp();
  env = { DOCKER_CONFIG: tmp(), REGISTRY_AUTH_FILE: join(tmp(), 'none.json'), XDG_RUNTIME_DIR: tmp() };
  const push = await cli(['push', `oci:${image.layout}:busybox`, `${registry.host}/td/busybox:1`]);
  expect(push.code, push.stderr).toBe(0);
});
afterAll(async () => {
  await registry?.stop();
});

describe('name:tag@digest', () => {
  it('pull: fetched by digest, stored under the name with its tag and digest', async () => {
    const ref = `${registry.host}/td/busybox:1@${image.manifest}`;
    const pulled = await cli(['pull', ref]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(storedNames()[ref]).toBe(image.manifest);
  });

  it('pull: the tag does not decide what is fetched (a tag the registry lacks still pulls)', async () => {
    const ref = `${registry.host}/td/busybox:no-such-tag@${image.manifest}`;
    const pulled = await cli(['pull', ref]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(storedNames()[ref]).toBe(image.manifest);
    // and no tag was made from a pull by digest
    expect(storedNames()[`${registry.host}/td/busybox:no-such-tag`]).toBeUndefined();
  });

  it('run: finds the image stored under that name, with the tag', async () => {
    const ref = `${registry.host}/td/busybox:1@${image.manifest}`;
    const ran = await cli(['run', '--rm', '--pull', 'never', ref, 'true']);
    expect(ran.code, ran.stderr).toBe(0);
  });
});
