// Two `run`/`create` behaviours beside podman 4.3: the image's labels are the container's, under
// its --label ones; and `--ulimit NAME=-1` is unlimited (RLIM_INFINITY) inside the container.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Side, type Sides, startSides } from '../lib/test-sides.ts';

let sides: Sides;
let host: string;
/** The labelled image's name on each side. */
const labelled: Record<Side['name'], string> = { ocikit: '', podman: '' };

/** Runs a command that must succeed; its output, trimmed. */
async function ok(s: Side, args: readonly string[]): Promise<string> {
  const r = await s.cli(args);
  expect(r.code, `${s.name} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  sides = await startSides('busybox', buildBusyboxImage);
  host = join(tmpdir(), `ocikit-labels-ulimit-${process.pid}`);
  mkdirSync(join(host, 'context'), { recursive: true });
  // one image with labels, built by ocikit and loaded into podman: the same config on both sides
  writeFileSync(join(host, 'context', 'Containerfile'), `FROM ${sides.ocikit.image()}\nLABEL x=y z=image\n`);
  await ok(sides.ocikit, ['build', '-q', '-t', 'labelled:1', join(host, 'context')]);
  await ok(sides.ocikit, ['copy', 'local:labelled:1', `oci:${join(host, 'layout')}:labelled`]);
  labelled.ocikit = 'labelled:1';
  labelled.podman = (await ok(sides.podman, ['pull', '-q', `oci:${join(host, 'layout')}:labelled`]))
    .split('\n')
    .at(-1) as string;
}, 180_000);

afterAll(async () => {
  await sides?.close();
  if (host) rmSync(host, { recursive: true, force: true });
});

describe('image labels and unlimited ulimits, ocikit and podman side by side', () => {
  it("the image's labels are the container's, --label overriding them; ps --filter label= finds them", async () => {
    const seen = await sides.both(async (s) => {
      const flags = [...s.runFlags, '--label', 'z=run', '--label', 'q='];
      await ok(s, ['create', ...flags, '--name', 'labelled-c', labelled[s.name], 'true']);
      await ok(s, ['create', ...s.runFlags, '--name', 'labelled-plain', labelled[s.name], 'true']);
      return {
        given: JSON.parse(await ok(s, ['inspect', '--format', '{{json .Config.Labels}}', 'labelled-c'])),
        plain: JSON.parse(await ok(s, ['inspect', '--format', '{{json .Config.Labels}}', 'labelled-plain'])),
        byImageLabel: await ok(s, ['ps', '-a', '--filter', 'label=x=y', '--format', '{{.Names}}']),
        byOverridden: await ok(s, ['ps', '-a', '--filter', 'label=z=image', '--format', '{{.Names}}']),
      };
    });
    expect(seen.podman).toEqual({
      given: { x: 'y', z: 'run', q: '' },
      plain: { x: 'y', z: 'image' },
      byImageLabel: expect.stringMatching(/^labelled-(c|plain)\nlabelled-(c|plain)$/),
      byOverridden: 'labelled-plain',
    });
    expect({ ...seen.ocikit, byImageLabel: seen.ocikit.byImageLabel.split('\n').sort() }).toEqual({
      ...seen.podman,
      byImageLabel: seen.podman.byImageLabel.split('\n').sort(),
    });
  }, 60_000);

  it('--ulimit core=-1 and stack=8388608:-1: unlimited inside, as podman; the same under crun and in an exec', async () => {
    const script = "grep -E '^Max (core file|stack) size' /proc/self/limits";
    const inside = async (s: Side, flags: readonly string[]) =>
      (await ok(s, ['run', '--rm', ...s.runFlags, ...flags, s.image(), 'sh', '-c', script]))
        .split('\n')
        .map((l) => l.trim().split(/\s{2,}/));
    const limits = ['--ulimit', 'core=-1', '--ulimit', 'stack=8388608:-1'];
    const seen = await sides.both((s) => inside(s, limits));
    expect(seen.podman).toEqual([
      ['Max stack size', '8388608', 'unlimited', 'bytes'],
      ['Max core file size', 'unlimited', 'unlimited', 'bytes'],
    ]);
    expect(seen.ocikit).toEqual(seen.podman);
    expect(await inside(sides.ocikit, ['--runtime', 'crun', ...limits])).toEqual(seen.podman);
    // -1:-1 is -1; an exec'd process has the container's limits
    const { ocikit } = sides;
    await ok(ocikit, [
      'run',
      '-d',
      '--name',
      'unlimited',
      '--ulimit',
      'core=-1:-1',
      ocikit.image(),
      'sleep',
      '60',
    ]);
    const exec = await ok(ocikit, ['exec', 'unlimited', 'sh', '-c', script]);
    expect(exec).toMatch(/^Max core file size\s+unlimited\s+unlimited\s+bytes$/m);
    await ocikit.cli(['kill', 'unlimited']);
  }, 120_000);

  it('--ulimit core=-1:0 (soft unlimited above a hard limit) and core=unlimited are refused: exit 125, nothing made', async () => {
    const seen = await sides.both(async (s) => {
      const out = [];
      for (const [name, limit] of [
        ['ul-bad1', 'core=-1:0'],
        ['ul-bad2', 'core=unlimited'],
      ] as const) {
        const r = await s.cli([
          'create',
          ...s.runFlags,
          '--name',
          name,
          '--ulimit',
          limit,
          s.image(),
          'true',
        ]);
        const exists = (await s.cli(['container', 'exists', name])).code === 0;
        out.push({ code: r.code, exists, named: r.stderr.includes(limit) });
      }
      return out;
    });
    expect(seen.podman).toEqual(Array(2).fill({ code: 125, exists: false, named: true }));
    expect(seen.ocikit).toEqual(seen.podman);
  }, 60_000);
});
