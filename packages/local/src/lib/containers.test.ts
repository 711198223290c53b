// The local engine's container operations end to end: real runc and conmon, the busybox test image
// in a temp state root's store, through the Engine client as a library user would.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, openLayout } from '@ocikit/content';
import { Engine, type OutputChunk } from '@ocikit/engine';
import { isOcikitError } from '@ocikit/errors';
import { buildBusyboxImage, buildVolumeImage } from '@ocikit/test-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDriver } from './driver.ts';

/** Temp dirs this file made: all removed after it (the state root, image layouts, bind sources). */
const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-local-ctr-'));
  made.push(dir);
  return dir;
};
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
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Everything an output iterable gives, by stream, as text. */
async function collect(output: AsyncIterable<OutputChunk>): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  for await (const chunk of output) out[chunk.stream] += Buffer.from(chunk.data).toString('utf8');
  return out;
}

/** The standard reason of a failed call. */
async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return isOcikitError(e) ? { reason: e.details.reason, engine: e.details.engine } : e;
  }
  return 'no error';
}

describe('local engine containers', () => {
  it('allows ICMP datagram sockets in its own network namespace (ping_group_range 0 0, as podman)', async () => {
    // podman's default_sysctls (Debian's containers.conf): an unprivileged ping without NET_RAW
    // (found comparing with podman: its containers had it, ours "1 0")
    const { exitCode, id } = await engine.containers.run(
      { image: 'busybox', cmd: ['cat', '/proc/sys/net/ipv4/ping_group_range'] },
      {},
    );
    expect(exitCode).toBe(0);
    expect((await collect(engine.containers.logs(id))).stdout).toBe('0\t0\n');
    await engine.containers.remove(id, { force: true });
  });

  it("gives root in a container podman's default capabilities: chown and reading another user's files work", async () => {
    // runc's bundle default (AUDIT_WRITE, KILL, NET_BIND_SERVICE) let root neither chown nor read a
    // file it does not own; podman and docker grant CHOWN, DAC_OVERRIDE, FOWNER, SETUID, … (found by
    // the volume parity test against podman)
    const { exitCode, id } = await engine.containers.run(
      {
        image: 'busybox',
        cmd: [
          'sh',
          '-c',
          'echo secret > /f && chown 1234:1234 /f && chmod 600 /f && cat /f && grep CapEff /proc/self/status',
        ],
      },
      {},
    );
    expect(exitCode).toBe(0);
    const out = await collect(engine.containers.logs(id));
    expect(out.stdout).toMatch(/^secret\nCapEff:\s+00000000800405fb\n$/);
    await engine.containers.remove(id, { force: true });
    // capDrop/capAdd edit that set
    const edited = await engine.containers.run(
      {
        image: 'busybox',
        cmd: ['sh', '-c', 'grep CapEff /proc/self/status'],
        capDrop: ['ALL'],
        capAdd: ['chown', 'CAP_KILL'],
      },
      {},
    );
    expect((await collect(engine.containers.logs(edited.id))).stdout).toMatch(
      /^CapEff:\s+0000000000000021\n$/,
    );
    await engine.containers.remove(edited.id, { force: true });
  });

  it('create → start → logs → wait → inspect → remove, with env and a bind mount', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'greeting'), 'hello from the host\n');
    const { id } = await engine.containers.create({
      image: 'busybox',
      name: 'lib-basic',
      cmd: ['sh', '-c', 'echo "$GREETING"; cat /data/greeting; echo oops >&2; exit 3'],
      env: ['GREETING=hi there'],
      mounts: [{ type: 'bind', source: dir, target: '/data', readOnly: true }],
    });
    expect((await engine.containers.inspect('lib-basic')).state.status).toBe('created');
    await engine.containers.start(id);
    expect(await engine.containers.wait(id)).toBe(3);
    const logs = await collect(engine.containers.logs(id));
    expect(logs).toEqual({ stdout: 'hi there\nhello from the host\n', stderr: 'oops\n' });
    const tail = await collect(engine.containers.logs(id, { tail: 2 }));
    expect(tail).toEqual({ stdout: 'hello from the host\n', stderr: 'oops\n' });
    const details = await engine.containers.inspect(id);
    expect(details).toMatchObject({ name: 'lib-basic', image: 'docker.io/library/busybox:latest' });
    expect(details.state).toMatchObject({ status: 'exited', exitCode: 3, running: false });
    const listed = await engine.containers.list({ all: true });
    expect(listed.find((c) => c.id === id)?.status).toMatch(/^Exited \(3\) /);
    expect((await engine.containers.list()).some((c) => c.id === id)).toBe(false);
    await engine.containers.remove(id);
    expect(await reasonOf(engine.containers.inspect(id))).toEqual({
      reason: 'container-not-found',
      engine: 'local',
    });
  });

  it('follows logs while it runs; exec gives exit codes and output; stop ends it', async () => {
    const { id } = await engine.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'for i in 1 2 3; do echo "tick $i"; sleep 0.2; done; sleep 60'],
    });
    await engine.containers.start(id);
    const lines: string[] = [];
    const controller = new AbortController();
    const followed = (async () => {
      try {
        for await (const chunk of engine.containers.logs(id, { follow: true, signal: controller.signal })) {
          lines.push(Buffer.from(chunk.data).toString('utf8'));
          if (lines.join('').includes('tick 3')) controller.abort();
        }
      } catch {
        // aborted on purpose
      }
    })();
    await followed;
    expect(lines.join('')).toBe('tick 1\ntick 2\ntick 3\n');
    const exec = await engine.containers.exec(id, {
      cmd: ['sh', '-c', 'echo "in $PWD"; echo err >&2; exit 5'],
      workingDir: '/tmp',
    });
    expect(exec.inherited).toBe(false);
    const [out, code] = await Promise.all([collect(exec.output), exec.exitCode]);
    expect(out).toEqual({ stdout: 'in /tmp\n', stderr: 'err\n' });
    expect(code).toBe(5);
    const withInput = await engine.containers.exec(id, {
      cmd: ['sh', '-c', 'read x; echo "got $x"'],
      stdin: true,
    });
    await withInput.write('piped\n');
    await withInput.closeStdin();
    expect((await collect(withInput.output)).stdout).toBe('got piped\n');
    expect(await withInput.exitCode).toBe(0);
    const missing = await engine.containers.exec(id, { cmd: ['no-such-command'] });
    const said = await collect(missing.output);
    expect(await missing.exitCode).toBe(127);
    expect(said.stderr).toContain('no-such-command');
    await engine.containers.pause(id);
    expect(await reasonOf(engine.containers.exec(id, { cmd: ['true'] }))).toMatchObject({
      reason: 'container-paused',
    });
    await engine.containers.unpause(id);
    expect(await reasonOf(engine.containers.remove(id))).toMatchObject({ reason: 'container-running' });
    await engine.containers.stop(id, { timeout: 1 });
    expect(await engine.containers.wait(id)).toBe(137);
    expect(await reasonOf(engine.containers.exec(id, { cmd: ['true'] }))).toMatchObject({
      reason: 'container-not-running',
    });
    await engine.containers.remove(id);
  });

  it('attaches with stdin: input in, its end as end of input, output out, its exit code back', async () => {
    const { id } = await engine.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'read x; echo "got $x"; cat; echo bye >&2; exit 6'],
      openStdin: true,
    });
    await engine.containers.start(id);
    const attachment = await engine.containers.attach(id, { stdin: true });
    await attachment.write('hello\nmore\n');
    // cat ends only when the container's stdin does
    await attachment.closeStdin();
    expect(await collect(attachment.output)).toEqual({ stdout: 'got hello\nmore\n', stderr: 'bye\n' });
    expect(await engine.containers.wait(id)).toBe(6);
    await engine.containers.remove(id);
  });

  it('runs in one step, output to a callback; autoRemove leaves nothing, detached too (the exit command)', async () => {
    const chunks: OutputChunk[] = [];
    const result = await engine.containers.run(
      { image: 'busybox', cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], autoRemove: true },
      { onOutput: (c) => chunks.push(c) },
    );
    expect(result.exitCode).toBe(4);
    expect(
      await collect(
        (async function* () {
          yield* chunks;
        })(),
      ),
    ).toEqual({ stdout: 'out\n', stderr: 'err\n' });
    expect(await reasonOf(engine.containers.inspect(result.id))).toMatchObject({
      reason: 'container-not-found',
    });
    const fed = await engine.containers.run(
      { image: 'busybox', cmd: ['sh', '-c', 'read x; echo "fed $x"'], openStdin: true, autoRemove: true },
      {
        stdin: (async function* () {
          yield new TextEncoder().encode('data\n');
        })(),
        onOutput: (c) => chunks.push(c),
      },
    );
    expect(fed.exitCode).toBe(0);
    expect(Buffer.concat(chunks.map((c) => c.data)).toString()).toContain('fed data\n');
    const { id } = await engine.containers.create({ image: 'busybox', cmd: ['true'], autoRemove: true });
    const dir = join(root, 'containers', id);
    await engine.containers.start(id);
    // conmon runs the library's own exit command once it exits: the container goes, no CLI involved
    // up to 60 s: the exit command is a Node process, slow to start on a loaded machine (10 s were tight)
    for (let i = 0; i < 600 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(dir)).toBe(false);
    // each left its events in the journal: the foreground run's by the runner, the detached one's
    // die by the exit command
    const actions = async (of: string) => {
      const seen: string[] = [];
      for await (const e of engine.system.events({ since: 0, until: Date.now() })) {
        if (e.type === 'container' && e.id === of) seen.push(e.action);
      }
      return seen;
    };
    expect(await actions(result.id)).toEqual(['create', 'start', 'die', 'destroy']);
    expect(await actions(id)).toEqual(['create', 'start', 'die', 'destroy']);
  });

  it('fails with standard errors, leaving nothing half-made', async () => {
    expect(
      await reasonOf(engine.containers.create({ image: 'nothing-here', cmd: ['true'] }, { pull: 'never' })),
    ).toEqual({
      reason: 'image-not-found',
      engine: 'local',
    });
    await engine.containers.create({ image: 'busybox', name: 'taken', cmd: ['true'] });
    expect(
      await reasonOf(engine.containers.create({ image: 'busybox', name: 'taken', cmd: ['true'] })),
    ).toMatchObject({
      reason: 'name-in-use',
    });
    expect(
      await reasonOf(
        engine.containers.create({
          image: 'busybox',
          cmd: ['true'],
          mounts: [{ type: 'bind', source: '/no/such/dir', target: '/x' }],
        }),
      ),
    ).toMatchObject({ reason: 'bad-argument' });
    expect(
      // (not a real network: this test runs in the host's namespace, and must not make a bridge there)
      await reasonOf(engine.containers.create({ image: 'busybox', cmd: ['true'], network: 'bad/name' })),
    ).toMatchObject({
      reason: 'bad-argument',
    });
    expect(await reasonOf(engine.containers.kill('taken', 'SIGNOPE'))).toMatchObject({
      reason: 'bad-argument',
    });
    expect(await reasonOf(engine.containers.start('no-such-container'))).toMatchObject({
      reason: 'container-not-found',
    });
    const notFound = await reasonOf(
      engine.containers.create({ image: 'busybox', name: 'cannot', cmd: ['no-such-command'] }),
    );
    expect(notFound).toMatchObject({ reason: 'bad-argument' });
    expect((await engine.containers.inspect('cannot')).state).toMatchObject({
      status: 'exited',
      exitCode: 127,
    });
    await engine.containers.remove('cannot');
    await engine.containers.remove('taken', { force: true });
    // only what the test made: no container left, no writable snapshot left
    expect(await engine.containers.list({ all: true })).toEqual([]);
  });

  it('removes running autoRemove containers with force while their exit commands run, every time', async () => {
    // forced removes race conmon and the exit command it runs: remove must remove everything, always
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
    // writing there from conmon's end until 4 s after (longer than rm's retries; it stops when the
    // directory is gone) stands in for it, deterministically
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
           if (end === Infinity && !alive()) end = Date.now() + 4000;
           try { fs.closeSync(fs.openSync(dir + '/late' + n++, 'wx')); } catch (e) { if (e.code === 'ENOENT') break; }
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

  it('keeps the image a container was made from in use when its name moves to another image, until the container is removed', async () => {
    // a pull (here a tag) that moves a name leaves the container's image protected from rmi and gc
    // (last in this file: busybox names another image after it)
    const layout = join(tmp(), 'layout');
    buildVolumeImage(layout, 'vol');
    await copy(
      await openLayout(layout),
      'vol',
      await openLayout(join(root, 'content')),
      'docker.io/library/vol:latest',
    );
    const old = (await engine.images.inspect('busybox')).id;
    const { id } = await engine.containers.create({ image: 'busybox', cmd: ['true'] });
    await engine.images.tag('vol', 'busybox');
    expect((await engine.images.inspect('busybox')).id).not.toBe(old);
    expect(await reasonOf(engine.images.remove(old))).toMatchObject({ reason: 'image-in-use' });
    // a gc (here after removing another name) keeps it: the container can start, inspect finds it
    await engine.images.remove('vol');
    expect((await engine.images.inspect(old)).id).toBe(old);
    await engine.containers.start(id);
    expect(await engine.containers.wait(id)).toBe(0);
    await engine.containers.remove(id);
    // its pin goes with it: the image, nameless, is no longer kept
    expect(existsSync(join(root, 'image-pins', `${id}.json`))).toBe(false);
    expect((await engine.images.list({ all: true })).map((i) => i.id)).not.toContain(old);
  }, 60_000);
});
