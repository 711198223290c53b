import type { ContainerSummary, ImageSummary } from '@ocikit/engine';
import { isInvalidArgument, isNotFound } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import {
  filterContainers,
  filterImages,
  globRegex,
  parseContainerFilters,
  parseImageFilters,
} from './list-filters.ts';

const container = (
  name: string,
  id: string,
  created: string,
  more: Partial<ContainerSummary> = {},
): ContainerSummary => ({
  id,
  name,
  image: 'localhost/app:latest',
  imageId: `sha256:${'ab'.repeat(32)}`,
  command: 'true',
  created,
  state: 'exited',
  status: 'Exited (0) 1 second ago',
  labels: {},
  ...more,
});

const cs = [
  container('ex1', 'aa11', '2026-01-01T00:00:01Z', {
    exitCode: 3,
    labels: { a: '1', b: '' },
    mounts: [{ type: 'volume', name: 'nv', source: '/v/nv/_data', destination: '/data', readOnly: false }],
  }),
  container('ex0', 'bb22', '2026-01-01T00:00:02Z', {
    exitCode: 0,
    labels: { a: '2' },
    mounts: [{ type: 'bind', source: '/srv/b', destination: '/b', readOnly: true }],
  }),
  container('cr', 'cc33', '2026-01-01T00:00:03Z', {
    state: 'created',
    status: 'Created',
    labels: { a: '1' },
    mounts: [
      { type: 'volume', name: 'f00d', source: '/v/f00d/_data', destination: '/anon', readOnly: false },
      { type: 'tmpfs', source: '', destination: '/tm', readOnly: false },
    ],
  }),
  container('ru', 'dd44', '2026-01-01T00:00:04Z', { state: 'running', status: 'Up', networks: ['net1'] }),
];

const names = (filters: string[]) =>
  filterContainers(cs, parseContainerFilters(filters, 'ps'), cs, 'ps').map((c) => c.name);

const refused = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('ps --filter', () => {
  it('ORs the values of one key and ANDs different keys; label values AND', () => {
    expect(names(['status=exited'])).toEqual(['ex1', 'ex0']);
    expect(names(['status=exited', 'status=running'])).toEqual(['ex1', 'ex0', 'ru']);
    expect(names(['label=a=1', 'status=created'])).toEqual(['cr']);
    expect(names(['label=a=1', 'label=b'])).toEqual(['ex1']);
    expect(names(['label=a=1', 'label=a=2'])).toEqual([]);
    expect(names(['label=a'])).toEqual(['ex1', 'ex0', 'cr']);
    expect(names(['label='])).toEqual([]);
  });

  it('matches id and name as unanchored regular expressions, exited by code, network by name', () => {
    expect(names(['name=^ex'])).toEqual(['ex1', 'ex0']);
    expect(names(['name='])).toEqual(['ex1', 'ex0', 'cr', 'ru']);
    expect(names(['id=b2'])).toEqual(['ex0']);
    expect(names(['exited=3', 'exited=0'])).toEqual(['ex1', 'ex0']);
    expect(names(['exited=0'])).toEqual(['ex0']); // not the created one
    expect(names(['network=net1'])).toEqual(['ru']);
  });

  it('volume is a volume name or bind source, :DEST its path inside; a path inside alone matches nothing', () => {
    expect(names(['volume=nv'])).toEqual(['ex1']);
    expect(names(['volume=f00d'])).toEqual(['cr']);
    expect(names(['volume=/srv/b'])).toEqual(['ex0']);
    expect(names(['volume=nv:/data'])).toEqual(['ex1']);
    expect(names(['volume=nv:'])).toEqual(['ex1']);
    expect(names(['volume=/srv/b:/b'])).toEqual(['ex0']);
    expect(names(['volume=nv:/b'])).toEqual([]);
    expect(names(['volume=/data'])).toEqual([]);
    expect(names(['volume=/v/nv/_data'])).toEqual([]);
    expect(names(['volume=/tm'])).toEqual([]);
    expect(names(['volume=nv', 'volume=/srv/b'])).toEqual(['ex1', 'ex0']);
    expect(names(['volume=nv', 'status=created'])).toEqual([]);
  });

  it('ancestor is the image name (its :latest-less form) or its full id', () => {
    expect(names(['ancestor=localhost/app'])).toEqual(['ex1', 'ex0', 'cr', 'ru']);
    expect(names(['ancestor=localhost/app:latest'])).toEqual(['ex1', 'ex0', 'cr', 'ru']);
    expect(names([`ancestor=${'ab'.repeat(32)}`])).toHaveLength(4);
    expect(names(['ancestor=app', 'ancestor=abab'])).toEqual([]);
  });

  it('before and since name a container by name or id prefix; a missing one is NotFound', () => {
    expect(names(['before=cr'])).toEqual(['ex1', 'ex0']);
    expect(names(['since=ex0'])).toEqual(['cr', 'ru']);
    expect(names(['since=bb'])).toEqual(['cr', 'ru']);
    expect(isNotFound(refused(() => names(['before=nope'])))).toBe(true);
  });

  it('until keeps what was created before one time: a duration before now, Unix seconds or RFC 3339', () => {
    expect(names(['until=2026-01-01T00:00:03Z'])).toEqual(['ex1', 'ex0']);
    expect(names([`until=${Date.parse('2026-01-01T00:00:02Z') / 1000 + 0.5}`])).toEqual(['ex1', 'ex0']);
    expect(names(['until=1s'])).toEqual(['ex1', 'ex0', 'cr', 'ru']);
    expect(names(['until=2026-01-01T00:00:00Z'])).toEqual([]);
    expect(names(['until=2026-01-01T00:00:03Z', 'status=created'])).toEqual([]);
    for (const filters of [['until=bogus'], ['until=1h', 'until=2h'], ['until=']]) {
      const e = refused(() => parseContainerFilters(filters, 'ocikit ps'));
      expect(isInvalidArgument(e), filters.join()).toBe(true);
    }
    expect(
      (refused(() => parseContainerFilters(['until=1h', 'until=2h'], 'ocikit ps')) as Error).message,
    ).toBe('ocikit ps: specify exactly one timestamp for until');
  });

  it('refuses unknown keys, malformed values and keys a summary cannot answer, naming them', () => {
    for (const [filter, named] of [
      ['bogus=1', '"bogus"'],
      ['label', '"label"'],
      ['status=bogus', '"bogus"'],
      ['status=', '""'],
      ['exited=x', '"x"'],
      ['name=(', '"("'],
      ['pod=p', '"pod"'],
      ['label!=a', '"label!"'],
    ] as const) {
      const e = refused(() => parseContainerFilters([filter], 'ocikit ps'));
      expect(isInvalidArgument(e), filter).toBe(true);
      expect((e as Error).message).toContain(named);
      expect((e as Error).message).toMatch(/^ocikit ps: /);
    }
  });
});

const image = (
  id: string,
  repoTags: string[],
  created: string,
  labels: Record<string, string> = {},
): ImageSummary => ({
  id: `sha256:${id}`,
  repoTags,
  repoDigests: [],
  created,
  size: 1,
  labels,
});

const images = [
  image('01', ['localhost/base:1', 'localhost/var/tmp/layout:latest'], '2020-01-01T00:00:00Z'),
  image('02', [], '2026-01-01T00:00:01Z'),
  image('03', ['localhost/extra:1', 'localhost/extra:2', 'localhost/other/x:3'], '2026-01-01T00:00:02Z', {
    k: 'v',
  }),
  image('04', ['localhost/late:1'], '2026-01-01T00:00:03Z'),
  image('05', ['docker.io/library/busybox:latest'], '2026-01-01T00:00:04Z'),
];

const selected = async (filters: string[]) =>
  (
    await filterImages(
      images,
      parseImageFilters(filters, 'images'),
      async (ref) => images.find((i) => i.repoTags.includes(ref))?.created,
    )
  ).map((i) => i.id.slice(-2));

describe('images --filter', () => {
  it('reference= globs on the name with and without registry, tag and path, as podman 4.3', async () => {
    for (const [glob, ids] of [
      ['extra', ['03']],
      ['x', ['03']],
      ['other/*', ['03']],
      ['extra:*', ['03']],
      ['e*:1', ['03']],
      ['extra:3', []],
      ['extr', []],
      ['la*', ['01', '04']],
      ['localhost/*', ['01', '03', '04']],
      ['localhost/*/*', ['03']],
      ['localhost', []],
      ['*', ['01', '03', '04', '05']],
      ['busybox', ['05']],
      ['library/busybox:latest', ['05']],
      ['', []],
    ] as const)
      expect(await selected([`reference=${glob}`]), glob).toEqual(ids);
    expect(await selected(['reference=extra', 'reference=late'])).toEqual(['03', '04']);
  });

  it('dangling=, label= (values OR), before=, since=', async () => {
    expect(await selected(['dangling=true'])).toEqual(['02']);
    expect(await selected(['dangling=false'])).toEqual(['01', '03', '04', '05']);
    expect(await selected(['label=k=v'])).toEqual(['03']);
    expect(await selected(['label=k', 'label=z'])).toEqual(['03']);
    expect(await selected(['label=k=w'])).toEqual([]);
    expect(await selected(['before=localhost/late:1'])).toEqual(['01', '02', '03']);
    expect(await selected(['since=localhost/base:1', 'dangling=false'])).toEqual(['03', '04', '05']);
  });

  it('until= (one) keeps the images created before it', async () => {
    expect(await selected(['until=2026-01-01T00:00:02Z'])).toEqual(['01', '02']);
    expect(await selected(['until=1s', 'dangling=true'])).toEqual(['02']);
    expect(isInvalidArgument(refused(() => parseImageFilters(['until=x'], 'ocikit images')))).toBe(true);
    expect(
      isInvalidArgument(refused(() => parseImageFilters(['until=1m', 'until=2m'], 'ocikit images'))),
    ).toBe(true);
  });

  it('refuses unknown keys and malformed values, naming them', () => {
    for (const [filter, named] of [
      [['bogus=1'], '"bogus"'],
      [['label'], '"label"'],
      [['dangling=x'], '"x"'],
      [['dangling=true', 'dangling=false'], 'dangling'],
    ] as const) {
      const e = refused(() => parseImageFilters(filter, 'ocikit images'));
      expect(isInvalidArgument(e), filter.join()).toBe(true);
      expect((e as Error).message).toContain(named);
    }
  });

  it("globRegex is Go's path.Match: * and ? stop at /, classes and escapes", () => {
    expect(globRegex('a*').test('abc')).toBe(true);
    expect(globRegex('a*').test('a/b')).toBe(false);
    expect(globRegex('a?c').test('abc')).toBe(true);
    expect(globRegex('[ab]x').test('bx')).toBe(true);
    expect(globRegex('[^ab]x').test('bx')).toBe(false);
    expect(globRegex('a.b').test('axb')).toBe(false);
    expect(globRegex('a\\*').test('a*')).toBe(true);
  });
});
