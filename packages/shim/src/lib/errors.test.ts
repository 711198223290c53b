// The shim's errors say what failed in library terms and carry a reason programs can branch on.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlreadyExists, isFailedPrecondition, isInvalidArgument, isNotFound } from '@ocikit/errors';
import { afterAll, describe, expect, it } from 'vitest';
import { Containers } from './containers.ts';
import type { ContainerRecord } from './records.ts';
import { Runtime } from './runtime.ts';
import { busyboxBundle } from './test-bundle.ts';

const root = mkdtempSync(join(tmpdir(), 'ocikit-shim-err-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const containers = new Containers({ root });

/** Neither a command of ours nor a flag: what a library must not tell its callers to type. */
const CLI_SPEAK = /\bocikit [a-z]|(^|\s)--?[a-z]/;
const error = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );
const speech = (e: unknown) => `${(e as Error).message} ${(e as { hint?: string }).hint ?? ''}`;

/** An exited container with a chosen id, written as `prepare` would have. */
async function exited(id: string, name: string): Promise<ContainerRecord> {
  const rec = await containers.prepare({ image: 'busybox', command: ['true'] });
  const record: ContainerRecord = { ...rec, id, name, status: 'exited', exitCode: 0 };
  mkdirSync(join(containers.dir, id), { recursive: true });
  await containers.save(record);
  await containers.remove(rec.id);
  return record;
}

describe('Containers errors', () => {
  it('an id prefix of several containers: InvalidArgument, reason ambiguous, with the count', async () => {
    await exited(`abc1${'0'.repeat(60)}`, 'first');
    await exited(`abc2${'0'.repeat(60)}`, 'second');
    const err = await error(containers.get('abc'));
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as { details: unknown }).details).toMatchObject({
      reason: 'ambiguous',
      ref: 'abc',
      matches: 2,
    });
    expect(speech(err)).not.toMatch(CLI_SPEAK);
    expect((await containers.get('abc1')).name).toBe('first');
  });

  it('no such container: NotFound, reason no-such-container', async () => {
    const err = await error(containers.get('nothing-here'));
    expect(isNotFound(err)).toBe(true);
    expect((err as { details: unknown }).details).toMatchObject({ reason: 'no-such-container' });
    expect(speech(err)).not.toMatch(CLI_SPEAK);
  });

  it('a name in use: AlreadyExists, reason name-in-use, naming the holder', async () => {
    const err = await error(containers.prepare({ image: 'busybox', command: ['true'], name: 'first' }));
    expect(isAlreadyExists(err)).toBe(true);
    expect((err as { details: unknown }).details).toMatchObject({
      reason: 'name-in-use',
      name: 'first',
      id: `abc1${'0'.repeat(60)}`,
    });
    expect(speech(err)).not.toMatch(CLI_SPEAK);
  });

  it('removing a live container without force: FailedPrecondition, reason not-stopped', async () => {
    const rec = await containers.prepare({ image: 'busybox', command: ['true'] });
    // a foreground run of this very process, still starting: live
    await containers.save({ ...rec, status: 'running', ownerPid: process.pid });
    const err = await error(containers.remove(rec.id));
    expect(isFailedPrecondition(err)).toBe(true);
    expect((err as { details: unknown }).details).toMatchObject({ reason: 'not-stopped', status: 'running' });
    expect(speech(err)).not.toMatch(CLI_SPEAK);
  });

  it('a runtime that is not installed: reason runtime-not-installed, no flag named', () => {
    let err: unknown;
    try {
      new Runtime({ binary: 'no-such-runtime' });
    } catch (e) {
      err = e;
    }
    expect(isFailedPrecondition(err)).toBe(true);
    expect((err as { details: unknown }).details).toMatchObject({ reason: 'runtime-not-installed' });
    expect(speech(err)).not.toMatch(CLI_SPEAK);
  });

  it.each(['runc', 'crun'])(
    'a command %s cannot start: reason command-not-found or command-not-executable',
    async (binary) => {
      const runtime = new Runtime({ binary, root: join(root, 'rt', binary) });
      const run = (args: string[]) =>
        error(
          runtime.run(`err-${binary}-${args[0]?.length}`, { bundle: busyboxBundle(args), stdio: 'ignore' }),
        );
      const missing = await run(['no-such-command']);
      expect((missing as { details: unknown }).details).toMatchObject({ reason: 'command-not-found' });
      const notExecutable = await run(['/etc/passwd']);
      expect((notExecutable as { details: unknown }).details).toMatchObject({
        reason: 'command-not-executable',
      });
    },
  );
});
