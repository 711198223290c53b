// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words are written ${VAR}, not template literals
// build() end to end: real runc, the busybox test image in a temp state root's store, contexts in
// temp dirs; the images checked by unpacking their layers from the store, reading their layer tars
// and their configs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, fetchAll, type OciLayout, openLayout } from '@ocikit/content';
import { isAborted, isOcikitError } from '@ocikit/errors';
import type { Descriptor, ImageConfig, ImageManifest } from '@ocikit/image-spec';
import { defaultSnapshotter, nativeSnapshotter, unpackImage } from '@ocikit/snapshot';
import { buildBusyboxImage, buildDebianImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildOptions, build } from './builder.ts';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `ocikit-build-${name}-`));
let root: string;
let busyboxLayout: string;
let store: OciLayout;
const dirs: string[] = [];

beforeAll(async () => {
  root = tmp('root');
  const layout = join(tmp('bb'), 'layout');
  dirs.push(root, join(layout, '..'));
  buildBusyboxImage(layout, 'busybox');
  busyboxLayout = layout;
  store = await openLayout(join(root, 'content'), { create: true });
  await copy(await openLayout(layout), 'busybox', store, 'docker.io/library/busybox:latest');
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A context dir with these files (and a Dockerfile). */
function context(dockerfile: string, files: Record<string, string> = {}): string {
  const dir = tmp('ctx');
  dirs.push(dir);
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const run = (ctx: string, extra: Partial<BuildOptions> = {}) =>
  build({ context: ctx, root, network: 'none', ...extra });

async function manifestOf(desc: Descriptor): Promise<ImageManifest> {
  return JSON.parse(Buffer.from(await fetchAll(store, desc)).toString('utf8')) as ImageManifest;
}

async function configOf(desc: Descriptor): Promise<ImageConfig> {
  return JSON.parse(Buffer.from(await fetchAll(store, desc)).toString('utf8')) as ImageConfig;
}

/** The image's files, unpacked from its layers in the store. */
async function unpacked(manifest: Descriptor): Promise<string> {
  const dir = join(tmp('unpack'), 'rootfs');
  dirs.push(join(dir, '..'));
  await unpackImage(store, manifest, dir);
  return dir;
}

/** The entries of a layer tar (`tar -tvzf`), names only. */
function layerEntries(layer: Descriptor): string[] {
  const path = join(store.path, 'blobs', ...layer.digest.split(':'));
  return execFileSync('tar', ['-tzf', path], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** The build's failure, or a failure of the test. */
async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; reason: unknown; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (!isOcikitError(e)) throw e;
    return { name: e.name, reason: e.details['reason'], message: e.message, details: { ...e.details } };
  }
  throw new Error('the build did not fail');
}

async function activeSnapshots(): Promise<string[]> {
  const snapshotter = defaultSnapshotter(join(root, 'snapshots'));
  return (await snapshotter.list()).filter((s) => s.kind !== 'committed').map((s) => s.name);
}

describe('build', () => {
  it('builds a multi-stage image: ARG/ENV expansion, COPY --chown/--from, USER, WORKDIR, config semantics', async () => {
    const ctx = context(
      [
        'ARG BASE=busybox',
        'FROM ${BASE} AS build',
        'ARG GREETING=hello',
        'ENV WHO=world DIR=/out',
        'WORKDIR $DIR',
        'RUN echo "$GREETING $WHO" > greeting.txt && mkdir sub && echo x > sub/x',
        'COPY --chown=1000:1000 app.txt ./app/',
        '',
        'FROM busybox AS unused',
        'RUN exit 1',
        '',
        'FROM ${BASE}',
        'ENV PATH=/usr/bin:/bin A=1 B=${A:-none}',
        'COPY --from=build /out/ /srv/',
        'COPY --from=build --chown=7:8 /out/greeting.txt /srv/owned.txt',
        'COPY --chown=1234 app.txt /srv/numeric.txt',
        'WORKDIR /srv',
        'USER 1000:1000',
        'LABEL maintainer="ocikit tests" version=1',
        'EXPOSE 8080 53/udp',
        'VOLUME /data',
        'STOPSIGNAL SIGINT',
        'CMD ["cat", "greeting.txt"]',
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'HEALTHCHECK --interval=30s --retries=2 CMD true',
        '',
      ].join('\n'),
      { 'app.txt': 'app\n' },
    );
    const result = await run(ctx, { tags: ['built:multi'] });
    expect(result.steps.some((s) => s.stage === 'unused')).toBe(false);
    const config = await configOf(result.config);
    expect(config.config).toMatchObject({
      Env: ['PATH=/usr/bin:/bin', 'A=1', 'B=none'],
      WorkingDir: '/srv',
      User: '1000:1000',
      Labels: { maintainer: 'ocikit tests', version: '1' },
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      StopSignal: 'SIGINT',
      Entrypoint: ['/bin/sh', '-c'],
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Retries: 2 },
    });
    // ENTRYPOINT after CMD in the same stage keeps it
    expect(config.config?.Cmd).toEqual(['cat', 'greeting.txt']);
    const history = config.history ?? [];
    expect(history.at(-1)).toMatchObject({
      created_by: '/bin/sh -c #(nop) HEALTHCHECK --interval=30s --retries=2 CMD true',
      empty_layer: true,
    });
    expect(
      history.some((h) => h.created_by?.startsWith('/bin/sh -c #(nop) COPY dir:') && !h.empty_layer),
    ).toBe(true);
    expect(await store.resolve('docker.io/library/built:multi')).toMatchObject({
      digest: result.manifest.digest,
    });
    expect((await manifestOf(result.manifest)).annotations).toEqual({
      'org.opencontainers.image.base.name': 'docker.io/library/busybox:latest',
      'org.opencontainers.image.base.digest': (await store.resolve('docker.io/library/busybox:latest'))
        .digest,
    });

    const fs = await unpacked(result.manifest);
    expect(readFileSync(join(fs, 'srv/greeting.txt'), 'utf8')).toBe('hello world\n');
    expect(readFileSync(join(fs, 'srv/sub/x'), 'utf8')).toBe('x\n');
    expect(readFileSync(join(fs, 'srv/app/app.txt'), 'utf8')).toBe('app\n');
    const stat = (p: string) =>
      execFileSync('stat', ['-c', '%u:%g %a', join(fs, p)], { encoding: 'utf8' }).trim();
    // --from keeps the owners of the stage's files; --chown sets them
    expect(stat('srv/app/app.txt')).toBe('1000:1000 644');
    expect(stat('srv/greeting.txt')).toBe('0:0 644');
    expect(stat('srv/owned.txt')).toBe('7:8 644');
    // a uid without a group: the same number as gid (Docker, buildah)
    expect(stat('srv/numeric.txt')).toBe('1234:1234 644');
  });

  it('writes whiteouts for files a RUN removes, runs heredocs, and records buildah history wording', async () => {
    const ctx = context(
      [
        'FROM busybox',
        'ARG FLAVOR=plain',
        'RUN rm /etc/group && rm -r /root',
        'RUN <<EOF',
        'echo "from a heredoc: $FLAVOR" > /heredoc.txt',
        'EOF',
        'RUN cat > /cat.txt <<EOT',
        'line one',
        'EOT',
        '',
      ].join('\n'),
    );
    const result = await run(ctx, { buildArgs: { FLAVOR: 'spicy' } });
    const manifest = await manifestOf(result.manifest);
    const rm = manifest.layers[1] as Descriptor;
    expect(layerEntries(rm).sort()).toEqual(['etc/', 'etc/.wh.group', '.wh.root'].sort());
    const config = await configOf(result.config);
    expect(config.history?.slice(-4).map((h) => h.created_by)).toEqual([
      '/bin/sh -c #(nop) ARG FLAVOR',
      '|1 FLAVOR=spicy /bin/sh -c rm /etc/group && rm -r /root',
      '|1 FLAVOR=spicy /bin/sh -c <<EOF',
      '|1 FLAVOR=spicy /bin/sh -c cat > /cat.txt <<EOT',
    ]);
    const fs = await unpacked(result.manifest);
    expect(readFileSync(join(fs, 'heredoc.txt'), 'utf8')).toBe('from a heredoc: spicy\n');
    expect(readFileSync(join(fs, 'cat.txt'), 'utf8')).toBe('line one\n');
  });

  it('runs a RUN heredoc with a shebang as a script file', async () => {
    const ctx = context('FROM busybox\nRUN <<EOF\n#!/bin/sh -e\necho "$0" > /script-name\nEOF\n');
    const result = await run(ctx);
    const fs = await unpacked(result.manifest);
    expect(readFileSync(join(fs, 'script-name'), 'utf8')).toBe('/dev/pipes/script\n');
    const manifest = await manifestOf(result.manifest);
    expect(layerEntries(manifest.layers.at(-1) as Descriptor)).toEqual(['script-name']);
  });

  it('reuses every step of an unchanged rebuild (no RUN runs), and a changed file invalidates from its COPY on', async () => {
    const id = `hits-${Date.now()}`;
    const ctx = context(
      [
        'FROM busybox',
        `RUN --mount=type=cache,target=/c,id=${id} echo ran >> /c/first`,
        'COPY a.txt /a.txt',
        `RUN --mount=type=cache,target=/c,id=${id} echo ran >> /c/second`,
        'COPY b.txt /b.txt',
        '',
      ].join('\n'),
      { 'a.txt': 'a1\n', 'b.txt': 'b\n' },
    );
    const first = await run(ctx);
    expect(first.steps.map((s) => s.cached)).toEqual([false, false, false, false]);
    const second = await run(ctx);
    expect(second.steps.map((s) => s.cached)).toEqual([true, true, true, true]);
    expect(second.manifest.digest).toBe(first.manifest.digest);
    writeFileSync(join(ctx, 'a.txt'), 'a2\n');
    const third = await run(ctx);
    expect(third.steps.map((s) => s.cached)).toEqual([true, false, false, false]);
    // the side effects in the shared cache mount: the first RUN ran once, the second twice
    const mount = (name: string) =>
      execFileSync('sh', ['-c', `cat ${join(root, 'build', 'cache-mounts')}/*/${name}`], {
        encoding: 'utf8',
      });
    expect(mount('first')).toBe('ran\n');
    expect(mount('second')).toBe('ran\nran\n');
    expect(await activeSnapshots()).toEqual([]);
  });

  it('reruns a COPY --from when the stage it copies from changed, and only then', async () => {
    const ctx = context(
      'FROM busybox AS a\nCOPY a.txt /a.txt\nFROM busybox\nCOPY --from=a /a.txt /copied.txt\n',
      {
        'a.txt': 'one\n',
      },
    );
    await run(ctx);
    expect((await run(ctx)).steps.map((s) => s.cached)).toEqual([true, true]);
    writeFileSync(join(ctx, 'a.txt'), 'two\n');
    const changed = await run(ctx);
    expect(changed.steps.map((s) => s.cached)).toEqual([false, false]);
    expect(readFileSync(join(await unpacked(changed.manifest), 'copied.txt'), 'utf8')).toBe('two\n');
  });

  it('gives the same digest twice with SOURCE_DATE_EPOCH, without the cache', async () => {
    const ctx = context(
      ['FROM busybox', 'RUN echo hi > /hi && mkdir -p /var/x', 'COPY f /f', 'ENV X=1', ''].join('\n'),
      {
        f: 'f\n',
      },
    );
    const a = await run(ctx, { sourceDateEpoch: 1_700_000_000, noCache: true });
    const b = await run(ctx, { sourceDateEpoch: 1_700_000_000, noCache: true });
    expect(b.steps.every((s) => !s.cached)).toBe(true);
    expect(b.manifest.digest).toBe(a.manifest.digest);
    const config = await configOf(a.config);
    expect(config.created).toBe('2023-11-14T22:13:20Z');
    const docker = await run(ctx, { sourceDateEpoch: 1_700_000_000, format: 'docker' });
    expect(docker.manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(
      (await manifestOf(docker.manifest)).layers.every(
        (l) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      ),
    ).toBe(true);
  });

  it('removes what a build killed mid-step left in its temp dir', async () => {
    const stale = join(root, 'build', 'tmp', 'b-999999999-dead');
    mkdirSync(join(stale, 'rootfs-x'), { recursive: true });
    await run(context('FROM busybox\nENV STALE=1\n'));
    expect(existsSync(stale)).toBe(false);
  });

  it('fetches ADD URLs it can reach, checking --checksum', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('Last-Modified', 'Tue, 14 Nov 2023 22:13:20 GMT');
      res.end('fetched\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir/file.txt`;
    try {
      const sum = `sha256:${createHash('sha256').update('fetched\n').digest('hex')}`;
      const result = await run(context(`FROM busybox\nADD --checksum=${sum} ${url} /srv/\n`));
      const fs = await unpacked(result.manifest);
      expect(readFileSync(join(fs, 'srv/file.txt'), 'utf8')).toBe('fetched\n');
      expect(execFileSync('stat', ['-c', '%a', join(fs, 'srv/file.txt')], { encoding: 'utf8' }).trim()).toBe(
        '600',
      );
      expect(execFileSync('stat', ['-c', '%Y', join(fs, 'srv/file.txt')], { encoding: 'utf8' }).trim()).toBe(
        '1700000000',
      );
      const wrong = `sha256:${'0'.repeat(64)}`;
      expect(
        await failure(run(context(`FROM busybox\nADD --checksum=${wrong} ${url} /srv/\n`))),
      ).toMatchObject({
        name: 'DataLossError',
        reason: 'checksum-mismatch',
      });
      expect(
        await failure(run(context(`FROM busybox\nADD --checksum=${sum} f /f\n`, { f: 'f\n' }))),
      ).toMatchObject({
        reason: 'bad-instruction',
      });
    } finally {
      server.close();
    }
  });

  it('stops at a failing RUN: its exit code and last output, nothing tagged, no snapshot left', async () => {
    const ctx = context(
      ['FROM busybox', 'RUN echo one; echo "it broke" >&2; exit 3', 'RUN echo never', ''].join('\n'),
    );
    const before = (await store.list()).length;
    const f = await failure(run(ctx, { tags: ['broken:1'] }));
    expect(f).toMatchObject({
      name: 'FailedPreconditionError',
      reason: 'run-failed',
      details: { exitCode: 3, line: 2 },
    });
    // stdout and stderr are two pipes: their lines may come in either order
    expect(String(f.details['output']).split('\n').sort()).toEqual(['it broke', 'one']);
    expect((await store.list()).length).toBe(before);
    expect(await activeSnapshots()).toEqual([]);
  });

  it('removes the container and snapshot of a RUN interrupted by its signal', async () => {
    const ctx = context(['FROM busybox', 'RUN echo started; sleep 30', ''].join('\n'));
    const controller = new AbortController();
    const started = Date.now();
    const p = run(ctx, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'output') controller.abort();
      },
    });
    await expect(p).rejects.toSatisfy(isAborted);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await activeSnapshots()).toEqual([]);
    const left = execFileSync('runc', ['--root', join(root, 'build', 'runtime'), 'list', '-q'], {
      encoding: 'utf8',
    });
    expect(left.trim()).toBe('');
  });

  it('stops a RUN whose abort comes while its container is being made', async () => {
    for (const delay of [5, 20, 40]) {
      const ctx = context(`FROM busybox\nRUN sleep 30 # ${delay}\n`);
      const controller = new AbortController();
      const started = Date.now();
      const p = run(ctx, {
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'step') setTimeout(() => controller.abort(), delay);
        },
      });
      await expect(p).rejects.toSatisfy(isAborted);
      // well before the step's 30 s, with room for a loaded machine (10 s each left little)
      expect(Date.now() - started).toBeLessThan(20_000);
    }
    expect(await activeSnapshots()).toEqual([]);
  }, 120_000);

  it('asks pull for a base image the store does not have', async () => {
    const asked: string[] = [];
    const result = await run(context('FROM example.com/tools/busybox:2\nRUN true\n'), {
      pull: async (ref, { platform }) => {
        asked.push(`${ref} ${platform.os}/${platform.architecture}`);
        await copy(await openLayout(busyboxLayout), 'busybox', store, ref);
      },
    });
    expect(asked).toEqual([
      `example.com/tools/busybox:2 linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
    ]);
    expect(result.steps).toHaveLength(1);
  });

  it('needs no runtime for a build without RUN, and names a missing one at the first RUN', async () => {
    const missing = { runtime: '/nonexistent/runc' };
    await run(context('FROM busybox\nCOPY f /f\nENV A=1\n', { f: 'f\n' }), missing);
    expect(
      await failure(run(context('FROM busybox\nRUN true\n'), { ...missing, noCache: true })),
    ).toMatchObject({
      name: 'FailedPreconditionError',
      reason: 'runtime-not-installed',
    });
  });

  it('refuses sources outside the context, symlinks leaving it, cycles, and missing bases', async () => {
    const outside = context('FROM busybox\nCOPY ../secret /x\n');
    expect(await failure(run(outside))).toMatchObject({
      name: 'InvalidArgumentError',
      reason: 'source-outside-context',
    });
    const linked = context('FROM busybox\nCOPY link /x\n');
    symlinkSync('/etc/passwd', join(linked, 'link'));
    expect(await failure(run(linked))).toMatchObject({
      name: 'InvalidArgumentError',
      reason: 'source-outside-context',
    });
    const missing = context('FROM busybox\nCOPY nothing-here /x\n');
    expect(await failure(run(missing))).toMatchObject({ name: 'NotFoundError', reason: 'source-not-found' });
    const cycle = context('FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n');
    expect(await failure(run(cycle))).toMatchObject({
      name: 'FailedPreconditionError',
      reason: 'stage-cycle',
    });
    const base = context('FROM example.com/not/here:1\nRUN true\n');
    expect(await failure(run(base))).toMatchObject({
      name: 'FailedPreconditionError',
      reason: 'base-not-found',
    });
    expect(await failure(run(context('FROM busybox\n'), { target: 'nope' }))).toMatchObject({
      reason: 'stage-not-found',
    });
    expect(await failure(run(context('FROM busybox\n'), { platform: 'linux/s390x' }))).toMatchObject({
      reason: 'platform-unsupported',
    });
    expect(await failure(run(context('FROM busybox\nFETCH x\n')))).toMatchObject({
      name: 'InvalidArgumentError',
    });
    expect(await failure(run(context('RUN true\n')))).toMatchObject({ name: 'InvalidArgumentError' });
    // a parse error names the file the build was given, not always "Dockerfile"
    const named = context('', { 'app.Containerfile': 'FROM busybox\nFETCH x\n' });
    expect((await failure(run(named, { file: 'app.Containerfile' }))).message).toContain(
      'app.Containerfile:2',
    );
    expect(await failure(run(context('FROM busybox\nCOPY --exclude=*.md . /x\n')))).toMatchObject({
      reason: 'bad-instruction',
    });
    expect(
      await failure(run(context('FROM busybox\nRUN --mount=type=cache,target=/c,from=x true\n'))),
    ).toMatchObject({
      reason: 'bad-instruction',
    });
    expect(await failure(run(context('FROM busybox\nRUN --mount=type=secret,id=x true\n')))).toMatchObject({
      reason: 'bad-instruction',
    });
    expect(await failure(run(context('FROM busybox\nRUN ["no-such-command"]\n')))).toMatchObject({
      reason: 'run-failed',
      details: { exitCode: 127 },
    });
    const url = context('FROM busybox\nADD http://127.0.0.1:1/file.txt /file.txt\n');
    expect(await failure(run(url))).toMatchObject({ name: 'UnavailableError', reason: 'remote-unreachable' });
  });
  it('filters the context by .dockerignore, unpacks local tars, copies heredocs, mounts binds and tmpfs, runs ONBUILD, exports', async () => {
    const ctx = context(
      [
        'FROM busybox AS base',
        'ONBUILD RUN echo triggered > /onbuild.txt',
        'CMD ["base-cmd"]',
        '',
        'FROM base',
        'ARG NAME=builder',
        'ENTRYPOINT ["/bin/echo"]',
        'COPY . /ctx/',
        'ADD files.tar.gz /unpacked/',
        'COPY <<EOF /etc/motd',
        'hello $NAME',
        'EOF',
        'RUN --mount=type=bind,source=data,target=/mnt/data --mount=type=tmpfs,target=/scratch cp /mnt/data/d.txt /from-bind.txt && touch /scratch/gone',
        '',
      ].join('\n'),
      {
        '.dockerignore': '*.log\nsecret\n!secret/keep\n',
        'keep.txt': 'keep\n',
        'ignored.log': 'no\n',
        'secret/hidden': 'no\n',
        'secret/keep': 'yes\n',
        'data/d.txt': 'bound\n',
        'tar/inner/file.txt': 'in a tar\n',
      },
    );
    execFileSync('tar', [
      '-czf',
      join(ctx, 'files.tar.gz'),
      '--owner=123',
      '--group=456',
      '-C',
      join(ctx, 'tar'),
      'inner',
    ]);
    const out = tmp('out');
    dirs.push(out);
    const result = await run(ctx, {
      exports: [
        { type: 'oci', path: join(out, 'layout'), ref: 'v1' },
        { type: 'docker-archive', path: join(out, 'image.tar'), ref: 'exported:1' },
      ],
    });
    const config = await configOf(result.config);
    expect(config.config?.Entrypoint).toEqual(['/bin/echo']);
    expect(config.config?.Cmd).toBeUndefined();
    expect(config.config?.['OnBuild']).toBeUndefined();
    const fs = await unpacked(result.manifest);
    expect(readFileSync(join(fs, 'onbuild.txt'), 'utf8')).toBe('triggered\n');
    expect(
      execFileSync('find', ['ctx', '-type', 'f'], { cwd: fs, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .sort(),
    ).toEqual([
      'ctx/.dockerignore',
      'ctx/Dockerfile',
      'ctx/data/d.txt',
      'ctx/files.tar.gz',
      'ctx/keep.txt',
      'ctx/secret/keep',
      'ctx/tar/inner/file.txt',
    ]);
    expect(readFileSync(join(fs, 'unpacked/inner/file.txt'), 'utf8')).toBe('in a tar\n');
    expect(
      execFileSync('stat', ['-c', '%u:%g', join(fs, 'unpacked/inner/file.txt')], { encoding: 'utf8' }).trim(),
    ).toBe('123:456');
    expect(readFileSync(join(fs, 'etc/motd'), 'utf8')).toBe('hello builder\n');
    // the RUN's layer holds its file, not the mount points the runtime had to make
    const manifest = await manifestOf(result.manifest);
    expect(layerEntries(manifest.layers.at(-1) as Descriptor)).toEqual(['from-bind.txt']);
    expect(readFileSync(join(fs, 'from-bind.txt'), 'utf8')).toBe('bound\n');
    const index = JSON.parse(readFileSync(join(out, 'layout', 'index.json'), 'utf8')) as {
      manifests: Descriptor[];
    };
    expect(index.manifests[0]).toMatchObject({
      digest: result.manifest.digest,
      annotations: { 'org.opencontainers.image.ref.name': 'v1' },
    });
    const saved = JSON.parse(
      execFileSync('tar', ['-xOf', join(out, 'image.tar'), 'manifest.json'], { encoding: 'utf8' }),
    );
    expect(saved[0].RepoTags).toEqual(['docker.io/library/exported:1']);
  });

  it('runs RUN on the host network by default, leaving no mount point in the layer', async () => {
    const ctx = context(
      'FROM busybox\nRUN [ $(cat /proc/net/dev | wc -l) -gt 3 ] && test -s /etc/resolv.conf && test -s /etc/hosts && echo ok > /ok\n',
    );
    const result = await build({ context: ctx, root });
    const manifest = await manifestOf(result.manifest);
    expect(layerEntries(manifest.layers.at(-1) as Descriptor)).toEqual(['ok']);
  });

  it('builds FROM scratch with COPY --from an image and a stage index', async () => {
    const ctx = context(
      [
        'FROM busybox',
        'RUN echo zero > /zero',
        '',
        'FROM scratch',
        'COPY --from=busybox /bin/busybox /bin/busybox',
        'COPY --from=0 /zero /zero',
        '',
      ].join('\n'),
    );
    const result = await run(ctx);
    const manifest = await manifestOf(result.manifest);
    expect(manifest.layers.map(layerEntries)).toEqual([['bin/', 'bin/busybox'], ['zero']]);
    const config = await configOf(result.config);
    expect(config.rootfs.diff_ids).toHaveLength(2);
    expect(config.history?.map((h) => h.empty_layer ?? false)).toEqual([false, false]);
  });

  it('takes the ignore file beside a named Dockerfile over the context one', async () => {
    const ctx = context('', {
      'build/app.Dockerfile': 'FROM busybox\nCOPY . /ctx/\n',
      'build/app.Dockerfile.dockerignore': 'b.txt\nbuild\n',
      '.dockerignore': 'a.txt\n',
      'a.txt': 'a\n',
      'b.txt': 'b\n',
    });
    const result = await run(ctx, { file: 'build/app.Dockerfile' });
    const manifest = await manifestOf(result.manifest);
    expect(layerEntries(manifest.layers.at(-1) as Descriptor).sort()).toEqual([
      'ctx/',
      'ctx/.dockerignore',
      'ctx/Dockerfile',
      'ctx/a.txt',
    ]);
  });

  it('works on the native snapshotter too (layers diffed against a view of the parent)', async () => {
    const ctx = context('FROM busybox\nRUN rm /etc/group && echo n > /n\nCOPY f /f\n', { f: 'f\n' });
    const native = nativeSnapshotter(join(root, 'native-snapshots'));
    const result = await run(ctx, { snapshotter: native, noCache: true });
    const manifest = await manifestOf(result.manifest);
    expect(manifest.layers.slice(1).map((l) => layerEntries(l).sort())).toEqual([
      ['etc/.wh.group', 'n'],
      ['f'],
    ]);
    expect((await native.list()).filter((s) => s.kind !== 'committed')).toEqual([]);
  });

  it('runs RUN with crun as well', async () => {
    const ctx = context('FROM busybox\nRUN echo crun > /runtime\n');
    const result = await run(ctx, { runtime: 'crun', noCache: true });
    const manifest = await manifestOf(result.manifest);
    expect(layerEntries(manifest.layers.at(-1) as Descriptor)).toEqual(['runtime']);
  });

  it('serializes RUNs on a cache mount with sharing=locked', async () => {
    const id = `locked-${Date.now()}`;
    const ctx = context(
      `FROM busybox\nRUN --mount=type=cache,target=/c,id=${id},sharing=locked echo start >> /c/log && sleep 0.3 && echo end >> /c/log\n`,
    );
    await Promise.all([run(ctx, { noCache: true }), run(ctx, { noCache: true })]);
    const log = execFileSync('sh', ['-c', `cat ${join(root, 'build', 'cache-mounts')}/*/log`], {
      encoding: 'utf8',
    });
    expect(log).toBe('start\nend\nstart\nend\n');
  });

  it('lets two builds of the same steps run at once', async () => {
    const ctx = context(['FROM busybox', 'RUN echo same > /same && sleep 0.2', 'COPY f /f', ''].join('\n'), {
      f: 'f\n',
    });
    const [a, b] = await Promise.all([
      run(ctx, { sourceDateEpoch: 1_600_000_000 }),
      run(ctx, { sourceDateEpoch: 1_600_000_000 }),
    ]);
    expect(a.manifest.digest).toBe(b.manifest.digest);
    expect(await activeSnapshots()).toEqual([]);
    expect((await run(ctx, { sourceDateEpoch: 1_600_000_000 })).steps.every((s) => s.cached)).toBe(true);
  });

  it('builds on the Debian image: USER and --chown by name, RUN as that user', async () => {
    const debian = buildDebianImage();
    await copy(await openLayout(debian.layout), debian.ref, store, 'docker.io/library/debian:test');
    const ctx = context(
      [
        'FROM debian:test',
        'COPY --chown=nobody:nogroup f /home/f',
        'USER nobody',
        'WORKDIR /tmp/work',
        'RUN id -un > whoami && stat -c %U:%G /home/f >> whoami',
        '',
      ].join('\n'),
      { f: 'f\n' },
    );
    const result = await run(ctx);
    const config = await configOf(result.config);
    expect(config.config).toMatchObject({ User: 'nobody', WorkingDir: '/tmp/work' });
    const fs = await unpacked(result.manifest);
    expect(readFileSync(join(fs, 'tmp/work/whoami'), 'utf8')).toBe('nobody\nnobody:nogroup\n');
  }, 120_000);
});
