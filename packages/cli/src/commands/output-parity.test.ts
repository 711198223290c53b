// `ps` and `images` of ocikit against the real docker CLI (issue 19 item 11): docker's own formatter,
// reading podman's Docker-compatible API (`podman system service`) over the same test image and
// containers made with the same commands, prints the same COMMAND, IMAGE ID and CREATED. podman's
// API joins a command's arguments without docker's engine's quoting of spaces, so the commands here
// have none (views.test.ts covers that quoting). Nothing is skipped: without podman or docker the
// test fails and says how to install them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBusyboxImage, podmanGlobalFlags } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli, runProcess } from '../lib/test-cli.ts';

const roots: string[] = [];
let ocikitRoot: string;
let podmanRoot: string;
let podmanImage: string;
let service: ChildProcess | undefined;
let dockerEnv: NodeJS.ProcessEnv;

const podman = (args: readonly string[]) => runProcess('podman', [...podmanGlobalFlags(podmanRoot), ...args]);
const docker = (args: readonly string[]) => runProcess('docker', args, { env: dockerEnv });
const ocikit = (args: readonly string[]) => runCli(['--root', ocikitRoot, ...args]);

function ok(r: CliResult, what: string): string {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A table's header cells (columns are two or more spaces apart). */
const headerCells = (table: string) => (table.split('\n')[0] ?? '').trim().split(/ {2,}/);

/** The commands both engines' containers get: long, wide, and with characters Go escapes. */
const commands: Record<string, string[]> = {
  'out-long': ['echo', 'abcdefghijklmnopqrstuvwxyz'],
  'out-wide': ['echo', '日本語のコマンドを実行する'],
  'out-escaped': ['echo', 'a\tb"c\\d\u0001'],
  'out-short': ['true'],
};

beforeAll(async () => {
  ocikitRoot = mkdtempSync(join(tmpdir(), 'ocikit-output-parity-'));
  // podman's overlay storage wants a real file system, not a tmpfs
  podmanRoot = mkdtempSync(join('/var/tmp', 'ocikit-output-parity-'));
  roots.push(ocikitRoot, podmanRoot);
  for (const [tool, pkg] of [
    ['podman', 'podman'],
    ['docker', 'docker.io'],
  ] as const) {
    const version = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (version.status !== 0) {
      throw new Error(`${tool} cannot run here: install it with tools/run.sh (apt-get install ${pkg})`);
    }
  }
  // lower case: podman names an image pulled from oci:DIR after the path
  const layoutDir = join(tmpdir(), `ocikit-output-parity-layout-${process.pid}`);
  roots.push(layoutDir);
  mkdirSync(layoutDir, { recursive: true });
  const layout = join(layoutDir, 'layout');
  buildBusyboxImage(layout, 'busybox');
  ok(await ocikit(['copy', `oci:${layout}:busybox`, 'local:busybox']), 'ocikit copy');
  const pulled = ok(await podman(['pull', '-q', `oci:${layout}:busybox`]), 'podman pull');
  podmanImage = pulled.trim().split('\n').at(-1) ?? '';
  for (const [name, command] of Object.entries(commands)) {
    ok(await ocikit(['create', '--name', name, 'busybox', ...command]), `ocikit create ${name}`);
    ok(
      await podman(['create', '--network', 'none', '--name', name, podmanImage, ...command]),
      `podman create ${name}`,
    );
  }
  // the docker CLI, with a config directory of its own, against podman's Docker API
  const sock = join(podmanRoot, 'docker.sock');
  dockerEnv = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(podmanRoot, 'docker') };
  service = spawn(
    'podman',
    [...podmanGlobalFlags(podmanRoot), 'system', 'service', '--time=0', `unix://${sock}`],
    {
      stdio: 'ignore',
    },
  );
  // up to 60 s, then 300 tries: podman's service starts slowly on a loaded machine (10 s were tight)
  for (let i = 0; i < 600 && !existsSync(sock); i++) await sleep(100);
  let version: CliResult | undefined;
  for (let i = 0; i < 300; i++) {
    version = await docker(['version', '--format', '{{.Server.APIVersion}}']);
    if (version.code === 0) break;
    await sleep(100);
  }
  if (version?.code !== 0) throw new Error(`podman's Docker API did not answer: ${version?.stderr}`);
}, 120_000);

afterAll(async () => {
  service?.kill();
  await ocikit(['rm', '-f', ...Object.keys(commands)]).catch(() => undefined);
  if (podmanRoot) {
    await podman(['rm', '-af']).catch(() => undefined);
    spawnSync('umount', [join(podmanRoot, 'root', 'overlay')]);
  }
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

describe('ocikit beside the docker CLI', () => {
  it('ps: the same COMMAND, cut and quoted, and whole with --no-trunc', async () => {
    for (const trunc of [[], ['--no-trunc']]) {
      const format = ['ps', '-a', ...trunc, '--format', '{{.Names}}|{{.Command}}'];
      const lines = (out: string) => out.trim().split('\n').sort();
      const theirs = lines(ok(await docker(format), 'docker ps'));
      expect(theirs).toHaveLength(Object.keys(commands).length);
      expect(lines(ok(await ocikit(format), 'ocikit ps'))).toEqual(theirs);
    }
    const table = ok(await ocikit(['ps', '-a']), 'ocikit ps');
    expect(table).toContain('"echo abcdefghijklmn…"');
    expect(table).toContain('"echo 日本語のコマン…"');
    // docker's columns, PORTS among them
    const header = headerCells(ok(await docker(['ps', '-a']), 'docker ps'));
    expect(headerCells(table)).toEqual(header);
  });

  it("images: the same IMAGE ID, CREATED and CreatedAt, and docker's columns first", async () => {
    const format = ['images', '--format', '{{.ID}}|{{.CreatedSince}}|{{.CreatedAt}}'];
    const theirs = ok(await docker(format), 'docker images');
    expect(theirs).toMatch(/^[0-9a-f]{12}\|\d+ years ago\|1970-01-01 00:00:00 \+0000 UTC\n$/);
    expect(ok(await ocikit(format), 'ocikit images')).toBe(theirs);
    const full = ['images', '--no-trunc', '--format', '{{.ID}}'];
    expect(ok(await ocikit(full), 'ocikit images')).toBe(ok(await docker(full), 'docker images'));
    const header = headerCells(ok(await docker(['images']), 'docker images'));
    expect(header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    expect(headerCells(ok(await ocikit(['images']), 'ocikit images'))).toEqual([...header, 'PLATFORM']);
  });
});
