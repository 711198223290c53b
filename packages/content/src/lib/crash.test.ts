import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIndex } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { openLayout } from './layout.ts';

const worker = fileURLToPath(new URL('../../test/worker.ts', import.meta.url));

function run(args: string[]): { child: ChildProcess; lines: string[]; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--conditions=@ocikit/source', worker, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exit };
}

const until = async (cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

// A small deterministic PRNG, so a failing kill point can be reproduced from the seed.
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('crash safety: SIGKILL at any point', () => {
  it('never leaves a partial blob visible, and the next write resumes from what was kept', async () => {
    const random = prng(20261122);
    const size = 4 * 1024 * 1024 + 123;
    for (let round = 0; round < 6; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'ocikit-crash-'));
      const seed = `round-${round}`;
      // Kill after a random number of chunks (0 = right after opening the writer).
      const killAfter = Math.floor(random() * 60);
      const w = run([dir, String(size), seed, '', '1']);
      await until(
        () =>
          w.lines.filter((l) => l.startsWith('wrote')).length >= killAfter ||
          w.lines.some((l) => l.startsWith('done')),
      );
      w.child.kill('SIGKILL');
      await w.exit;
      const finished = w.lines.some((l) => l.startsWith('done'));
      const blobs = existsSync(join(dir, 'blobs', 'sha256')) ? readdirSync(join(dir, 'blobs', 'sha256')) : [];
      if (!finished) expect(blobs, `round ${round}: no blob visible after a kill mid-write`).toEqual([]);
      const layout = await openLayout(dir);
      expect((await layout.fsck()).problems).toEqual([]);
      // The next writer resumes (offset > 0 when bytes were kept) and finishes a correct blob.
      const again = run([dir, String(size), seed, 'latest']);
      expect(await again.exit).toBe(0);
      const offset = Number(again.lines[0]?.split(' ')[1]);
      if (!finished && killAfter > 2) expect(offset, `round ${round} resumes`).toBeGreaterThan(0);
      const done = again.lines.find((l) => l.startsWith('done'))?.split(' ')[1];
      expect((await layout.resolve('latest')).digest).toBe(done);
      const check = await layout.fsck();
      expect(check.problems).toEqual([]);
      expect(check.blobs).toBe(1);
    }
  }, 120_000);
});

describe('safety across processes', () => {
  it('lets several processes write the same blob and tag at once without corruption', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocikit-race-'));
    await openLayout(dir, { create: true });
    const size = 1024 * 1024 + 7;
    const workers = Array.from({ length: 5 }, (_, i) => run([dir, String(size), 'same', `t${i},shared`]));
    const codes = await Promise.all(workers.map((w) => w.exit));
    expect(codes).toEqual([0, 0, 0, 0, 0]);
    const index = parseIndex(readFileSync(join(dir, 'index.json')));
    const names = index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).sort();
    expect(names).toEqual(['shared', 't0', 't1', 't2', 't3', 't4']);
    const layout = await openLayout(dir);
    const check = await layout.fsck();
    expect(check.problems).toEqual([]);
    expect(check.blobs).toBe(1);
  }, 60_000);
});
