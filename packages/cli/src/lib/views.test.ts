import type { ContainerRecord } from '@ocikit/shim';
import { describe, expect, it } from 'vitest';
import { goTime, humanDuration, parseTemplate } from './format.ts';
import {
  commandLine,
  containerInspectItem,
  containerStatus,
  ellipsis,
  goQuote,
  imagesItem,
  psItem,
} from './views.ts';

const now = Date.parse('2026-12-05T17:00:00.000Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

function record(over: Partial<ContainerRecord>): ContainerRecord {
  return {
    id: '0123456789abcdef0123456789abcdef',
    name: 'web',
    image: 'docker.io/library/busybox:latest',
    command: ['sh', '-c', 'while true; do sleep 1; done'],
    bundle: '/b',
    runtime: 'runc',
    runtimeRoot: '/r',
    tty: false,
    interactive: false,
    status: 'running',
    createdAt: ago(2 * 3_600_000),
    logPath: '/l',
    autoRemove: false,
    stopSignal: 'SIGTERM',
    labels: { tier: 'front' },
    ...over,
  };
}

describe('containerStatus', () => {
  it("words it as docker's engine does", () => {
    expect(containerStatus(record({ startedAt: ago(5_000) }), now)).toBe('Up 5 seconds');
    expect(containerStatus(record({ status: 'paused', startedAt: ago(90_000) }), now)).toBe(
      'Up About a minute (Paused)',
    );
    expect(
      containerStatus(record({ status: 'exited', exitCode: 0, finishedAt: ago(2 * 60_000 + 5_000) }), now),
    ).toBe('Exited (0) 2 minutes ago');
    expect(containerStatus(record({ status: 'exited', exitCode: 137, finishedAt: ago(500) }), now)).toBe(
      'Exited (137) Less than a second ago',
    );
    expect(containerStatus(record({ status: 'created' }), now)).toBe('Created');
  });
});

describe('psItem', () => {
  it("gives docker's fields: short ID, quoted and shortened command, relative CREATED", () => {
    const item = psItem(record({ startedAt: ago(3_600_000), pid: 42 }), now);
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
    });
    expect(parseTemplate('{{.Label "tier"}}/{{.Label "none"}}').execute(item)).toBe('front/');
  });

  it('with --no-trunc: the whole ID and the whole command, still quoted', () => {
    const item = psItem(record({}), now, false);
    expect(item.ID).toBe('0123456789abcdef0123456789abcdef');
    expect(item.Command).toBe(`"sh -c 'while true; do sleep 1; done'"`);
  });

  it("quotes as docker's Command(): strconv.Quote of the ellipsized command, closing quote kept", () => {
    const command = (argv: string[]) => psItem(record({ command: argv }), now).Command;
    expect(command(['sh', '-c', 'sleep 1000000'])).toBe(`"sh -c 'sleep 100000…"`);
    expect(command(['echo', 'say "hi"'])).toBe(`"echo 'say \\"hi\\"'"`);
    expect(command(['/bin/true'])).toBe('"/bin/true"');
    expect(command(['printf', 'a\tb'])).toBe('"printf a\\tb"');
  });
});

describe('commandLine', () => {
  it("joins as docker's engine: arguments with a space in single quotes, the path as it is", () => {
    expect(commandLine(['sh', '-c', 'sleep 10'])).toBe("sh -c 'sleep 10'");
    expect(commandLine(['/my prog', 'a', ''])).toBe('/my prog a ');
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
    expect(psItem(record({ createdAt: ago(61_000) }), now).RunningFor).toBe('About a minute ago');
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

describe('containerInspectItem', () => {
  it("answers docker's inspect paths", () => {
    const item = containerInspectItem(record({ status: 'exited', exitCode: 3 }));
    const t = (s: string) => parseTemplate(s).execute(item);
    expect(t('{{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.State.FinishedAt}}')).toBe(
      'exited 3 false 0001-01-01T00:00:00Z',
    );
    expect(t('{{.Path}} {{json .Args}} {{.Config.Labels.tier}} {{index .Config.Labels "tier"}}')).toBe(
      'sh ["-c","while true; do sleep 1; done"] front front',
    );
  });
});
