import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InvalidArgumentError, isAborted, isInvalidArgument } from '@ocikit/errors';
import type { ImageConfig } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveUser, specFromImageConfig } from './convert.ts';
import { defaultRootlessSpec, defaultSpec } from './defaults.ts';
import { parseFeatures, parseSpec, parseState } from './parse.ts';
import { resolveInRoot } from './rootfs.ts';
import { buildSchemas } from './schema.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-rs-'));

function runcSpec(...flags: string[]): unknown {
  const dir = tmp();
  execFileSync('runc', ['spec', ...flags], { cwd: dir });
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
}

describe('defaultSpec', () => {
  it('is exactly what the real `runc spec` writes', () => {
    expect(defaultSpec()).toEqual(runcSpec());
    expect(() => parseSpec(defaultSpec())).not.toThrow();
  });

  it('has a rootless variant equal to `runc spec --rootless`', () => {
    expect(defaultRootlessSpec()).toEqual(runcSpec('--rootless'));
  });

  it('returns a fresh object each time', () => {
    const a = defaultSpec();
    a.process!.args = ['x'];
    expect(defaultSpec().process!.args).toEqual(['sh']);
  });
});

describe('parseFeatures and parseState on real runtime output', () => {
  // crun 1.8 (Debian 12) has no `features` command; runc 1.1 does.
  it('parses `runc features`', () => {
    const features = parseFeatures(execFileSync('runc', ['features']));
    expect(features.ociVersionMin).toMatch(/^1\./);
    expect(features.mountOptions).toContain('bind');
  });

  it('rejects a state with an unknown status and names the field', () => {
    expect(() => parseState({ ociVersion: '1.0.2', id: 'x', status: 'frozen', bundle: '/b' })).toThrow(
      /status/,
    );
    expect(parseState({ ociVersion: '1.0.2', id: 'x', status: 'running', pid: 42, bundle: '/b' }).pid).toBe(
      42,
    );
  });

  it('names every problem of a broken config with its path', () => {
    const bad = defaultSpec() as unknown as { process: { cwd: unknown; rlimits: { type: string }[] } };
    bad.process.cwd = 7;
    bad.process.rlimits[0]!.type = 'nofile';
    let issues: string[] = [];
    try {
      parseSpec(bad);
    } catch (e) {
      issues = (e as { details: { issues: string[] } }).details.issues;
    }
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^process\.cwd: .* \(got 7\)$/),
        expect.stringMatching(/^process\.rlimits\[0\]\.type: .* \(got "nofile"\)$/),
      ]),
    );
    expect(() => parseSpec('{]')).toThrow(/malformed JSON/);
    expect(() => parseSpec({ ociVersion: 1, hostname: 2, domainname: 3, mounts: 4 })).toThrow(
      /^invalid runtime config: ociVersion: .*; hostname: .*; domainname: .*; and 1 more$/,
    );
  });
});

function rootfs(): string {
  const root = tmp();
  mkdirSync(join(root, 'etc'));
  writeFileSync(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n# comment\nbob:x:1001:100::/:/bin/sh\n',
  );
  writeFileSync(
    join(root, 'etc', 'group'),
    'root:x:0:\nalice:x:1000:\nusers:x:100:\nwheel:x:10:alice,bob\naudio:x:29:alice\n',
  );
  return root;
}

describe('resolveUser', () => {
  const root = rootfs();
  it.each([
    ['', { uid: 0, gid: 0 }],
    ['alice', { uid: 1000, gid: 1000, additionalGids: [10, 29] }],
    // conversion.md: no additionalGids for a numeric user; the primary gid comes from /etc/passwd.
    ['1000', { uid: 1000, gid: 1000 }],
    ['bob:users', { uid: 1001, gid: 100 }],
    ['1001:10', { uid: 1001, gid: 10 }],
    ['alice:100', { uid: 1000, gid: 100 }],
    ['4242', { uid: 4242, gid: 0 }],
    ['4242:4243', { uid: 4242, gid: 4243 }],
  ])('"%s"', async (value, expected) => {
    expect(await resolveUser(value, root)).toEqual(expected);
  });

  it('names a user or group that does not exist', async () => {
    await expect(resolveUser('mallory', root)).rejects.toThrow(
      `user "mallory": not found in ${root}/etc/passwd`,
    );
    await expect(resolveUser('alice:nogroup', root)).rejects.toThrow(
      `group "nogroup": not found in ${root}/etc/group`,
    );
    const caught = await resolveUser('mallory', root).catch((e: unknown) => e);
    expect(isInvalidArgument(caught)).toBe(true);
    expect((caught as { details: unknown }).details).toEqual({
      user: 'mallory',
      file: '/etc/passwd',
      reason: 'user-not-found',
    });
  });

  it('rejects IDs beyond 32 bits and a group part that is not a group', async () => {
    await expect(resolveUser('4294967296', undefined)).rejects.toThrow(
      /uid 4294967296 does not fit in 32 bits/,
    );
    await expect(resolveUser('0:4294967296', undefined)).rejects.toThrow(/gid 4294967296 does not fit/);
    expect(await resolveUser('4294967295:4294967295', undefined)).toEqual({
      uid: 4294967295,
      gid: 4294967295,
    });
    await expect(resolveUser('alice:users:extra', root)).rejects.toThrow(/group "users:extra": not found/);
  });

  it('reports an /etc/passwd that is a directory', async () => {
    const odd = tmp();
    mkdirSync(join(odd, 'etc', 'passwd'), { recursive: true });
    await expect(resolveUser('alice', odd)).rejects.toThrow(
      `/etc/passwd in ${odd} is a directory, not a file`,
    );
  });

  it('stops when aborted, with an AbortedError', async () => {
    const controller = new AbortController();
    controller.abort();
    const caught = await resolveUser('alice', root, { signal: controller.signal }).catch((e: unknown) => e);
    expect(isAborted(caught)).toBe(true);
    const viaConvert = await specFromImageConfig(
      {
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
        config: { User: 'alice', Cmd: ['x'] },
      },
      { rootfs: root, signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(isAborted(viaConvert)).toBe(true);
  });

  it('says when the file itself is missing, and accepts numeric IDs without it', async () => {
    const empty = tmp();
    await expect(resolveUser('alice', empty)).rejects.toThrow(`/etc/passwd does not exist in ${empty}`);
    await expect(resolveUser('alice', undefined)).rejects.toThrow(/no root file system was given/);
    expect(await resolveUser('1000', empty)).toEqual({ uid: 1000, gid: 0 });
    expect(await resolveUser('1000:5', empty)).toEqual({ uid: 1000, gid: 5 });
    await expect(resolveUser('1000:staff', empty)).rejects.toThrow(`/etc/group does not exist in ${empty}`);
  });

  it('resolves numeric users without a root file system', async () => {
    expect(await resolveUser('5:6', undefined)).toEqual({ uid: 5, gid: 6 });
  });

  it('never reads /etc/passwd outside the root through a symlink', async () => {
    const host = join(tmp(), 'passwd');
    writeFileSync(host, 'mallory:x:0:0::/:/bin/sh\n');
    const absolute = tmp();
    mkdirSync(join(absolute, 'etc'));
    symlinkSync(host, join(absolute, 'etc', 'passwd'));
    await expect(resolveUser('mallory', absolute)).rejects.toThrow(
      /user "mallory": \/etc\/passwd does not exist in/,
    );
    const relative = tmp();
    mkdirSync(join(relative, 'etc'));
    symlinkSync(`../../../../../../../..${host}`, join(relative, 'etc', 'passwd'));
    await expect(resolveUser('mallory', relative)).rejects.toThrow(
      /user "mallory": \/etc\/passwd does not exist in/,
    );
    // The same link resolved inside the root finds the file planted there.
    mkdirSync(join(relative, host, '..'), { recursive: true });
    writeFileSync(join(relative, host), 'mallory:x:7:8::/:/bin/sh\n');
    expect(await resolveUser('mallory', relative)).toEqual({ uid: 7, gid: 8 });
  });
});

describe('specFromImageConfig (conversion.md)', () => {
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    author: 'ocikit',
    rootfs: { type: 'layers', diff_ids: [] },
    config: {
      User: 'alice',
      Env: ['FOO=bar', 'HOME=/home/alice'],
      Entrypoint: ['/bin/entry'],
      Cmd: ['--flag'],
      WorkingDir: '/work',
      StopSignal: 'SIGINT',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
    },
  };

  it('maps Entrypoint + Cmd, Env (adding PATH), WorkingDir, User and the annotations', async () => {
    const spec = await specFromImageConfig(config, { rootfs: rootfs() });
    expect(spec.process).toMatchObject({
      args: ['/bin/entry', '--flag'],
      env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'FOO=bar',
        'HOME=/home/alice',
      ],
      cwd: '/work',
      terminal: false,
      user: { uid: 1000, gid: 1000, additionalGids: [10, 29] },
    });
    expect(spec.annotations).toEqual({
      'org.opencontainers.image.os': 'linux',
      'org.opencontainers.image.architecture': 'amd64',
      'org.opencontainers.image.author': 'ocikit',
      'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
      'org.opencontainers.image.stopSignal': 'SIGINT',
      'org.opencontainers.image.exposedPorts': '80/tcp,53/udp',
    });
    expect(() => parseSpec(spec)).not.toThrow();
  });

  it('applies overrides like docker run', async () => {
    const spec = await specFromImageConfig(config, {
      rootfs: rootfs(),
      args: ['echo', 'hi'],
      env: ['FOO=baz', 'NEW=1'],
      cwd: '/',
      user: '0:0',
      terminal: true,
    });
    expect(spec.process?.args).toEqual(['/bin/entry', 'echo', 'hi']);
    expect(spec.process?.env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'FOO=baz',
      'HOME=/home/alice',
      'TERM=xterm',
      'NEW=1',
    ]);
    expect(spec.process?.user).toEqual({ uid: 0, gid: 0 });
    const noEntry = await specFromImageConfig(config, { rootfs: rootfs(), entrypoint: ['/bin/sh'] });
    expect(noEntry.process?.args).toEqual(['/bin/sh']);
  });

  it('copies Config.Labels into annotations, winning over the implicit ones, unless omitted', async () => {
    const labelled: ImageConfig = {
      ...config,
      config: {
        ...config.config,
        Labels: { 'org.opencontainers.image.author': 'label author', 'run.oci.hooks': 'x', team: 'a' },
      },
    };
    const spec = await specFromImageConfig(labelled, { rootfs: rootfs() });
    expect(spec.annotations?.['org.opencontainers.image.author']).toBe('label author');
    expect(spec.annotations?.team).toBe('a');
    expect(spec.annotations?.['run.oci.hooks']).toBe('x');
    expect(spec.annotations?.['org.opencontainers.image.os']).toBe('linux');
    const safe = await specFromImageConfig(labelled, {
      rootfs: rootfs(),
      omitLabel: (key) => key.startsWith('run.oci.'),
    });
    expect(safe.annotations?.['run.oci.hooks']).toBeUndefined();
    expect(safe.annotations?.team).toBe('a');
  });

  it('keeps the base spec and its annotations, and leaves the base object untouched', async () => {
    const base = defaultSpec();
    base.annotations = { 'com.example.base': '1' };
    base.hostname = 'box';
    const spec = await specFromImageConfig(config, { rootfs: rootfs(), base });
    expect(spec.hostname).toBe('box');
    expect(spec.annotations?.['com.example.base']).toBe('1');
    expect(base.process?.args).toEqual(['sh']);
    expect(spec.mounts).toEqual(defaultSpec().mounts);
  });

  it('fails clearly when there is nothing to run', async () => {
    await expect(
      specFromImageConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    ).rejects.toThrow(/no Entrypoint or Cmd/);
  });
});

describe('resolveInRoot', () => {
  it('reports a symlink loop as an InvalidArgumentError naming the path', async () => {
    const root = tmp();
    mkdirSync(join(root, 'etc'));
    symlinkSync('/etc/group', join(root, 'etc', 'passwd'));
    symlinkSync('/etc/passwd', join(root, 'etc', 'group'));
    const caught = await resolveInRoot(root, '/etc/passwd').catch((e: unknown) => e);
    expect(isInvalidArgument(caught)).toBe(true);
    expect(String(caught)).toMatch(/too many symbolic links resolving \/etc\/passwd/);
  });
});

describe('other platforms and features are typed and checked', () => {
  it('checks the Solaris, Windows and z/OS sections and keeps unknown fields', () => {
    const spec = parseSpec({
      ociVersion: '1.3.0',
      solaris: { milestone: 'svc:/milestone/container:default', cappedCPU: { ncpus: '8' } },
      windows: { layerFolders: ['C:\\layers\\1'], hyperv: { utilityVMPath: 'C:\\uvm' } },
      zos: { namespaces: [{ type: 'pid' }] },
      'x-vendor': { kept: true },
    });
    expect(spec.solaris?.cappedCPU?.ncpus).toBe('8');
    expect(spec.windows?.layerFolders).toEqual(['C:\\layers\\1']);
    expect(spec['x-vendor']).toEqual({ kept: true });
    expect(() => parseSpec({ ociVersion: '1', solaris: { milestone: 5 } })).toThrow(/solaris\.milestone/);
    expect(() => parseSpec({ ociVersion: '1', windows: { servicing: 'yes' } })).toThrow(/windows\.servicing/);
    expect(() => parseSpec({ ociVersion: '1', zos: { namespaces: [{ type: 'network' }] } })).toThrow(
      /zos\.namespaces\[0\]\.type/,
    );
  });

  it('types the Linux part of `runc features`', () => {
    const features = parseFeatures(execFileSync('runc', ['features']));
    expect(features.linux?.namespaces).toContain('pid');
    expect(features.linux?.seccomp?.enabled).toBe(true);
    expect(() =>
      parseFeatures({ ociVersionMin: '1', ociVersionMax: '1', linux: { cgroup: { v2: 'y' } } }),
    ).toThrow(/linux\.cgroup\.v2/);
  });
});

describe('parseState, checked by hand, agrees with the state schema', () => {
  const schema = buildSchemas(z).stateSchema;
  const good = {
    ociVersion: '1.0.2',
    id: 'x',
    status: 'created',
    pid: 7,
    bundle: '/b',
    annotations: { a: 'b' },
  };
  const cases: [string, unknown][] = [
    ['good', good],
    ['extra fields kept', { ...good, extra: { deep: 1 } }],
    ['no pid', { ...good, pid: undefined }],
    ['pid 0', { ...good, pid: 0 }],
    ['pid negative', { ...good, pid: -1 }],
    ['pid fractional', { ...good, pid: 1.5 }],
    ['pid a string', { ...good, pid: '7' }],
    ['pid null', { ...good, pid: null }],
    ['status paused', { ...good, status: 'paused' }],
    ['status a number', { ...good, status: 1 }],
    ['id missing', { ...good, id: undefined }],
    ['id a number', { ...good, id: 5 }],
    ['bundle null', { ...good, bundle: null }],
    ['ociVersion missing', { ...good, ociVersion: undefined }],
    ['annotations an array', { ...good, annotations: ['a'] }],
    ['annotations null', { ...good, annotations: null }],
    ['annotation a number', { ...good, annotations: { a: 1 } }],
    ['an array', [good]],
    ['null', null],
    ['a number', 7],
  ];
  it.each(cases)('%s', (_name, input) => {
    const value: unknown = JSON.parse(JSON.stringify(input));
    const zod = schema.safeParse(value);
    let ours: unknown;
    try {
      ours = parseState(value);
    } catch (e) {
      expect(isInvalidArgument(e)).toBe(true);
      expect(zod.success, `zod accepts what parseState refused: ${(e as Error).message}`).toBe(false);
      // the fields named are the fields zod names
      const fields = (e as InvalidArgumentError).details['issues'] as string[];
      expect(fields.map((f) => f.split(':')[0]?.split('.')[0]).sort()).toEqual(
        (zod.error?.issues ?? []).map((i) => (i.path.length ? String(i.path[0]) : '(document)')).sort(),
      );
      return;
    }
    expect(zod.success, 'parseState accepted what zod refuses').toBe(true);
    expect(ours).toEqual(zod.data);
  });
});
