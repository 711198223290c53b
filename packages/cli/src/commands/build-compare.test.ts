// `ocikit build` beside buildah 1.28 (Debian's; vfs storage, chroot isolation, its own root), on the
// Dockerfiles in test/fixtures/build (busybox and the Debian test image as bases: multi-stage,
// ARG/ENV expansion, COPY --chown/--chmod/--from, whiteouts from RUN rm, USER/WORKDIR, heredocs,
// a cache mount, ADD of a tar, COPY --from an image, SHELL): the config fields (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes,
// Labels, StopSignal, Healthcheck) and every layer's entries (path, type, mode, owner, link target,
// content; timestamps aside) must be buildah's. Both images are read from what each exports (buildah
// push to oci:/dir:, ocikit build -o oci:), and `ocikit run` runs ours.
//
// Where ocikit differs from buildah today, the test names each difference (KNOWN below) and
// expects exactly those: a new difference fails it, and so does a fixed one (then the entry goes).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, buildDebianImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Buildah, differences, readLayoutImage } from '../lib/test-buildah.ts';
import { runCli } from '../lib/test-cli.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/build', import.meta.url));
let dir: string;
let root: string;
let buildah: Buildah;
let debianSeeded = false;
const cli = (args: string[]) => runCli(['--root', root, ...args]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocikit-build-compare-'));
  root = join(dir, 'ocikit');
  const busybox = buildBusyboxImage(join(dir, 'layout'), 'busybox');
  buildah = new Buildah(join(dir, 'buildah'));
  await buildah.seed(busybox.layout, 'busybox', 'docker.io/library/busybox:latest');
  const copied = await cli(['-q', 'copy', `oci:${busybox.layout}:busybox`, 'local:busybox']);
  expect(copied.code, copied.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  // buildah's vfs layers hold read-only directories its own rmi handles
  await buildah?.run(['rmi', '-a', '-f']).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/**
 * Builds fixture `name` with both (buildah from `Dockerfile.buildah` when there is one: the same
 * build without what buildah 1.28 lacks), in `format`; gives the differences, and leaves ours
 * tagged `fx-NAME:1` in the local store.
 */
async function compareFixture(name: string, format: 'oci' | 'docker' = 'oci'): Promise<string[]> {
  const context = join(FIXTURES, name);
  const tag = `fx-${name}:1`;
  const file = existsSync(join(context, 'Dockerfile.buildah')) ? 'Dockerfile.buildah' : 'Dockerfile';
  await buildah.bud(context, tag, { file, extra: ['--format', format] });
  const theirs = join(dir, 'buildah-out', name);
  mkdirSync(join(dir, 'buildah-out'), { recursive: true });
  // a Docker-format image goes to dir: as it is (oci: would convert its config and drop Healthcheck)
  if (format === 'docker') await buildah.pushDir(tag, theirs);
  else await buildah.pushOci(tag, theirs, name);
  const ours = join(dir, 'ocikit-out', name);
  const built = await cli([
    ...['-q', 'build', '--format', format, '--network', 'none', '-t', tag],
    ...['-o', `oci:${ours}:${name}`, context],
  ]);
  expect(built.code, built.stderr).toBe(0);
  expect(built.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
  return differences(
    readLayoutImage(theirs, format === 'docker' ? undefined : name),
    readLayoutImage(ours, name),
  );
}

/** `ocikit run --rm IMAGE [CMD…]`: its exit code and output. */
async function runImage(image: string, cmd: string[] = []): Promise<{ code: number; stdout: string }> {
  const r = await cli(['run', '--rm', image, ...cmd]);
  return { code: r.code, stdout: r.stdout };
}

// Differences of ocikit from buildah found by this test, named so that a change either way shows.
const KNOWN = {
  // buildah makes the directories of VOLUME instructions in the next RUN's layer; ocikit (as BuildKit) does not
  argsEnvVolumes: ['layer 1: buildah dir data 0755 0:0', 'layer 1: buildah dir opt/app/cache 0755 0:0'],
  // buildah moves a redefined variable to the end of Env; ocikit replaces it where it is (as BuildKit)
  argsEnvOrder: [
    'config Env: buildah ["APP_HOME=/opt/app","GREETING_ENV=hello","ALT=set","FALLBACK=fallback","PATH=/opt/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] ocikit ["PATH=/opt/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_HOME=/opt/app","GREETING_ENV=hello","ALT=set","FALLBACK=fallback"]',
  ],
  // useradd rewrites /etc/group- with the old /etc/group: other bytes, the same size and mtime (0, as in the
  // Debian test image); buildah's vfs diff compares size and mtime only and leaves it out (its image
  // keeps the stale backup); ocikit's overlay diff records it
  debianGroupBackup: ['layer 1: ocikit file etc/group- 0644 0:0 74842904631a5088'],
  // buildah leaves the parents of a cache mount's target in the RUN's layer; ocikit (as BuildKit) removes the mount points it made
  cacheMountParents: ['layer 1: buildah dir var 0755 0:0', 'layer 1: buildah dir var/cache 0755 0:0'],
};

describe('ocikit build beside buildah bud', () => {
  it('multi-stage: only the stages the target needs, COPY --from a stage (a file and a directory)', async () => {
    expect(await compareFixture('multi-stage')).toEqual([]);
    expect(await runImage('fx-multi-stage:1')).toEqual({ code: 0, stdout: 'built\n' });
  }, 120_000);

  it('args-env: ARG before FROM, VAR:-default and VAR:+alt expansion, every config field (Docker format, for HEALTHCHECK)', async () => {
    expect(await compareFixture('args-env', 'docker')).toEqual([
      ...KNOWN.argsEnvOrder,
      ...KNOWN.argsEnvVolumes,
    ]);
    expect(await runImage('fx-args-env:1')).toEqual({ code: 0, stdout: 'hello fallback\n' });
  }, 120_000);

  it('copy-chown: COPY of files and directories with --chown (numeric) and --chmod', async () => {
    expect(await compareFixture('copy-chown')).toEqual([]);
    const listed = await runImage('fx-copy-chown:1');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/drwxr-xr-x\s+\d+\s+1000\s+1000\s.*owned/);
    expect(listed.stdout).toMatch(/-rw-------\s+\d+\s+0\s+0\s.*private\.txt/);
  }, 120_000);

  it('whiteouts: files and directories of the base removed by RUN, a file added then removed', async () => {
    expect(await compareFixture('whiteouts')).toEqual([]);
    const listed = await runImage('fx-whiteouts:1', [
      'sh',
      '-c',
      'ls / /etc /tmp; test -e /bin/ps || echo no-ps',
    ]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toMatch(/^root$/m);
    expect(listed.stdout).not.toMatch(/^group$/m);
    expect(listed.stdout).not.toMatch(/^added$/m);
    expect(listed.stdout).toMatch(/^no-ps$/m);
  }, 120_000);

  it('user-workdir: WORKDIR made and relative, RUN as a numeric USER, USER root and back', async () => {
    expect(await compareFixture('user-workdir')).toEqual([]);
    const id = await runImage('fx-user-workdir:1', ['sh', '-c', 'id -u; pwd']);
    expect(id).toEqual({ code: 0, stdout: '1000\n/home/app/sub\n' });
  }, 120_000);

  it('heredoc: RUN <<EOF and COPY <<-EOT (buildah 1.28 builds the same without heredocs)', async () => {
    expect(await compareFixture('heredoc')).toEqual([]);
    const ran = await runImage('fx-heredoc:1', ['cat', '/opt/script/one', '/opt/script/two']);
    expect(ran).toEqual({ code: 0, stdout: 'first\nsecond\n' });
  }, 120_000);

  it('cache-mount: RUN --mount=type=cache keeps its files out of the layer and gives them to a later RUN', async () => {
    expect(await compareFixture('cache-mount')).toEqual(KNOWN.cacheMountParents);
    expect(await runImage('fx-cache-mount:1')).toEqual({ code: 0, stdout: 'cached\n' });
  }, 120_000);

  it('add-tar: ADD of a local tar (extracted, owners and modes kept), COPY --from an image, SHELL', async () => {
    expect(await compareFixture('add-tar')).toEqual([]);
    expect(await runImage('fx-add-tar:1')).toEqual({ code: 0, stdout: 'from the tar\nfrom the tar\n' });
  }, 120_000);

  it('debian: useradd in RUN, COPY --chown by user name, USER by name on the Debian image', async () => {
    if (!debianSeeded) {
      const debian = buildDebianImage();
      await buildah.seed(debian.layout, debian.ref, 'docker.io/library/debian:bookworm');
      const copied = await cli(['-q', 'copy', `oci:${debian.layout}:${debian.ref}`, 'local:debian:bookworm']);
      expect(copied.code, copied.stderr).toBe(0);
      debianSeeded = true;
    }
    expect(await compareFixture('debian')).toEqual(KNOWN.debianGroupBackup);
    const ran = await runImage('fx-debian:1', ['sh', '-c', 'id -un; cat app.txt']);
    expect(ran).toEqual({ code: 0, stdout: 'app\nfor the app user\n' });
  }, 600_000);
});
