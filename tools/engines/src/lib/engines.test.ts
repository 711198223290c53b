// The engine fixtures against the real dockerd and podman: each starts on its own socket, answers
// /version with API 1.41 or later, and leaves no process, mount or directory behind when stopped.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { socketRequest } from './api.ts';
import { startDockerd } from './dockerd.ts';
import { startPodmanService } from './podman.ts';
import { mountsUnder, type RunningEngine } from './process.ts';

/** Pids whose command line names `dir`. */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const apiVersion = (v: string) => v.split('.').map(Number) as [number, number];

async function checkEngine(engine: RunningEngine, path: string): Promise<void> {
  const dir = engine.dir;
  try {
    expect(engine.host).toBe(`unix://${engine.socket}`);
    const res = await socketRequest(engine.socket, 'GET', path);
    expect(res.status, res.body).toBe(200);
    const version = JSON.parse(res.body) as { ApiVersion: string };
    const [major, minor] = apiVersion(version.ApiVersion);
    expect(major * 1000 + minor, version.ApiVersion).toBeGreaterThanOrEqual(1041);
    expect(processesNaming(dir).length).toBeGreaterThan(0);
  } finally {
    await engine.stop();
  }
  expect(processesNaming(dir)).toEqual([]);
  expect(mountsUnder(dir)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
}

describe('engine fixtures', () => {
  it('dockerd starts on its own socket, answers /version (API >= 1.41) and stops clean', async () => {
    // two at once: each has its own containerd, exec root and pid file
    const [a, b] = await Promise.all([
      startDockerd(),
      startDockerd({ insecureRegistries: ['127.0.0.1:5000'] }),
    ]);
    expect(a.socket).not.toBe(b.socket);
    await Promise.all([checkEngine(a, '/version'), checkEngine(b, '/v1.41/version')]);
  }, 120_000);

  it('podman system service starts on its own socket, answers /version (API >= 1.41) and stops clean', async () => {
    const podman = await startPodmanService({ insecureRegistries: ['127.0.0.1:5000'] });
    expect(podman.env['CONTAINER_HOST']).toBe(podman.host);
    await checkEngine(podman, '/version');
  }, 120_000);

  it('podman serves the libpod API too', async () => {
    const podman = await startPodmanService();
    try {
      const res = await socketRequest(podman.socket, 'GET', '/v4.0.0/libpod/version');
      expect(res.status, res.body).toBe(200);
      expect((JSON.parse(res.body) as { Version: string }).Version).toMatch(/^4\./);
    } finally {
      await podman.stop();
    }
  }, 120_000);

  it('refuses an insecure registry that is not HOST[:PORT], naming it, before starting anything', async () => {
    for (const start of [startDockerd, startPodmanService]) {
      const e = await start({ insecureRegistries: ['127.0.0.1:5000 --debug'] }).catch((err: unknown) => err);
      expect(isInvalidArgument(e)).toBe(true);
      expect(String(e)).toContain('"127.0.0.1:5000 --debug" is not a HOST[:PORT]');
    }
  });
});
