// The runtime wrapper and the container supervisor with the real runc and crun (and conmon).
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFailedPrecondition, isInvalidArgument, isNotFound } from '@ocikit/errors';
import { runInPty } from '@ocikit/test-images';
import { afterAll, describe, expect, it } from 'vitest';
import { Containers } from './containers.ts';
import { Runtime } from './runtime.ts';
import { busyboxBundle, writeBusyboxBundle } from './test-bundle.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-shim-'));
const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});
let seq = 0;
const newId = () => `ocikit-shim-test-${process.pid}-${seq++}`;

/** Runs a bundle in the foreground with stdin from a string; returns the exit code and stdout. */
async function runWith(
  runtime: Runtime,
  bundle: string,
  input = '',
): Promise<{ code: number; stdout: string }> {
  const dir = tmp();
  cleanup.push(dir);
  writeFileSync(join(dir, 'in'), input);
  const inFd = openSync(join(dir, 'in'), 'r');
  const outFd = openSync(join(dir, 'out'), 'w');
  try {
    const { exitCode: code } = await runtime.run(newId(), { bundle, stdio: [inFd, outFd, 'pipe'] });
    return { code, stdout: readFileSync(join(dir, 'out'), 'utf8') };
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
}

describe.each(['runc', 'crun'])('Runtime with the real %s', (binary) => {
  const root = tmp();
  cleanup.push(root);
  const runtime = new Runtime({ binary, root });

  it('returns exit codes 0, 7 and 137 (SIGKILL), and pipes stdin through', async () => {
    expect((await runWith(runtime, busyboxBundle(['true']))).code).toBe(0);
    expect((await runWith(runtime, busyboxBundle(['sh', '-c', 'exit 7']))).code).toBe(7);
    // init ignores signals from inside its namespace: a process killed by SIGKILL reports 137
    expect(
      (await runWith(runtime, busyboxBundle(['sh', '-c', 'sh -c "kill -9 \\$\\$"; exit $?']))).code,
    ).toBe(137);
    const echoed = await runWith(runtime, busyboxBundle(['sh', '-c', 'tr a-z A-Z']), 'piped in\n');
    expect(echoed).toEqual({ code: 0, stdout: 'PIPED IN\n' });
  });

  it('creates, reports state, lists, pauses, resumes, ps, updates, kills and deletes', async () => {
    const id = newId();
    const bundle = busyboxBundle(['sleep', '60']);
    await runtime.create(id, { bundle, pidFile: join(bundle, 'pid') });
    const created = await runtime.state(id);
    expect(created.status).toBe('created');
    expect(created.pid).toBe(Number(readFileSync(join(bundle, 'pid'), 'utf8')));
    await runtime.start(id);
    expect((await runtime.state(id)).status).toBe('running');
    expect((await runtime.list()).map((s) => s.id)).toContain(id);
    expect((await runtime.ps(id)).length).toBeGreaterThanOrEqual(1);
    await runtime.pause(id);
    expect((await runtime.state(id)).status as string).toBe('paused');
    await runtime.resume(id);
    await runtime.update(id, { pids: { limit: 50 } });
    await runtime.kill(id, 'SIGKILL');
    // up to 500 looks (runc state is slow on a loaded machine)
    for (let i = 0; i < 500 && (await runtime.state(id)).status !== 'stopped'; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await runtime.state(id)).status).toBe('stopped');
    await runtime.delete(id);
    await expect(runtime.state(id)).rejects.toSatisfy(isNotFound);
  });

  it("fails with the runtime's own message in a typed error", async () => {
    const err = await runtime
      .create(newId(), { bundle: join(tmp(), 'no-such-bundle') })
      .catch((e: unknown) => e);
    expect(isFailedPrecondition(err) || isNotFound(err) || isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^${binary} create`));
    expect((err as { details: { runtimeMessage: string } }).details.runtimeMessage).toMatch(
      /config\.json|no such file/i,
    );
    await expect(runtime.kill('no-such-container', 'SIGTERM')).rejects.toSatisfy(isNotFound);
  });

  it('parses features where the runtime has them', async () => {
    if (binary === 'runc') {
      const features = await runtime.features();
      expect(features.ociVersionMax).toMatch(/^1\./);
      expect(features.linux?.namespaces).toContain('pid');
    } else {
      // crun 1.8.1 predates `features`: a typed refusal, not a crash
      await expect(runtime.features()).rejects.toSatisfy(isFailedPrecondition);
    }
  });
});

describe.each(['runc', 'crun'])('Containers (conmon-supervised) with %s', (binary) => {
  const root = tmp();
  cleanup.push(root);
  const containers = new Containers({ root });

  const make = async (args: string[], name?: string, stopTimeout?: number) => {
    const rec = await containers.prepare({
      image: 'busybox',
      command: args,
      runtime: { binary },
      ...(name ? { name } : {}),
      ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    });
    writeBusyboxBundle(rec.bundle, args);
    return rec;
  };

  it('runs detached: logs, exec, kill → 137, wait, remove; the exit code outlives us', async () => {
    const rec = await make(['sh', '-c', 'echo out; echo err >&2; exec sleep 60'], `d-${binary}`);
    await containers.createInRuntime(rec.id);
    await containers.start(`d-${binary}`);
    // up to 30 s for its two lines: conmon and the container start slowly on a loaded machine
    for (let i = 0; i < 600; i++) {
      const lines = [];
      for await (const l of containers.logs(rec.id)) lines.push(l);
      if (lines.length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = [];
    for await (const l of containers.logs(rec.id)) lines.push(l);
    expect(lines.map((l) => `${l.stream}:${l.text}`).sort()).toEqual(['stderr:err', 'stdout:out']);
    expect(lines[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);

    const dir = tmp();
    const outFd = openSync(join(dir, 'out'), 'w');
    const code = await containers.exec(
      rec.id,
      { args: ['sh', '-c', 'echo in-exec; exit 3'] },
      {
        stdio: ['ignore', outFd, 'pipe'],
      },
    );
    closeSync(outFd);
    expect(code).toBe(3);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('in-exec\n');
    expect((await containers.top(rec.id)).length).toBeGreaterThanOrEqual(1);

    await containers.pause(rec.id);
    expect((await containers.get(rec.id)).status).toBe('paused');
    await containers.unpause(rec.id);
    await containers.kill(rec.id, 'SIGKILL');
    expect(await containers.wait(rec.id)).toBe(137);
    const done = await containers.get(rec.id);
    expect(done).toMatchObject({ status: 'exited', exitCode: 137 });
    expect(done.finishedAt).toBeDefined();
    await containers.remove(rec.id);
    await expect(containers.get(rec.id)).rejects.toSatisfy(isNotFound);
  });

  it('stops with the stop signal, then SIGKILL after the timeout', async () => {
    const polite = await make(['sleep', '60']);
    await containers.createInRuntime(polite.id);
    await containers.start(polite.id);
    // sleep as pid 1 ignores SIGTERM: stop falls back to SIGKILL after 1 s
    const started = Date.now();
    expect(await containers.stop(polite.id, { timeout: 1 })).toBe(137);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const trapping = await make([
      'sh',
      '-c',
      'trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done',
    ]);
    await containers.createInRuntime(trapping.id);
    await containers.start(trapping.id);
    // stopped once its trap is set (it says ready after; up to 30 s): a fixed 300 ms could come
    // first on a loaded machine, and PID 1 then ignored SIGTERM and took the SIGKILL (137)
    for (let i = 0; i < 300; i++) {
      const lines = [];
      for await (const l of containers.logs(trapping.id)) lines.push(l.text);
      if (lines.includes('ready')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await containers.stop(trapping.id, { timeout: 10 })).toBe(0);
    await expect(containers.remove(polite.id)).resolves.toBeDefined();
    await containers.remove(trapping.id);
    // no timeout given: the record's stopTimeout (--stop-timeout), not 10 s
    const quick = await make(['sleep', '60'], undefined, 1);
    await containers.createInRuntime(quick.id);
    await containers.start(quick.id);
    const since = Date.now();
    expect(await containers.stop(quick.id)).toBe(137);
    // 1 s and a loaded machine's overhead; the default 10 s would take at least 10 000 ms
    expect(Date.now() - since).toBeLessThan(9_000);
    await containers.remove(quick.id);
  });

  it('refuses to start a created container that was killed before its start, and says it exited', async () => {
    const rec = await make(['sleep', '60']);
    await containers.createInRuntime(rec.id);
    // the record still says created; the runtime's container is stopped
    await containers.kill(rec.id, 'SIGKILL');
    const err = await containers.start(rec.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFailedPrecondition(err), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/is exited; only a created container can start/);
    expect((await containers.get(rec.id)).status).toBe('exited');
    await containers.remove(rec.id);
  });

  it('refuses a second container with the same name, and removing a running one without force', async () => {
    const rec = await make(['sleep', '60'], `dup-${binary}`);
    await expect(
      containers.prepare({ image: 'busybox', command: ['true'], name: `dup-${binary}` }),
    ).rejects.toThrow(/exists already/);
    await containers.createInRuntime(rec.id);
    await containers.start(rec.id);
    await expect(containers.remove(rec.id)).rejects.toSatisfy(isFailedPrecondition);
    await containers.remove(rec.id, { force: true });
    expect((await containers.list()).map((r) => r.id)).not.toContain(rec.id);
  });
});

describe('Containers with runc', () => {
  const root = tmp();
  cleanup.push(root);
  const containers = new Containers({ root });

  it('runs ten containers at once', async () => {
    const recs = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const rec = await containers.prepare({ image: 'busybox', command: ['sh', '-c', `exit ${i}`] });
        writeBusyboxBundle(rec.bundle, ['sh', '-c', `exit ${i}`]);
        return rec;
      }),
    );
    const codes = await Promise.all(
      recs.map(async (r) => (await containers.runForeground(r.id, { stdio: 'ignore' })).exitCode),
    );
    expect(codes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const listed = await containers.list();
    expect(listed.filter((r) => r.status === 'exited')).toHaveLength(10);
  });

  it('reconciles the record of a foreground run whose ocikit was killed mid-run', async () => {
    // it runs until told (after its ocikit is killed), then ends on its own: a `sleep 1` could end
    // before a loaded machine's look saw it running
    const command = ['sh', '-c', 'until [ -e /go ]; do sleep 0.1; done'];
    const rec = await containers.prepare({ image: 'busybox', command });
    writeBusyboxBundle(rec.bundle, command);
    const script = join(tmp(), 'runner.ts');
    writeFileSync(
      script,
      `import { Containers } from ${JSON.stringify(fileURLToPath(new URL('./containers.ts', import.meta.url)))};\n` +
        `await new Containers({ root: ${JSON.stringify(root)} }).runForeground(${JSON.stringify(rec.id)}, { stdio: 'ignore' });\n`,
    );
    const child = spawn(process.execPath, ['--conditions=@ocikit/source', script], { stdio: 'ignore' });
    // up to 30 s: a Node child from source starts slowly on a loaded machine (5 s were tight)
    for (let i = 0; i < 600 && (await containers.get(rec.id)).pid === undefined; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await containers.get(rec.id)).status).toBe('running');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    // the orphaned runtime finishes the container; the next look at the record reconciles it
    writeFileSync(join(rec.bundle, 'rootfs', 'go'), '');
    const code = await containers.wait(rec.id);
    const record = await containers.get(rec.id);
    expect(record.status).toBe('exited');
    expect(record.finishedAt).toBeDefined();
    expect(code === undefined || code === 0).toBe(true);
  });

  it('drives a TTY session through a real pseudo-terminal (the runtime in a session of its own)', async () => {
    const rec = await containers.prepare({ image: 'busybox', command: ['sh'], tty: true });
    writeBusyboxBundle(
      rec.bundle,
      [
        'sh',
        '-c',
        // after the resize, the new size once it has come through (up to 10 s): the line typed half
        // a second after it could outrun the proxied resize on a loaded machine
        's0=$(stty size); test -t 0 && echo "is a tty: $(tty)"; read line; echo "got $line"; read line; ' +
          'i=0; while [ "$(stty size)" = "$s0" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; ' +
          'echo "size $(stty size)"',
      ],
      (spec) => {
        if (spec.process) spec.process.terminal = true;
      },
    );
    const script = join(tmp(), 'tty.ts');
    writeFileSync(
      script,
      `import { Containers } from ${JSON.stringify(fileURLToPath(new URL('./containers.ts', import.meta.url)))};\n` +
        `process.exitCode = (await new Containers({ root: ${JSON.stringify(root)} }).runForeground(${JSON.stringify(rec.id)}, { proxySignals: true })).exitCode;\n`,
    );
    // a real terminal: a line typed once the container shows it has one, then a resize (the kernel
    // tells our foreground group, the proxy tells the runtime)
    const r = runInPty(
      [process.execPath, '--conditions=@ocikit/source', script],
      [
        { after: 'is a tty', send: 'hello\n' },
        { after: 'got hello', resize: [33, 97], send: 'more\n' },
      ],
    );
    expect(r.output).toMatch(/is a tty: \/dev\/(pts\/\d+|console)/);
    expect(r.output).toContain('got hello');
    expect(r.output).toContain('size 33 97');
    expect(r.status).toBe(0);
  });

  it('names a missing runtime clearly', () => {
    expect(() => new Runtime({ binary: 'no-such-runtime' })).toThrow(/not installed/);
  });
});

describe('Containers: a removal a killed process left', () => {
  it('deletes a moved-aside directory whose remover is gone, and keeps one whose remover is alive', async () => {
    const root = tmp();
    cleanup.push(root);
    const containers = new Containers({ root });
    const id = 'a'.repeat(64);
    const dead = spawnSync('true').pid as number;
    const gone = join(root, 'containers', `${id}.removing-${dead}-1`);
    const busy = join(root, 'containers', `${id}.removing-${process.pid}-2`);
    for (const d of [gone, busy]) {
      mkdirSync(join(d, 'rootfs'), { recursive: true });
      writeFileSync(join(d, 'container.json'), '{}');
    }
    expect(await containers.list()).toEqual([]);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(busy)).toBe(true);
  });
});
