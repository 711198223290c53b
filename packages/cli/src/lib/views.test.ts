import type { ContainerDetails, ContainerSummary, ImageDetails, ImageSummary } from '@ocikit/engine';
import { commandLine, humanDuration } from '@ocikit/engine';
import { describe, expect, it } from 'vitest';
import { goTime, parseTemplate } from './format.ts';
import {
  containerInspectItem,
  ellipsis,
  goQuote,
  imageInspectItem,
  imageRows,
  imagesItem,
  psItem,
  referenceParts,
} from './views.ts';

const now = Date.parse('2026-12-05T17:00:00.000Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

/** A container as an engine lists it (the docker engine's facts: no pid or times). */
function summary(over: Partial<ContainerSummary>): ContainerSummary {
  return {
    id: '0123456789abcdef0123456789abcdef',
    name: 'web',
    image: 'docker.io/library/busybox:latest',
    command: commandLine(['sh', '-c', 'while true; do sleep 1; done']),
    created: ago(2 * 3_600_000),
    state: 'running',
    status: 'Up About an hour',
    labels: { tier: 'front' },
    ...over,
  };
}

describe('psItem', () => {
  it("gives docker's fields: short ID, quoted and shortened command, relative CREATED, the engine's status", () => {
    const item = psItem(summary({ pid: 42 }), now);
    expect(item).toMatchObject({
      ID: '0123456789ab',
      Names: 'web',
      Command: `"sh -c 'while true; …"`,
      RunningFor: '2 hours ago',
      CreatedAt: '2026-12-05 15:00:00 +0000 UTC',
      Status: 'Up About an hour',
      State: 'running',
      Labels: 'tier=front',
      Pid: 42,
      ExitCode: 0,
      StartedAt: 0,
      AutoRemove: false,
    });
    expect(parseTemplate('{{.Label "tier"}}/{{.Label "none"}}').execute(item)).toBe('front/');
  });

  it('gives PORTS as docker shows them and NETWORKS by name', () => {
    const item = psItem(
      summary({
        ports: [
          { containerPort: 81, protocol: 'tcp', hostPort: 8081, hostIp: '0.0.0.0' },
          { containerPort: 80, protocol: 'tcp', hostPort: 80, hostIp: '0.0.0.0' },
        ],
        networks: ['front', 'back'],
      }),
      now,
    );
    expect(item).toMatchObject({ Ports: '0.0.0.0:80->80/tcp, 0.0.0.0:8081->81/tcp', Networks: 'front,back' });
    expect(psItem(summary({}), now)).toMatchObject({ Ports: '', Networks: '' });
  });

  it("reads the exit code from the status when the engine lists none (docker's)", () => {
    const exited = summary({ state: 'exited', status: 'Exited (3) 2 minutes ago' });
    expect(psItem(exited, now)).toMatchObject({ ExitCode: 3, Exited: true });
    expect(psItem({ ...exited, exitCode: 4 }, now).ExitCode).toBe(4);
    expect(psItem(summary({ state: 'exited', status: 'Exited (-1) 1 second ago' }), now).ExitCode).toBe(-1);
  });

  it('with --no-trunc: the whole ID and the whole command, still quoted', () => {
    const item = psItem(summary({}), now, false);
    expect(item.ID).toBe('0123456789abcdef0123456789abcdef');
    expect(item.Command).toBe(`"sh -c 'while true; do sleep 1; done'"`);
  });

  it("quotes as docker's Command(): strconv.Quote of the ellipsized command, closing quote kept", () => {
    const command = (argv: string[]) => psItem(summary({ command: commandLine(argv) }), now).Command;
    expect(command(['sh', '-c', 'sleep 1000000'])).toBe(`"sh -c 'sleep 100000…"`);
    expect(command(['echo', 'say "hi"'])).toBe(`"echo 'say \\"hi\\"'"`);
    expect(command(['/bin/true'])).toBe('"/bin/true"');
    expect(command(['printf', 'a\tb'])).toBe('"printf a\\tb"');
  });
});

describe('goQuote (Go strconv.Quote)', () => {
  it('escapes as Go does', () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('\x07\b\f\n\r\t\v')).toBe('"\\a\\b\\f\\n\\r\\t\\v"');
    expect(goQuote('\x01\x1b\x7f')).toBe('"\\x01\\x1b\\x7f"');
    expect(goQuote('\u00a0\u2028\ue000\u{f0000}')).toBe('"\\u00a0\\u2028\\ue000\\U000f0000"');
    expect(goQuote('é 日本 😀 <&>')).toBe('"é 日本 😀 <&>"');
  });
});

describe('ellipsis (docker formatter.Ellipsis)', () => {
  it('counts terminal columns: wide characters take two', () => {
    expect(ellipsis('0123456789012345678', 20)).toBe('0123456789012345678');
    expect(ellipsis('01234567890123456789', 20)).toBe('01234567890123456789');
    expect(ellipsis('012345678901234567890', 20)).toBe('0123456789012345678…');
    expect(ellipsis('日本語のコマンドを実行する', 20)).toBe('日本語のコマンドを…');
    expect(ellipsis('日本語のコマンド', 20)).toBe('日本語のコマンド');
    expect(ellipsis('abc', 1)).toBe('a');
    expect(ellipsis('abc', 0)).toBe('');
  });
});

describe('relative times', () => {
  it('never say "1 minutes", "1 hours", "1 days", "1 weeks" or "1 months"', () => {
    const minute = 60_000;
    const seen = new Set<string>();
    for (let ms = 0; ms < 3 * minute * 60; ms += 500) seen.add(humanDuration(ms));
    for (let ms = 0; ms < 3 * 365 * 24 * 60 * minute; ms += 7 * minute) seen.add(humanDuration(ms));
    expect([...seen].filter((d) => /^1 (minutes|hours|days|weeks|months)$/.test(d))).toEqual([]);
    expect(seen).toContain('About a minute');
    expect(seen).toContain('About an hour');
    expect(psItem(summary({ created: ago(61_000) }), now).RunningFor).toBe('About a minute ago');
    // go-units itself says "1 years" in the half hour before two years (rounded hours reach two
    // years, truncated ones do not): kept, as docker prints it
    expect(humanDuration((2 * 365 * 24 - 0.25) * 3_600_000)).toBe('1 years');
  });
});

describe('imagesItem', () => {
  it("gives docker's ID, size and CREATED, and N/A without a creation time", () => {
    const row = {
      reference: 'docker.io/library/busybox:latest',
      digest: `sha256:${'ab'.repeat(32)}`,
      id: `sha256:${'cd'.repeat(32)}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 4_260_000,
      platform: 'linux/arm64/v8',
      created: ago(3 * 86_400_000),
    };
    const name = { repository: 'docker.io/library/busybox', tag: 'latest' };
    expect(imagesItem(row, name, now)).toMatchObject({
      ID: 'cdcdcdcdcdcd',
      Digest: `sha256:${'ab'.repeat(32)}`,
      CreatedAt: goTime(ago(3 * 86_400_000)),
      Size: '4.26MB',
      CreatedSince: '3 days ago',
      Platform: 'linux/arm64/v8',
    });
    expect(imagesItem({ ...row, created: null }, name, now)).toMatchObject({
      CreatedSince: 'N/A',
      CreatedAt: '',
    });
    expect(imagesItem({ ...row, created: ago(70 * 60_000) }, name, now).CreatedSince).toBe(
      'About an hour ago',
    );
    expect(imagesItem(row, name, now, false).ID).toBe(`sha256:${'cd'.repeat(32)}`);
  });
});

describe('imageRows and referenceParts', () => {
  const image = (over: Partial<ImageSummary>): ImageSummary => ({
    id: `sha256:${'cd'.repeat(32)}`,
    repoTags: ['127.0.0.1:5000/busybox:1', 'busybox:latest'],
    repoDigests: [`127.0.0.1:5000/busybox@sha256:${'ab'.repeat(32)}`],
    created: ago(86_400_000),
    size: 4_260_000,
    labels: {},
    ...over,
  });

  it("gives a row per name, its repository's digest or <none>, sorted by name", () => {
    const rows = imageRows([
      image({ platform: 'linux/amd64' }),
      image({ id: 'sha256:00', repoTags: [], repoDigests: [] }),
    ]);
    expect(rows.map((r) => [r.reference, r.digest, r.id])).toEqual([
      ['<none>', '<none>', 'sha256:00'],
      ['127.0.0.1:5000/busybox:1', `sha256:${'ab'.repeat(32)}`, `sha256:${'cd'.repeat(32)}`],
      ['busybox:latest', '<none>', `sha256:${'cd'.repeat(32)}`],
    ]);
    expect(rows[1]).toMatchObject({ platform: 'linux/amd64', mediaType: '', created: ago(86_400_000) });
    expect(rows[0]).toMatchObject({ platform: null });
    expect(imagesItem(rows[1] as (typeof rows)[0], undefined, now)).toMatchObject({
      Repository: '127.0.0.1:5000/busybox',
      Tag: '1',
      CreatedSince: '24 hours ago',
    });
  });

  it("splits names as docker's REPOSITORY and TAG, a port not taken for a tag", () => {
    expect(referenceParts('localhost:5000/a/b:v1')).toEqual({ repository: 'localhost:5000/a/b', tag: 'v1' });
    expect(referenceParts('localhost:5000/a/b')).toEqual({ repository: 'localhost:5000/a/b', tag: '<none>' });
    expect(referenceParts(`a/b@sha256:${'ab'.repeat(32)}`)).toEqual({ repository: 'a/b', tag: '<none>' });
    expect(referenceParts('<none>')).toEqual({ repository: '<none>', tag: '<none>' });
  });
});

describe('containerInspectItem', () => {
  /** A container as an engine's inspect gives it. */
  const details = (
    state: ContainerDetails['state'],
    config: Partial<ContainerDetails['config']>,
    autoRemove = false,
  ): ContainerDetails => ({
    id: 'abc',
    name: 'web',
    image: 'busybox',
    created: ago(1000),
    state,
    config: { args: [], env: [], tty: false, openStdin: false, labels: {}, ...config },
    autoRemove,
    raw: {},
  });
  const template = (d: ContainerDetails) => (s: string) => parseTemplate(s).execute(containerInspectItem(d));

  it("answers docker's inspect paths from any engine's details", () => {
    const t = template(
      details(
        { status: 'running', running: true, paused: false, pid: 9, startedAt: ago(500) },
        { args: ['sleep', '60'], env: ['PATH=/bin'], tty: true, labels: { a: 'b' } },
        true,
      ),
    );
    expect(
      t('{{.State.Status}} {{.State.Pid}} {{.Path}} {{json .Args}} {{.Config.Tty}} {{.Config.Labels.a}}'),
    ).toBe('running 9 sleep ["60"] true b');
    expect(t('{{.HostConfig.AutoRemove}} [{{.OCIRuntime}}] {{.State.ExitCode}} {{json .Config.Env}}')).toBe(
      'true [] 0 ["PATH=/bin"]',
    );
  });

  it("answers docker's inspect paths for an exited container, zero values where the engine says nothing", () => {
    const t = template(
      details(
        { status: 'exited', running: false, paused: false, exitCode: 3 },
        { args: ['sh', '-c', 'while true; do sleep 1; done'], labels: { tier: 'front' } },
      ),
    );
    expect(t('{{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.State.FinishedAt}}')).toBe(
      'exited 3 false 0001-01-01T00:00:00Z',
    );
    expect(t('{{.Path}} {{json .Args}} {{.Config.Labels.tier}} {{index .Config.Labels "tier"}}')).toBe(
      'sh ["-c","while true; do sleep 1; done"] front front',
    );
  });
});

describe('imageInspectItem', () => {
  it("answers docker's image inspect paths from any engine's details", () => {
    const details: ImageDetails = {
      id: `sha256:${'cd'.repeat(32)}`,
      repoTags: ['busybox:latest'],
      repoDigests: [`busybox@sha256:${'ab'.repeat(32)}`],
      size: 10,
      labels: { l: 'v' },
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
      config: { env: ['A=1'], cmd: ['sh'], exposedPorts: ['80/tcp'], volumes: [], labels: { l: 'v' } },
      diffIds: ['sha256:11'],
      raw: {},
    };
    const t = (s: string) => parseTemplate(s).execute(imageInspectItem(details));
    expect(
      t(
        '{{.Os}}/{{.Architecture}}/{{.Variant}} {{json .Config.Cmd}} {{.Config.Entrypoint}} {{len .RootFS.Layers}}',
      ),
    ).toBe('linux/arm64/v8 ["sh"] <nil> 1');
    expect(t('{{.Digest}} {{index .RepoTags 0}} {{.Created}} {{.Labels.l}}')).toBe(
      `sha256:${'ab'.repeat(32)} busybox:latest 0001-01-01T00:00:00Z v`,
    );
  });
});
