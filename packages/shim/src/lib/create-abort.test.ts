// Containers.createInRuntime honours its AbortSignal (issue 18, defect 4).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAborted, isNotFound } from '@ocikit/errors';
import { afterAll, describe, expect, it } from 'vitest';
import { Containers } from './containers.ts';
import { writeBusyboxBundle } from './test-bundle.ts';

const root = mkdtempSync(join(tmpdir(), 'ocikit-abort-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const containers = new Containers({ root });

/** Pids of live processes whose command line names `id` (conmon, the runtime, its hooks). */
function processesNaming(id: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(id)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** createInRuntime's error; a container it made after all is removed again. */
const createError = (id: string, signal: AbortSignal) =>
  containers.createInRuntime(id, { signal }).then(
    async (made) => {
      await containers.remove(made.id, { force: true });
      return undefined;
    },
    (e: unknown) => e,
  );

describe('Containers.createInRuntime with an AbortSignal', () => {
  it('starts nothing when the signal has fired already', async () => {
    const rec = await containers.prepare({ image: 'busybox', command: ['true'] });
    writeBusyboxBundle(rec.bundle, ['true']);
    const err = await createError(rec.id, AbortSignal.abort());
    expect(isAborted(err)).toBe(true);
    expect((await containers.get(rec.id)).status).toBe('configured');
    expect(existsSync(join(containers.dir, rec.id, 'exits'))).toBe(false);
    expect(existsSync(join(rec.runtimeRoot, rec.id))).toBe(false);
  });

  it('stops a create under way and cleans up what it made', async () => {
    const rec = await containers.prepare({ image: 'busybox', command: ['sleep', '60'] });
    // a hook that holds `runc create` for 5 s, so the abort lands while the runtime works
    writeBusyboxBundle(rec.bundle, ['sleep', '60'], (spec) => {
      spec.hooks = {
        createRuntime: [{ path: '/bin/sleep', args: ['sleep', '5'], env: [`OCIKIT_TEST=${rec.id}`] }],
      };
    });
    const started = Date.now();
    const err = await createError(rec.id, AbortSignal.timeout(500));
    expect(isAborted(err)).toBe(true);
    // before the hook's 5 s are over, with room for a loaded machine's cleanup (3 s left little)
    expect(Date.now() - started).toBeLessThan(4500);
    expect((await containers.get(rec.id)).status).toBe('configured');
    await expect(containers.runtimeFor(rec).state(rec.id)).rejects.toSatisfy(isNotFound);
    expect(existsSync(join(rec.runtimeRoot, rec.id))).toBe(false);
    expect(existsSync(join(root, 'attach', rec.id.slice(0, 12)))).toBe(false);
    expect(processesNaming(rec.id)).toEqual([]);
    // the record can be created afresh
    const config = join(rec.bundle, 'config.json');
    const { hooks: _hooks, ...spec } = JSON.parse(readFileSync(config, 'utf8')) as { hooks?: unknown };
    writeFileSync(config, JSON.stringify(spec));
    const made = await containers.createInRuntime(rec.id);
    expect(made.status).toBe('created');
    await containers.remove(rec.id, { force: true });
  });
});
