import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInvalidArgument, isPermissionDenied } from '@ocikit/errors';
import { parseReference } from '@ocikit/reference';
import { describe, expect, it } from 'vitest';
import {
  loadRegistriesConf,
  parseRegistriesConf,
  RegistriesConf,
  refMatchingPrefix,
} from './registries-conf.ts';

const conf = (text: string) => new RegistriesConf([parseRegistriesConf(text, 'test.conf')]);

describe('registries.conf', () => {
  it('matches prefixes as containers/image does', () => {
    expect(refMatchingPrefix('example.com/foo/bar:v1', 'example.com/foo')).toBe('example.com/foo'.length);
    expect(refMatchingPrefix('example.com/foobar', 'example.com/foo')).toBe(-1);
    expect(refMatchingPrefix('example.com', 'example.com')).toBe(11);
    expect(refMatchingPrefix('a.example.com/x', '*.example.com')).toBe('a.example.com'.length);
    expect(refMatchingPrefix('example.com/x', '*.example.com')).toBe(-1);
    expect(refMatchingPrefix('other.io/a.example.com', '*.example.com')).toBe(-1);
  });

  it('rewrites prefixes to locations, mirrors first, by the longest prefix', () => {
    const c = conf(`
[[registry]]
prefix = "example.com/team"
location = "internal:5000/mirrored/team"
[[registry.mirror]]
location = "mirror-a:5000"
[[registry.mirror]]
location = "mirror-b:5000"
pull-from-mirror = "digest-only"
[[registry]]
location = "example.com"
`);
    const byTag = c.pullSources(parseReference('example.com/team/app:v1'));
    expect(byTag.map((s) => [s.reference.toString(), s.mirror])).toEqual([
      ['mirror-a:5000/app:v1', true],
      ['internal:5000/mirrored/team/app:v1', false],
    ]);
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(
      c.pullSources(parseReference(`example.com/team/app@${digest}`)).map((s) => s.reference.toString()),
    ).toEqual([
      `mirror-a:5000/app@${digest}`,
      `mirror-b:5000/app@${digest}`,
      `internal:5000/mirrored/team/app@${digest}`,
    ]);
    expect(c.pullSources(parseReference('example.com/other:v1')).map((s) => s.reference.toString())).toEqual([
      'example.com/other:v1',
    ]);
    expect(c.pullSources(parseReference('quay.io/x:1')).map((s) => s.reference.toString())).toEqual([
      'quay.io/x:1',
    ]);
  });

  it('refuses blocked registries with PermissionDeniedError, for pull and push', () => {
    const c = conf(`[[registry]]\nlocation = "blocked.example"\nblocked = true\n`);
    const e = (() => {
      try {
        c.pullSources(parseReference('blocked.example/app:v1'));
      } catch (err) {
        return err;
      }
    })();
    expect(isPermissionDenied(e)).toBe(true);
    expect((e as Error).message).toMatch(/blocked\.example.*blocked in test\.conf/);
    expect(() => c.checkBlocked(parseReference('blocked.example/app'), 'push')).toThrow(/cannot push/);
  });

  it('resolves short names: aliases, then the search list in order (permissive), else docker.io', () => {
    const c = conf(`
unqualified-search-registries = ["first.example", "second.example:5000"]
short-name-mode = "permissive"
[aliases]
"app" = "aliased.example/team/app"
`);
    expect(c.resolve('app:v2').candidates.map(String)).toEqual(['aliased.example/team/app:v2']);
    expect(c.resolve('app:v2').rationale).toBe('alias');
    expect(c.resolve('busybox:1').candidates.map(String)).toEqual([
      'first.example/busybox:1',
      'second.example:5000/busybox:1',
    ]);
    expect(c.resolve('quay.io/x').rationale).toBe('qualified');
    expect(new RegistriesConf().resolve('busybox').candidates.map(String)).toEqual([
      'docker.io/library/busybox',
    ]);
  });

  it('refuses ambiguous short names in enforcing mode (the default) and an empty search list', () => {
    const c = conf(`unqualified-search-registries = ["a.example", "b.example"]\n`);
    expect(() => c.resolve('busybox')).toThrow(/ambiguous.*enforcing/);
    expect(
      conf(`unqualified-search-registries = ["a.example"]\n`).resolve('busybox').candidates.map(String),
    ).toEqual(['a.example/busybox']);
    expect(() => conf(`unqualified-search-registries = []\n`).resolve('busybox')).toThrow(
      /no unqualified-search-registries/,
    );
  });

  it('reports malformed files by path and key', () => {
    const bad = (text: string) => {
      try {
        parseRegistriesConf(text, '/x/bad.conf');
      } catch (e) {
        return e;
      }
    };
    for (const [text, message] of [
      ['[[registry]]\nlocation = "https://x.example"\n', /URI schemes/],
      ['[[registry]]\nlocation = "x.example"\ninsecure = "yes"\n', /insecure must be true or false/],
      ['[[registry]]\nprefix = "*.x.example/a"\nlocation = "y"\n', /wildcarded prefix/],
      ['[registries.search]\nregistries = ["a"]\n', /version 1/],
      ['unqualified-search-registries = ["a b"]\n', /invalid unqualified-search-registries/],
      ['x = = 1\n', /not valid TOML/],
      ['[aliases]\n"app" = "app2"\n', /must name a registry/],
    ] as const) {
      const e = bad(text);
      expect(isInvalidArgument(e), text).toBe(true);
      expect((e as Error).message).toMatch(/^\/x\/bad\.conf: /);
      expect((e as Error).message).toMatch(message);
    }
  });

  it('loads CONTAINERS_REGISTRIES_CONF or the user file, merging drop-ins in name order', async () => {
    const home = await mkdtemp(join(tmpdir(), 'ocikit-regconf-'));
    try {
      const dir = join(home, '.config/containers');
      await mkdir(join(dir, 'registries.conf.d'), { recursive: true });
      await writeFile(join(dir, 'registries.conf'), 'unqualified-search-registries = ["user.example"]\n');
      await writeFile(
        join(dir, 'registries.conf.d/10-a.conf'),
        '[[registry]]\nlocation = "a.example"\ninsecure = true\n',
      );
      await writeFile(
        join(dir, 'registries.conf.d/20-b.conf'),
        'unqualified-search-registries = ["dropin.example"]\n',
      );
      const user = await loadRegistriesConf({ env: { HOME: home } });
      expect(user.files).toEqual([
        join(dir, 'registries.conf'),
        join(dir, 'registries.conf.d/10-a.conf'),
        join(dir, 'registries.conf.d/20-b.conf'),
      ]);
      expect(user.unqualifiedSearchRegistries).toEqual(['dropin.example']);
      expect(user.isInsecure('a.example')).toBe(true);
      const own = join(home, 'own.conf');
      await writeFile(own, 'short-name-mode = "permissive"\n');
      const env = await loadRegistriesConf({ env: { HOME: home, CONTAINERS_REGISTRIES_CONF: own } });
      expect(env.files[0]).toBe(own);
      expect(env.shortNameMode).toBe('permissive');
      await expect(
        loadRegistriesConf({ env: { HOME: home, CONTAINERS_REGISTRIES_CONF: join(home, 'missing.conf') } }),
      ).rejects.toThrow(/does not exist/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
