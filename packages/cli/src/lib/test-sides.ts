// Test helper: the same commands under `ocikit` and under the real podman 4.3, side by side (the
// parity tests of issue 15), each on a fresh root of its own with one test image loaded into both.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podmanGlobalFlags, podmanRunFlags } from '@ocikit/test-images';
import { type CliResult, runCli, runProcess } from './test-cli.ts';

/** One of the two: its CLI, the test image's name there, and the run/create flags this host needs. */
export interface Side {
  name: 'ocikit' | 'podman';
  /** Runs its CLI with `args` (and `stdin`, default none). */
  cli(args: readonly string[], stdin?: string): Promise<CliResult>;
  /** The test image's name on this side. */
  image(): string;
  /** Flags `run` and `create` take here (podman's: no network, ulimits under the host's). */
  runFlags: readonly string[];
}

/** ocikit and podman, each with the test image. */
export interface Sides {
  ocikit: Side;
  podman: Side;
  /** Runs `each` with both at once; their results by name. */
  both<T>(each: (s: Side) => Promise<T>): Promise<Record<Side['name'], T>>;
  /** Kills and removes both sides' containers, podman's volumes, then both roots. */
  close(): Promise<void>;
}

/**
 * Makes an ocikit root and a podman root (under /var/tmp: podman's overlay storage wants a real
 * file system), builds the test image with `build(layout, ref)` and loads it into both: into
 * ocikit's store as `ref`, into podman's from `oci:LAYOUT:ref` (its name is podman's).
 *
 * @example
 * ```ts
 * const sides = await startSides('busybox', buildBusyboxImage);
 * const seen = await sides.both((s) => s.cli(['run', '--rm', ...s.runFlags, s.image(), 'true']));
 * await sides.close();
 * ```
 */
export async function startSides(
  ref: string,
  build: (layout: string, ref: string) => unknown,
): Promise<Sides> {
  const version = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0)
    throw new Error(
      `podman cannot run here (${version.error?.message ?? version.stderr.trim()}): install it with tools/run.sh`,
    );
  const ocikitRoot = mkdtempSync(join(tmpdir(), 'ocikit-sides-'));
  const podmanRoot = mkdtempSync(join('/var/tmp', 'ocikit-sides-podman-'));
  // lower case: podman names an image pulled from oci:DIR after the path
  const layoutDir = join(tmpdir(), `ocikit-sides-layout-${process.pid}-${ref.toLowerCase()}`);
  const dirs = [ocikitRoot, podmanRoot, layoutDir];
  const ocikit: Side = {
    name: 'ocikit',
    cli: (args, stdin) => runCli(['--root', ocikitRoot, ...args], stdin === undefined ? {} : { stdin }),
    image: () => ref,
    runFlags: [],
  };
  let podmanImage = '';
  const podman: Side = {
    name: 'podman',
    cli: (args, stdin) =>
      runProcess('podman', [...podmanGlobalFlags(podmanRoot), ...args], stdin === undefined ? {} : { stdin }),
    image: () => podmanImage,
    runFlags: podmanRunFlags,
  };
  const both = async <T>(each: (s: Side) => Promise<T>) => {
    const [o, p] = await Promise.all([each(ocikit), each(podman)]);
    return { ocikit: o, podman: p };
  };
  const close = async () => {
    await both(async (s) => {
      const ids = async (args: string[]) => (await s.cli(args)).stdout.split('\n').filter(Boolean);
      // killed first: podman's rm -f waits 10 s for a process that ignores SIGTERM
      const running = await ids(['ps', '-q']);
      if (running.length > 0) await s.cli(['kill', ...running]);
      const all = await ids(['ps', '-aq']);
      if (all.length > 0) await s.cli(['rm', '-f', ...all]);
    }).catch(() => undefined);
    await podman.cli(['volume', 'prune', '-f']).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    const layout = join(layoutDir, 'layout');
    build(layout, ref);
    const copied = await ocikit.cli(['copy', `oci:${layout}:${ref}`, `local:${ref}`]);
    if (copied.code !== 0) throw new Error(`ocikit cannot store the test image: ${copied.stderr.trim()}`);
    const pulled = await podman.cli(['pull', '-q', `oci:${layout}:${ref}`]);
    if (pulled.code !== 0) throw new Error(`podman cannot load the test image: ${pulled.stderr.trim()}`);
    podmanImage = pulled.stdout.trim().split('\n').at(-1) ?? '';
  } catch (e) {
    await close();
    throw e;
  }
  return { ocikit, podman, both, close };
}
