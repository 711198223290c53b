// Foreground runs with the real runc: output captured or streamed, kept as a log, failed starts recorded.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcikitError } from '@ocikit/errors';
import { afterAll, describe, expect, it } from 'vitest';
import { Containers } from './containers.ts';
import { Runtime } from './runtime.ts';
import { busyboxBundle, writeBusyboxBundle } from './test-bundle.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-fg-'));
const root = tmp();
afterAll(() => rmSync(root, { recursive: true, force: true }));
const script = 'echo out; echo err >&2; exit 3';

describe('Runtime.run with the real runc', () => {
  const runtime = new Runtime({ binary: 'runc', root: join(root, 'rt') });

  it("returns the exit code with the process's output when piped", async () => {
    const result = await runtime.run(`fg-pipe-${process.pid}`, {
      bundle: busyboxBundle(['sh', '-c', script]),
      stdio: 'pipe',
    });
    expect(result).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('streams the output to `output` as it comes', async () => {
    const seen: string[] = [];
    const result = await runtime.run(`fg-sink-${process.pid}`, {
      bundle: busyboxBundle(['sh', '-c', script]),
      stdio: 'ignore',
      output: (stream, chunk) => {
        seen.push(`${stream}:${chunk.toString('utf8')}`);
        return true;
      },
    });
    expect(result.exitCode).toBe(3);
    expect(seen.sort()).toEqual(['stderr:err\n', 'stdout:out\n']);
  });
});

describe('Containers.runForeground with the real runc', () => {
  const containers = new Containers({ root: join(root, 'state'), logSizeMax: 4096 });
  const make = async (args: string[], extra: { autoRemove?: boolean } = {}) => {
    const rec = await containers.prepare({ image: 'busybox', command: args, ...extra });
    writeBusyboxBundle(rec.bundle, args);
    return rec;
  };

  it('returns the output and keeps it as the log once the container has exited', async () => {
    const rec = await make(['sh', '-c', script]);
    const result = await containers.runForeground(rec.id, { stdio: 'pipe' });
    expect(result).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    const lines = [];
    for await (const line of containers.logs(rec.id)) lines.push(`${line.stream}:${line.text}`);
    expect(lines.sort()).toEqual(['stderr:err', 'stdout:out']);
    expect((await containers.get(rec.id)).exitCode).toBe(3);
  });

  it('keeps the log within logSizeMax, starting it over when full (as conmon)', async () => {
    const rec = await make([
      'sh',
      '-c',
      'i=0; while [ $i -lt 400 ]; do echo "line $i of the log"; i=$((i+1)); done',
    ]);
    const result = await containers.runForeground(rec.id, { stdio: 'ignore' });
    expect(result.exitCode).toBe(0);
    expect(statSync(rec.logPath).size).toBeLessThanOrEqual(4096);
    const lines = [];
    for await (const line of containers.logs(rec.id)) lines.push(line.text);
    expect(lines.at(-1)).toBe('line 399 of the log');
  });

  it('records a command that cannot start as exited 127 or 126, with the reason', async () => {
    for (const [args, code, reason] of [
      [['no-such-command'], 127, 'command-not-found'],
      [['/etc/passwd'], 126, 'command-not-executable'],
    ] as const) {
      const rec = await make([...args]);
      const err = await containers.runForeground(rec.id, { stdio: 'ignore' }).catch((e: unknown) => e);
      expect(isOcikitError(err) && err.details.reason).toBe(reason);
      const after = await containers.get(rec.id);
      expect(after.status).toBe('exited');
      expect(after.exitCode).toBe(code);
      expect(after.error).toMatch(/no-such-command|permission denied/i);
    }
  });

  it('records a detached container whose command cannot start as exited 127, not configured', async () => {
    const rec = await make(['no-such-command']);
    const err = await containers.createInRuntime(rec.id).catch((e: unknown) => e);
    expect(isOcikitError(err) && err.details.reason).toBe('command-not-found');
    const after = await containers.get(rec.id);
    expect(after.status).toBe('exited');
    expect(after.exitCode).toBe(127);
    expect(after.error).toMatch(/no-such-command/);
    await containers.remove(rec.id);
  });
});
