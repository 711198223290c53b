// Image commands look in the local store first, and `local:` means the local store in every command
// that takes an image (issue 19 item 6, decision 083). No registry is started: a command that
// reached one would fail to reach docker.io.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayout } from '@ocikit/content';
import { digestOfSync } from '@ocikit/digest';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-local-'));
let image: BuiltImage;
let root: string;
// no credentials, no registries.conf of the host's: what is looked up is only what the test gives
let env: Record<string, string>;
const cli = (args: string[]) => runCli(['--root', root, ...args], { env });

beforeAll(async () => {
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  root = tmp();
  const conf = join(tmp(), 'registries.conf');
  writeFileSync(conf, '');
  env = {
    DOCKER_CONFIG: tmp(),
    REGISTRY_AUTH_FILE: join(tmp(), 'none.json'),
    CONTAINERS_REGISTRIES_CONF: conf,
    XDG_RUNTIME_DIR: tmp(),
  };
  const copied = await cli(['copy', `oci:${image.layout}:busybox`, 'local:myapp:base']);
  expect(copied.code, copied.stderr).toBe(0);
  const tagged = await cli(['tag', 'myapp:base', 'myapp:1']);
  expect(tagged.code, tagged.stderr).toBe(0);
});

describe('local store first', () => {
  it('inspect NAME reads a tagged image from the local store, not docker.io', async () => {
    const r = await cli(['--json', 'inspect', 'myapp:1']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { reference: string; digest: string };
    expect(info.reference).toBe('docker.io/library/myapp:1');
    expect(info.digest).toBe(image.manifest);
  });

  it('manifest, config and digest read the local store first too', async () => {
    const digest = await cli(['digest', 'myapp:1']);
    expect(digest.code, digest.stderr).toBe(0);
    expect(digest.stdout.trim()).toBe(image.manifest);
    const manifest = await cli(['manifest', 'myapp:1']);
    expect(manifest.code, manifest.stderr).toBe(0);
    const config = await cli(['config', 'myapp:1']);
    expect(config.code, config.stderr).toBe(0);
    expect(JSON.parse(config.stdout)).toHaveProperty('rootfs');
  });

  it('--remote goes to the registry even when the store has the image', async () => {
    const r = await cli(['inspect', '--remote', 'myapp:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('docker.io');
  });
});

describe('local: everywhere', () => {
  it('tag, inspect, digest, blob, rmi and run all take local:REF', async () => {
    const tagged = await cli(['tag', 'local:myapp:1', 'local:myapp:2']);
    expect(tagged.code, tagged.stderr).toBe(0);
    const inspected = await cli(['-q', 'inspect', 'local:myapp:2']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout.trim()).toBe(image.manifest);
    const blob = await cli(['blob', `local:myapp@${image.manifest}`]);
    expect(blob.code, blob.stderr).toBe(0);
    expect(JSON.parse(blob.stdout)).toHaveProperty('layers');
    const ran = await cli(['run', '--rm', 'local:myapp:2', 'echo', 'hello']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('hello\n');
    const removed = await cli(['rmi', 'local:myapp:2']);
    expect(removed.code, removed.stderr).toBe(0);
  });

  it('run local:REF never pulls: an image the store lacks is not found', async () => {
    const r = await cli(['run', '--rm', 'local:nosuch:1', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('no image docker.io/library/nosuch:1 in the local store');
  });

  it('commands that only talk to registries refuse local: with the same message', async () => {
    for (const args of [
      ['pull', 'local:myapp:1'],
      ['tags', 'local:myapp'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/must be a registry reference, not "local:myapp/);
    }
  });
});

describe('rmi of an image a container uses (issue 19 item 7)', () => {
  it('refuses the last name as podman does (exit 2); another name may go', async () => {
    // the image's other names from the tests above go first: used:1 and used:alias stay its only ones
    expect((await cli(['rmi', 'myapp:1', 'myapp:base'])).code).toBe(0);
    const copied = await cli(['copy', `oci:${image.layout}:busybox`, 'local:used:1']);
    expect(copied.code, copied.stderr).toBe(0);
    expect((await cli(['tag', 'used:1', 'used:alias'])).code).toBe(0);
    const created = await cli(['create', '--name', 'user1', 'used:1', 'echo', 'still here']);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    // another name of the same image: untagged, as podman does
    const alias = await cli(['rmi', 'used:alias']);
    expect(alias.code, alias.stderr).toBe(0);
    const refused = await cli(['rmi', 'used:1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `ocikit: image used by ${id}: image is in use by a container (container user1 uses docker.io/library/used:1; remove the container first, or remove the image with force (the container keeps it); or use 'ocikit rmi -f docker.io/library/used:1')\n`,
    );
    expect((await cli(['images', '--format', '{{.Reference}}'])).stdout).toContain(
      'docker.io/library/used:1',
    );
  });

  it('-f removes the name; the container keeps its image and runs, gc keeps its blobs', async () => {
    const forced = await cli(['rmi', '-f', 'used:1']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await cli(['images', '--format', '{{.Reference}}'])).stdout).not.toContain('used:1');
    expect((await cli(['gc'])).code).toBe(0);
    // the image's blobs are still there (read by digest), and the container runs
    const blob = await cli(['blob', `local:${image.manifest}`]);
    expect(blob.code, blob.stderr).toBe(0);
    const started = await cli(['start', '-a', 'user1']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toBe('still here\n');
    // once the container is removed, the blobs go with the next gc
    expect((await cli(['rm', 'user1'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // past gc's one-second grace for fresh blobs
    expect((await cli(['gc'])).code).toBe(0);
    expect((await cli(['blob', `local:${image.manifest}`])).code).toBe(1);
  });
});

describe('gc, system df and system prune of the local store (issue 19 item 9)', () => {
  let root2: string;
  const cli2 = (args: string[], stdin?: string) =>
    runCli(['--root', root2, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) });

  beforeAll(async () => {
    root2 = tmp();
    expect((await cli2(['copy', `oci:${image.layout}:busybox`, 'local:app:1'])).code).toBe(0);
    const ran = await cli2(['run', '--name', 'done', 'app:1', 'true']);
    expect(ran.code, ran.stderr).toBe(0);
    // what an interrupted pull leaves: a partial download no process holds
    const store = await openLayout(join(root2, 'content'));
    const writer = await store.openWriter({
      mediaType: 'application/octet-stream',
      digest: digestOfSync('x'.repeat(1 << 20)),
      size: 1 << 20,
    });
    await writer.write(new TextEncoder().encode('x'.repeat(512 << 10)));
    await writer.close();
  });

  it('system df: images and containers, sizes and reclaimable, in --json and --format', async () => {
    const json = await cli2(['--json', 'system', 'df']);
    expect(json.code, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as {
      type: string;
      total: number;
      active: number;
      size: number;
      reclaimable: number;
    }[];
    // the busybox image is one layer: its snapshot and the container's, both in use
    expect(rows.map((r) => [r.type, r.total, r.active])).toEqual([
      ['Images', 1, 1],
      ['Containers', 1, 0],
      ['Local Volumes', 0, 0],
      ['Snapshots', 2, 2],
    ]);
    expect(rows[3]?.size).toBeGreaterThan(0);
    expect(rows[3]?.reclaimable).toBe(0);
    expect(rows[0]?.size).toBeGreaterThan(500_000);
    expect(rows[0]?.reclaimable).toBe(0); // the exited container still uses the image
    expect(rows[1]?.reclaimable).toBe(rows[1]?.size);
    const formatted = await cli2(['system', 'df', '--format', '{{.Type}}:{{.Total}}:{{.Active}}']);
    expect(formatted.stdout).toBe('Images:1:1\nContainers:1:0\nLocal Volumes:0:0\nSnapshots:2:2\n');
  });

  it('gc without an argument removes the abandoned partial download, and keeps snapshots in use', async () => {
    const snapshots = (await cli2(['-q', 'snapshots', 'ls'])).stdout;
    const r = await cli2(['--json', 'gc']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { ingests: number; ingestBytes: number; removed: string[] };
    expect(result.ingests).toBe(1);
    expect(result.ingestBytes).toBe(512 << 10);
    expect(result.removed).toEqual([]); // the image and its container keep every blob
    expect((await cli2(['-q', 'snapshots', 'ls'])).stdout).toBe(snapshots);
    expect((await cli2(['fsck'])).code).toBe(0);
  });

  it('system prune asks first; -a -f removes stopped containers, unused images, their blobs and snapshots', async () => {
    const declined = await cli2(['system', 'prune'], 'n\n');
    expect(declined.code).toBe(0);
    expect(declined.stderr).toContain('Are you sure you want to continue? [y/N]');
    expect((await cli2(['-q', 'ps', '-a'])).stdout).not.toBe('');
    expect((await cli2(['-q', 'snapshots', 'ls'])).stdout).not.toBe('');
    const pruned = await cli2(['system', 'prune', '-a', '-f']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(
      /^Deleted Containers\n[0-9a-f]{64}\nDeleted Images\ndocker\.io\/library\/app:1\nTotal reclaimed space: /,
    );
    expect((await cli2(['-q', 'ps', '-a'])).stdout).toBe('');
    expect((await cli2(['-q', 'images'])).stdout).toBe('');
    expect((await cli2(['-q', 'snapshots', 'ls'])).stdout).toBe('');
    expect(readdirSync(join(root2, 'content', 'blobs', 'sha256'))).toEqual([]);
  });
});
