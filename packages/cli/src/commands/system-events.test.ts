// `ocikit system events|info|version` through the engine: the local engine's journal and state.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';
import { parseTimestamp } from '../lib/timestamp.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ocikit-cli-events-'));
  dirs.push(d);
  return d;
};
let root: string;
let env: Record<string, string>;
let image: BuiltImage;
const cli = (args: string[]) => runCli(['--root', root, ...args], { env });

beforeAll(async () => {
  root = tmp();
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  const conf = join(tmp(), 'registries.conf');
  writeFileSync(conf, '');
  env = {
    CONTAINERS_REGISTRIES_CONF: conf,
    DOCKER_CONFIG: tmp(),
    REGISTRY_AUTH_FILE: join(tmp(), 'none.json'),
  };
  expect((await cli(['copy', `oci:${image.layout}:busybox`, 'local:app:1'])).code).toBe(0);
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ocikit system events, info and version', () => {
  it('prints what tag and rmi did, from --since to --until, as text, --json and --format', async () => {
    const start = new Date().toISOString();
    expect((await cli(['tag', 'app:1', 'app:2'])).code).toBe(0);
    expect((await cli(['rmi', 'app:2'])).code).toBe(0);
    const text = await cli(['system', 'events', '--since', start, '--until', '0s']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^\S+Z image tag sha256:[0-9a-f]{64} \(name=docker\.io\/library\/app:2\)\n\S+Z image untag sha256:[0-9a-f]{64} \(name=docker\.io\/library\/app:2\)\n$/,
    );
    const json = await cli(['--json', 'system', 'events', '--since', '1h', '--until', '0s']);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { action: string }).action),
    ).toEqual(['tag', 'untag']);
    const formatted = await cli([
      'system',
      'events',
      '--since',
      '1h',
      '--until',
      '0s',
      '--format',
      '{{.Type}} {{.Action}}',
    ]);
    expect(formatted.stdout).toBe('image tag\nimage untag\n');
    const bad = await cli(['system', 'events', '--since', 'yesterday-ish']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--since must be a duration');
  });

  it('info counts images; version names ocikit', async () => {
    const info = await cli(['--json', 'system', 'info']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ images: 1, containers: 0, defaultRuntime: 'runc' });
    const version = await cli(['system', 'version']);
    expect(version.stdout).toMatch(/^Engine: +ocikit \d+\.\d+\.\d+/);
  });

  it('parses --since as docker does', () => {
    const now = 1_700_000_000_000;
    expect(parseTimestamp('10m', '--since', now)).toBe(now - 600_000);
    expect(parseTimestamp('1h30m', '--since', now)).toBe(now - 5_400_000);
    expect(parseTimestamp('1700000000.5', '--since', now)).toBe(1_700_000_000_500);
    expect(parseTimestamp('2023-11-14T22:13:20Z', '--since', now)).toBe(1_700_000_000_000);
  });
});
