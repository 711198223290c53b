// The directory of attach sockets must be this user's alone (issue 18, defect 2).
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFailedPrecondition } from '@ocikit/errors';
import { afterAll, describe, expect, it } from 'vitest';
import { attachDirFor } from './attach-dir.ts';
import { Containers } from './containers.ts';
import { writeBusyboxBundle } from './test-bundle.ts';

const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});
const newRoot = () => {
  const root = mkdtempSync(join(tmpdir(), 'ocikit-sd-'));
  cleanup.push(root);
  return root;
};
const NOBODY = 65534;

/** createInRuntime's error; a container it made after all is removed again. */
const createError = (containers: Containers, id: string) =>
  containers.createInRuntime(id).then(
    async (made) => {
      await containers.remove(made.id, { force: true });
      return undefined;
    },
    (e: unknown) => e,
  );

async function configured(containers: Containers) {
  const rec = await containers.prepare({ image: 'busybox', command: ['sleep', '60'] });
  writeBusyboxBundle(rec.bundle, ['sleep', '60']);
  return rec;
}

describe('the attach socket directory', () => {
  it('is made 0700 under the state root, and attach finds it there', async () => {
    const root = newRoot();
    const containers = new Containers({ root });
    const rec = await containers.createInRuntime((await configured(containers)).id);
    try {
      const dir = join(root, 'attach');
      const st = lstatSync(dir);
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o777).toBe(0o700);
      expect(st.uid).toBe(process.geteuid?.());
      await containers.start(rec.id);
      expect(await containers.attachSocket(rec.id)).toBe(join(dir, rec.id.slice(0, 12), 'attach'));
    } finally {
      await containers.remove(rec.id, { force: true });
    }
  });

  it('refuses one made beforehand by another user, naming it and why, before starting anything', async () => {
    const root = newRoot();
    const dir = join(root, 'attach');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, NOBODY, NOBODY);
    const containers = new Containers({ root });
    const rec = await configured(containers);
    const err = await createError(containers, rec.id);
    expect(isFailedPrecondition(err)).toBe(true);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toMatch(/owned by uid 65534/);
    expect((err as { details: Record<string, unknown> }).details).toMatchObject({ path: dir, owner: NOBODY });
    expect((await containers.get(rec.id)).status).toBe('configured');
  });

  it('refuses one that others may write to (mode 0777)', async () => {
    const root = newRoot();
    const dir = join(root, 'attach');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const containers = new Containers({ root });
    const rec = await configured(containers);
    const err = await createError(containers, rec.id);
    expect(isFailedPrecondition(err)).toBe(true);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toMatch(/mode 0777, not 0700/);
  });

  it('refuses a symbolic link in its place', async () => {
    const root = newRoot();
    const elsewhere = newRoot();
    chmodSync(elsewhere, 0o700);
    symlinkSync(elsewhere, join(root, 'attach'));
    const containers = new Containers({ root });
    const rec = await configured(containers);
    const err = await createError(containers, rec.id);
    expect(isFailedPrecondition(err)).toBe(true);
    expect((err as Error).message).toMatch(/not a directory/);
  });

  it('falls back to $XDG_RUNTIME_DIR (itself checked) when the root is too long for a socket path', () => {
    const longRoot = join(newRoot(), 'x'.repeat(80));
    const saved = process.env.XDG_RUNTIME_DIR;
    try {
      delete process.env.XDG_RUNTIME_DIR;
      let err: unknown;
      try {
        attachDirFor(longRoot);
      } catch (e) {
        err = e;
      }
      expect(isFailedPrecondition(err)).toBe(true);
      expect((err as { details: unknown }).details).toMatchObject({ reason: 'path-too-long' });
      const runtimeDir = newRoot();
      chmodSync(runtimeDir, 0o700);
      process.env.XDG_RUNTIME_DIR = runtimeDir;
      expect(attachDirFor(longRoot)).toBe(join(runtimeDir, 'ocikit-attach'));
      chmodSync(runtimeDir, 0o755);
      expect(() => attachDirFor(longRoot)).toThrow(/mode 0755, not 0700/);
      const short = newRoot();
      expect(attachDirFor(short)).toBe(join(short, 'attach'));
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });
});
