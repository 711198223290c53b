// `ps`, `images` and `inspect` as docker and podman users read them (issue 13, defect 5): relative
// times (`Up 5 seconds`, `Exited (3) 2 seconds ago`, `… ago`), the platform of single-platform
// images, and `--format` Go templates — against real containers (runc, conmon) and a real store.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-format-'));
let root: string;
let layout: string;
const cli = (args: string[]) => runCli(['--root', root, ...args]);
// the busybox test image says amd64 whatever the host
const arch = 'amd64';
// a fresh container's times: docker's words for under a minute, or just over (a loaded machine)
const recently = String.raw`(Less than a second|1 second|\d+ seconds|About a minute)`;

beforeAll(async () => {
  root = tmp();
  layout = join(tmp(), 'layout');
  buildBusyboxImage(layout, 'busybox');
  // as umoci writes layouts, and as a pull of a single-platform image stores it: no platform in the
  // index entry, so the platform is the config's
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { platform?: unknown }[];
  };
  for (const m of index.manifests) delete m.platform;
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  const copied = await cli(['copy', `oci:${layout}:busybox`, 'local:busybox']);
  expect(copied.code, copied.stderr).toBe(0);
  // running for the whole file (afterAll removes it): a minute could run out on a loaded machine
  expect((await cli(['run', '-d', '--name', 'fmt-up', 'busybox', 'sleep', '600'])).code).toBe(0);
  expect((await cli(['run', '--name', 'fmt-exited', 'busybox', 'sh', '-c', 'exit 3'])).code).toBe(3);
  expect(
    (await cli(['create', '--name', 'fmt-created', 'busybox', 'sh', '-c', 'echo a long command line'])).code,
  ).toBe(0);
});

afterAll(async () => {
  await cli(['rm', '-f', 'fmt-up', 'fmt-exited', 'fmt-created']);
});

describe('ps', () => {
  it('shows Up/Exited with relative times, and CREATED as a relative time, as docker does', async () => {
    const ps = await cli(['ps', '-a']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).not.toContain('Up since');
    const lines = ps.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    const line = (name: string) => lines.find((l) => l.endsWith(` ${name}`)) ?? '';
    expect(line('fmt-up')).toMatch(new RegExp(`"sleep 600"\\s+${recently} ago\\s+Up ${recently}\\s+fmt-up$`));
    expect(line('fmt-exited')).toMatch(new RegExp(`\\s+Exited \\(3\\) ${recently} ago\\s+fmt-exited$`));
    expect(line('fmt-created')).toMatch(/\s+Created\s+fmt-created$/);
  });

  it("quotes COMMAND as docker does: arguments with spaces in '…', cut to 20 columns inside the quotes", async () => {
    const ps = await cli(['ps', '-a']);
    const line = ps.stdout.split('\n').find((l) => l.endsWith(' fmt-created')) ?? '';
    expect(line).toMatch(
      new RegExp(
        `^[0-9a-f]{12}\\s+docker\\.io/library/busybox:latest\\s+"sh -c 'echo a long …"\\s+${recently} ago\\s+Created\\s+fmt-created$`,
      ),
    );
    const full = await cli(['ps', '-a', '--no-trunc']);
    expect(full.code, full.stderr).toBe(0);
    const fullLine = full.stdout.split('\n').find((l) => l.endsWith(' fmt-created')) ?? '';
    expect(fullLine).toMatch(/^[0-9a-f]{64}\s+\S+\s+"sh -c 'echo a long command line'"\s+/);
    const ids = (await cli(['-q', 'ps', '-a', '--no-trunc'])).stdout.trim().split('\n');
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prints --format fields, one line per container', async () => {
    const ps = await cli(['ps', '--format', '{{.Names}}|{{.Image}}|{{.State}}|{{.Command}}|{{.Status}}']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(
      new RegExp(`^fmt-up\\|docker\\.io/library/busybox:latest\\|running\\|"sleep 600"\\|Up ${recently}\\n$`),
    );
    const ids = await cli(['ps', '-a', '--format', '{{.ID}}']);
    expect(ids.stdout.trim().split('\n').sort()).toEqual(
      (await cli(['ps', '-a', '-q'])).stdout.trim().split('\n').sort(),
    );
  });

  it('prints a table with docker headers, and {{json .}}', async () => {
    const table = await cli(['ps', '-a', '--format', 'table {{.Names}}\\t{{.ExitCode}}\\t{{.RunningFor}}']);
    expect(table.code, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toBe('NAMES         EXIT CODE   CREATED');
    expect(rows.find((r) => r.startsWith('fmt-exited'))).toMatch(
      new RegExp(`^fmt-exited    3           ${recently} ago$`),
    );
    const json = await cli(['ps', '--format', '{{json .}}']);
    const item = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(item).toMatchObject({
      Names: 'fmt-up',
      State: 'running',
      Image: 'docker.io/library/busybox:latest',
    });
    expect(Object.keys(item)).toEqual(
      expect.arrayContaining(['ID', 'CreatedAt', 'RunningFor', 'Status', 'Ports']),
    );
  });

  it('fails on an unknown field with one line naming it, exit 1', async () => {
    const bad = await cli(['ps', '--format', '{{.Names}} {{.Bogus}}']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('.Bogus');
    expect(bad.stderr).toContain('Names');
  });
});

describe('images', () => {
  it("shows docker's and podman's columns: IMAGE ID (the config digest), CREATED, SIZE, then PLATFORM", async () => {
    const id = (await cli(['inspect', '-f', '{{.Id}}', 'local:busybox'])).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const images = await cli(['images']);
    expect(images.code, images.stderr).toBe(0);
    const [header, ...rows] = images.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+PLATFORM$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(
      new RegExp(
        `^docker\\.io/library/busybox\\s+latest\\s+${id.slice(7, 19)}\\s+(?:\\S+ )+ago\\s+\\d[\\d.]*[kM]?B\\s+linux/${arch}$`,
      ),
    );
    const full = await cli(['images', '--no-trunc']);
    expect(full.stdout).toContain(` ${id} `);
    const digest = (await cli(['digest', 'local:busybox'])).stdout.trim();
    const withDigests = await cli(['images', '--digests']);
    expect(withDigests.stdout).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE\s+PLATFORM\n/);
    expect(withDigests.stdout).toContain(` ${digest} `);
    const fields = await cli(['images', '--format', '{{.ID}}|{{.CreatedSince}}|{{.CreatedAt}}']);
    expect(fields.stdout).toMatch(
      new RegExp(
        `^${id.slice(7, 19)}\\|(?:\\S+ )+ago\\|\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000 UTC\\n$`,
      ),
    );
    expect((await cli(['images', '--no-trunc', '--format', '{{.ID}}'])).stdout).toBe(`${id}\n`);
  });

  it('shows the platform of a single-platform image', async () => {
    const images = await cli(['images', '--format', '{{.Reference}} {{.Platform}}']);
    expect(images.code, images.stderr).toBe(0);
    expect(images.stdout).toBe(`docker.io/library/busybox:latest linux/${arch}\n`);
    const json = JSON.parse((await cli(['--json', 'images'])).stdout) as { platform: string }[];
    expect(json[0]?.platform).toBe(`linux/${arch}`);
  });

  it('prints --format fields and tables with docker names', async () => {
    const f = await cli([
      'images',
      '--format',
      '{{.Repository}}:{{.Tag}} {{.Platform}} {{.CreatedSince}} {{.ID}}',
    ]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(
      new RegExp(`^docker\\.io/library/busybox:latest linux/${arch} (\\S+ )+ago [0-9a-f]{12}\\n$`),
    );
    const t = await cli(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}']);
    expect(t.stdout).toMatch(
      /^REPOSITORY\s+TAG\s+SIZE\ndocker\.io\/library\/busybox\s+latest\s+\d[\d.]*[kM]?B\n$/,
    );
    const bad = await cli(['images', '--format', '{{.Containers}}']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('.Containers');
  });

  it("lists an index's platforms", async () => {
    const other = tmp();
    const copied = await runCli(['--root', other, 'copy', `oci:${layout}:busybox`, 'local:busybox']);
    expect(copied.code, copied.stderr).toBe(0);
    // indexes over the stored manifest, written into the store (an OCI layout) by hand
    const content = join(other, 'content');
    const stored = JSON.parse(readFileSync(join(content, 'index.json'), 'utf8')) as {
      manifests: Record<string, unknown>[];
    };
    const manifest = stored.manifests[0] as { digest: string; size: number; mediaType: string };
    const entry = (architecture: string) => ({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      platform: { os: 'linux', architecture },
    });
    // `multi` holds this machine's image (the tests run on amd64 or arm64), `foreign` only another's
    const storeIndex = (name: string, architectures: string[]) => {
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: architectures.map(entry),
        }),
      );
      const hex = createHash('sha256').update(index).digest('hex');
      writeFileSync(join(content, 'blobs', 'sha256', hex), index);
      stored.manifests.push({
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: `sha256:${hex}`,
        size: index.length,
        annotations: { 'org.opencontainers.image.ref.name': `docker.io/library/${name}:latest` },
      });
      return hex;
    };
    storeIndex('multi', ['amd64', 'arm64']);
    const foreign = storeIndex('foreign', ['s390x']);
    writeFileSync(join(content, 'index.json'), JSON.stringify(stored));
    const listed = await runCli(['--root', other, 'images', '--format', '{{.Reference}}|{{.Platform}}']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toBe(
      `docker.io/library/busybox:latest|linux/${arch}\ndocker.io/library/foreign:latest|linux/s390x\n` +
        'docker.io/library/multi:latest|linux/amd64, linux/arm64\n',
    );
    // the image ID of an index is its host image's config digest (podman's), else the index digest
    const ids = await runCli(['--root', other, 'images', '--format', '{{.Repository}} {{.ID}}']);
    const inspected = await runCli(['--root', other, 'inspect', '-f', '{{.Id}}', 'local:busybox']);
    const id = inspected.stdout.slice('sha256:'.length, 'sha256:'.length + 12);
    expect(ids.stdout).toBe(
      `docker.io/library/busybox ${id}\ndocker.io/library/foreign ${foreign.slice(0, 12)}\n` +
        `docker.io/library/multi ${id}\n`,
    );
  });
});

describe('inspect --format', () => {
  it("reads a container's record under docker's and podman's names", async () => {
    const r = await cli([
      'inspect',
      '--format',
      '{{.Name}} {{.State.Status}} {{.State.Running}} {{.Path}} {{json .Args}}',
      'fmt-up',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('fmt-up running true sleep ["600"]\n');
    const exited = await cli(['inspect', '-f', '{{.State.ExitCode}} {{.Config.Image}}', 'fmt-exited']);
    expect(exited.stdout).toBe('3 docker.io/library/busybox:latest\n');
  });

  it("reads an image's config under docker's names", async () => {
    const r = await cli([
      'inspect',
      '-f',
      '{{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{len .RootFS.Layers}}',
      'local:busybox',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`linux/${arch} ["/bin/sh"] 1\n`);
    const tags = await cli(['inspect', '-f', '{{index .RepoTags 0}} {{.Id}}', 'local:busybox']);
    expect(tags.stdout).toMatch(/^docker\.io\/library\/busybox:latest sha256:[0-9a-f]{64}\n$/);
  });

  it('fails on an unknown field, naming it, exit 1', async () => {
    const r = await cli(['inspect', '-f', '{{.State.Nope}}', 'fmt-up']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Nope');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
