// Forced removes of running autoRemove containers race conmon and the exit command it runs (the
// container's `die` marker, its record refreshed): remove must still remove everything, every time.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { Engine } from '@ocikit/engine';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDriver } from './driver.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-local-rm-'));
let root: string;
let engine: Engine;

beforeAll(async () => {
  root = tmp();
  const layout = join(tmp(), 'layout');
  buildBusyboxImage(layout, 'busybox');
  const store = await openLayout(join(root, 'content'), { create: true });
  await copy(await openLayout(layout), 'busybox', store, 'docker.io/library/busybox:latest');
  engine = await Engine.connect(localDriver(), `local:${root}`);
});

afterAll(async () => {
  for (const c of await engine.containers.list({ all: true }))
    await engine.containers.remove(c.id, { force: true }).catch(() => {});
  await engine.close();
  rmSync(root, { recursive: true, force: true });
});

describe('local engine containers.remove', () => {
  it('removes running autoRemove containers with force while their exit commands run, every time', async () => {
    for (let round = 0; round < 2; round++) {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { id } = await engine.containers.create({
          image: 'busybox',
          cmd: ['sleep', '100'],
          autoRemove: true,
        });
        await engine.containers.start(id);
        ids.push(id);
      }
      const results = await Promise.allSettled(
        ids.map((id) => engine.containers.remove(id, { force: true })),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      for (const id of ids) expect(existsSync(join(root, 'containers', id))).toBe(false);
    }
    // give the exit commands time to finish: they must not bring anything back
    await new Promise((r) => setTimeout(r, 1500));
    expect(await engine.containers.list({ all: true })).toEqual([]);
  }, 120_000);

  it('removes a container whose directory is still being written to by a late writer', async () => {
    // the exit command conmon runs as it ends writes the container's `die` marker and its refreshed
    // record into the directory while remove may be deleting it (ENOTEMPTY under load): a process
    // writing there from conmon's end until 300 ms after stands in for it, deterministically
    const { id } = await engine.containers.create({
      image: 'busybox',
      cmd: ['sleep', '100'],
      autoRemove: true,
    });
    await engine.containers.start(id);
    const dir = join(root, 'containers', id);
    const conmon = Number(readFileSync(join(dir, 'conmon.pid'), 'utf8'));
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs'); const [dir, pid] = process.argv.slice(1); let n = 0, end = Infinity;
         const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
         while (Date.now() < end) {
           if (end === Infinity && !alive()) end = Date.now() + 300;
           try { fs.closeSync(fs.openSync(dir + '/late' + n++, 'wx')); } catch {}
         }`,
        dir,
        String(conmon),
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((r) => writer.on('exit', r));
    while (!readdirSync(dir).some((f) => f.startsWith('late'))) await new Promise((r) => setTimeout(r, 5));
    await engine.containers.remove(id, { force: true });
    await exited;
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
