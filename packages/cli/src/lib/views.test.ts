import type { ContainerRecord } from '@ocikit/shim';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from './format.ts';
import { containerInspectItem, containerStatus, imagesItem, psItem } from './views.ts';

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
      Command: '"sh -c while true; d…"',
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
});

describe('imagesItem', () => {
  it("gives docker's ID, size and CREATED, and N/A without a creation time", () => {
    const row = {
      reference: 'docker.io/library/busybox:latest',
      digest: `sha256:${'ab'.repeat(32)}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 4_260_000,
      platform: 'linux/arm64/v8',
      created: ago(3 * 86_400_000),
    };
    const name = { repository: 'docker.io/library/busybox', tag: 'latest' };
    expect(imagesItem(row, name, now)).toMatchObject({
      ID: 'abababababab',
      Size: '4.26MB',
      CreatedSince: '3 days ago',
      Platform: 'linux/arm64/v8',
    });
    expect(imagesItem({ ...row, created: null }, name, now)).toMatchObject({
      CreatedSince: 'N/A',
      CreatedAt: '',
    });
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
