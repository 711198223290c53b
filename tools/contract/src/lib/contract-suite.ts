// The engine contract suite (issue 14): one set of cases, run against every driver — the same pulls
// from the project's test registry, the same containers, the same stdout/stderr/exit codes, the same
// errors, the same behaviour under 20 operations in flight. A driver's test file calls
// describeEngineContract with a setup that starts its engine and connects an Engine to it.
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ContainerSpec, Driver, Engine, EngineEvent, Operation, OutputChunk } from '@ocikit/engine';
import { Engine as EngineClient } from '@ocikit/engine';
import { ErrorCode, isOcikitError, isUnimplemented } from '@ocikit/errors';
import type { RunningEngine } from '@ocikit/test-engines';
import { type BuiltImage, buildBusyboxImage, buildWhiteoutImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** What the suite gives a driver's setup. */
export interface ContractContext {
  /** `127.0.0.1:PORT` of the test registry (plain HTTP, anonymous). */
  registryHost: string;
  /** The test registries (`HOST:PORT`, plain HTTP; one wants Basic credentials): engines must treat them as insecure. */
  insecureRegistries: string[];
}

/** A driver's engine, connected, for the suite. */
export interface ContractTarget {
  /** The client under test. */
  engine: Engine;
  /** The driver it was connected with (the suite connects it again to a dead address). */
  driver: Driver;
  /** An address in the driver's scheme where no engine answers (a socket path nothing listens on). */
  deadAddress: string;
  /** Closes the client and stops the engine. */
  close(): Promise<void>;
}

const run = promisify(execFile);

/**
 * The suite's target for `driver` over an engine fixture (startDockerd, startPodmanService): connects
 * an Engine to it (stopping the engine if that fails); the dead address is a socket path in its dir.
 */
export async function engineTarget(driver: Driver, started: RunningEngine): Promise<ContractTarget> {
  const engine = await EngineClient.connect(driver, started.host).catch(async (e: unknown) => {
    await started.stop();
    throw e;
  });
  return {
    engine,
    driver,
    deadAddress: `unix://${started.dir}/nothing-listens.sock`,
    close: async () => {
      await engine.close();
      await started.stop();
    },
  };
}

/** The label on every container the suite makes, so it removes them all after. */
const LABEL = 'org.ocikit.contract-suite';

/** stdout and stderr of a container or exec, as text. */
interface Output {
  stdout: string;
  stderr: string;
}

async function collect(chunks: AsyncIterable<OutputChunk>): Promise<Output> {
  const out = { stdout: '', stderr: '' };
  const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  for await (const c of chunks) out[c.stream] += decoder[c.stream].decode(c.data, { stream: true });
  return out;
}

/** The error an operation failed with (the test fails, naming `what`, if it did not). */
async function failure(
  p: Promise<unknown> | (() => Promise<unknown>),
  what = 'the operation',
): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error(`expected ${what} to fail, and it succeeded`);
}

/** Asserts `e` is the standard engine error with this code and reason, naming the engine. */
function expectEngineError(e: unknown, code: ErrorCode, reason: string, engine: string): void {
  expect(isOcikitError(e), `not an ocikit error: ${String(e)}`).toBe(true);
  if (!isOcikitError(e)) return;
  expect({ code: e.code, reason: e.details['reason'], engine: e.details['engine'] }, e.message).toEqual({
    code,
    reason,
    engine,
  });
}

/** Every operation of the contract, for the unimplemented case. */
const OPERATIONS: readonly Operation[] = [
  'system.ping',
  'system.version',
  'system.info',
  'system.events',
  'images.pull',
  'images.list',
  'images.inspect',
  'images.remove',
  'images.prune',
  'images.tag',
  'images.push',
  'images.save',
  'images.load',
  'containers.create',
  'containers.start',
  'containers.wait',
  'containers.logs',
  'containers.attach',
  'containers.exec',
  'containers.inspect',
  'containers.list',
  'containers.stop',
  'containers.kill',
  'containers.pause',
  'containers.unpause',
  'containers.remove',
  'containers.prune',
  'containers.resize',
  'volumes.create',
  'volumes.list',
  'volumes.inspect',
  'volumes.remove',
  'volumes.prune',
  'networks.create',
  'networks.list',
  'networks.inspect',
  'networks.remove',
  'networks.prune',
  'networks.connect',
  'networks.disconnect',
  'images.history',
  'containers.commit',
];

/** Calls `operation` with throwaway arguments (only for operations the engine lacks). */
function callOperation(engine: Engine, operation: Operation): Promise<unknown> {
  const none = (async function* (): AsyncGenerator<Uint8Array> {})();
  const drain = async (it: AsyncIterable<unknown>) => {
    for await (const _ of it) break;
  };
  const calls: Record<Operation, () => Promise<unknown>> = {
    'system.ping': () => engine.system.ping(),
    'system.version': () => engine.system.version(),
    'system.info': () => engine.system.info(),
    'system.events': async () => drain(engine.system.events()),
    'images.pull': () => engine.images.pull('x'),
    'images.list': () => engine.images.list(),
    'images.inspect': () => engine.images.inspect('x'),
    'images.remove': () => engine.images.remove('x'),
    'images.prune': () => engine.images.prune(),
    'images.tag': () => engine.images.tag('x', 'y'),
    'images.push': () => engine.images.push('x'),
    'images.save': async () => drain(engine.images.save(['x'])),
    'images.load': () => engine.images.load(none),
    'containers.create': () => engine.containers.create({ image: 'x' }),
    'containers.start': () => engine.containers.start('x'),
    'containers.wait': () => engine.containers.wait('x'),
    'containers.logs': async () => drain(engine.containers.logs('x')),
    'containers.attach': () => engine.containers.attach('x'),
    'containers.exec': () => engine.containers.exec('x', { cmd: ['true'] }),
    'containers.inspect': () => engine.containers.inspect('x'),
    'containers.list': () => engine.containers.list(),
    'containers.stop': () => engine.containers.stop('x'),
    'containers.kill': () => engine.containers.kill('x'),
    'containers.pause': () => engine.containers.pause('x'),
    'containers.unpause': () => engine.containers.unpause('x'),
    'containers.remove': () => engine.containers.remove('x'),
    'containers.prune': () => engine.containers.prune(),
    'containers.resize': () => engine.containers.resize('x', { rows: 1, columns: 1 }),
    'containers.run': () => engine.containers.run({ image: 'x' }),
    'volumes.create': () => engine.volumes.create({ name: 'x' }),
    'volumes.list': () => engine.volumes.list(),
    'volumes.inspect': () => engine.volumes.inspect('x'),
    'volumes.remove': () => engine.volumes.remove('x'),
    'volumes.prune': () => engine.volumes.prune(),
    'networks.create': () => engine.networks.create({ name: 'x' }),
    'networks.list': () => engine.networks.list(),
    'networks.inspect': () => engine.networks.inspect('x'),
    'networks.remove': () => engine.networks.remove('x'),
    'networks.prune': () => engine.networks.prune(),
    'networks.connect': () => engine.networks.connect('x', 'y'),
    'networks.disconnect': () => engine.networks.disconnect('x', 'y'),
    'images.history': () => engine.images.history('x'),
    'containers.commit': () => engine.containers.commit('x'),
  };
  return calls[operation]();
}

/** A driver that wraps another and drops one operation from every connection it makes. */
function without(driver: Driver, operation: Operation): Driver {
  return {
    name: driver.name,
    async connect(address, options) {
      const connection = await driver.connect(address, options);
      const handlers = { ...connection.handlers };
      delete handlers[operation];
      return { handlers, close: () => connection.close() };
    },
  };
}

/**
 * Registers the contract suite for one driver: `setup` starts its engine (once, in `beforeAll`) and
 * connects an Engine; the suite pushes the test images to a fresh test registry first and removes
 * every container it made at the end.
 *
 * @example
 * describeEngineContract('docker (dockerd)', async ({ insecureRegistries }) => {
 *   const dockerd = await startDockerd({ insecureRegistries });
 *   const engine = await Engine.connect(dockerDriver, dockerd.host);
 *   return { engine, driver: dockerDriver, deadAddress: 'unix:///nonexistent.sock',
 *     close: async () => { await engine.close(); await dockerd.stop(); } };
 * });
 */
export function describeEngineContract(
  name: string,
  setup: (context: ContractContext) => Promise<ContractTarget>,
): void {
  describe(`engine contract: ${name}`, () => {
    let registry: RunningRegistry;
    /** A registry that wants Basic credentials, holding the busybox image as `contract/private:1`. */
    let authRegistry: RunningRegistry;
    let target: ContractTarget;
    let engine: Engine;
    let work: string;
    let busybox: BuiltImage;
    /** The busybox image in the registry, and its id (config digest). */
    let ref: string;
    let imageId: string;
    /** A second, different image (three layers), pulled and removed by the image cases. */
    let layersRef: string;
    /** A third image, busybox with one byte more at the end of its binary: runnable, its own id. */
    let otherRef: string;
    let counter = 0;
    const uniqueName = (what: string) => `contract-${what}-${process.pid}-${++counter}`;
    const spec = (cmd: string[], more: Partial<ContainerSpec> = {}): ContainerSpec => ({
      image: ref,
      cmd,
      network: 'none',
      labels: { [LABEL]: '1' },
      ...more,
    });
    /** Creates, starts, waits for and returns a container's id and exit code. */
    const runToExit = async (cmd: string[]) => {
      const { id } = await engine.containers.create(spec(cmd));
      await engine.containers.start(id);
      return { id, exitCode: await engine.containers.wait(id) };
    };
    const running = async (cmd: string[] = ['sleep', '300']) => {
      const { id } = await engine.containers.create(spec(cmd));
      await engine.containers.start(id);
      return id;
    };

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'ocikit-contract-'));
      [registry, authRegistry] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' })]);
      busybox = buildBusyboxImage(join(work, 'layout'), 'busybox');
      buildWhiteoutImage(join(work, 'layout'));
      const otherBusybox = join(work, 'busybox');
      copyFileSync('/bin/busybox', otherBusybox);
      appendFileSync(otherBusybox, '\n');
      buildBusyboxImage(join(work, 'layout'), 'other', otherBusybox);
      ref = `${registry.host}/contract/busybox:1`;
      layersRef = `${registry.host}/contract/layers:1`;
      otherRef = `${registry.host}/contract/other:1`;
      for (const [tag, to] of [
        ['busybox', ref],
        ['layers', layersRef],
        ['other', otherRef],
      ] as const) {
        await run('skopeo', [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          `oci:${busybox.layout}:${tag}`,
          `docker://${to}`,
        ]);
      }
      const { username, password } = authRegistry.credentials;
      await run('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        '--dest-creds',
        `${username}:${password}`,
        `oci:${busybox.layout}:busybox`,
        `docker://${authRegistry.host}/contract/private:1`,
      ]);
      const manifest = JSON.parse(
        readFileSync(join(busybox.layout, 'blobs', 'sha256', busybox.manifest.slice(7)), 'utf8'),
      ) as { config: { digest: string } };
      imageId = manifest.config.digest;
      target = await setup({
        registryHost: registry.host,
        insecureRegistries: [registry.host, authRegistry.host],
      });
      engine = target.engine;
      // the container cases need the image; the pull case checks pulling itself
      await engine.images.pull(ref);
    }, 180_000);

    afterAll(async () => {
      try {
        if (engine) {
          const mine = (await engine.containers.list({ all: true })).filter((c) => c.labels[LABEL]);
          await Promise.all(mine.map((c) => engine.containers.remove(c.id, { force: true }).catch(() => {})));
        }
      } finally {
        await target?.close();
        await registry?.stop();
        await authRegistry?.stop();
        if (work) rmSync(work, { recursive: true, force: true });
      }
    }, 120_000);

    describe('system', () => {
      it('answers ping, version and info', async () => {
        await engine.system.ping();
        const version = await engine.system.version();
        expect(version.version).not.toBe('');
        expect(version.os).toBe('linux');
        const info = await engine.system.info();
        expect(info.images).toBeGreaterThanOrEqual(1);
      });
    });

    describe('images', () => {
      it('pulls from the test registry with progress events, and lists and inspects the image', async () => {
        const events: { status: string; id?: string | undefined }[] = [];
        const pulled = await engine.images.pull(layersRef, { onProgress: (e) => events.push(e) });
        expect(events.length, 'progress events').toBeGreaterThan(0);
        expect(events.every((e) => typeof e.status === 'string' && e.status !== '')).toBe(true);
        expect(pulled.name).toContain('contract/layers');
        expect(pulled.id).toMatch(/^sha256:[0-9a-f]{64}$/);

        const listed = await engine.images.list();
        const bb = listed.find((i) => i.repoTags.includes(ref));
        expect(bb, `${ref} in ${JSON.stringify(listed.map((i) => i.repoTags))}`).toBeDefined();
        expect(bb?.id).toBe(imageId);
        expect(listed.some((i) => i.repoTags.includes(layersRef))).toBe(true);
        const filtered = await engine.images.list({ reference: `${registry.host}/contract/busybox` });
        expect(filtered.map((i) => i.id)).toEqual([imageId]);

        const details = await engine.images.inspect(ref);
        expect(details.id).toBe(imageId);
        expect(details.repoTags).toContain(ref);
        expect(details.os).toBe('linux');
        expect(details.diffIds).toEqual(busybox.diffIds);
        expect((await engine.images.inspect(imageId)).id).toBe(imageId);
      });

      it('pushes a tagged image to the test registry', async () => {
        const pushedRef = `${registry.host}/contract/pushed:${process.pid}`;
        await engine.images.tag(ref, pushedRef);
        const events: string[] = [];
        await engine.images.push(pushedRef, { onProgress: (e) => events.push(e.status) });
        expect(events.length, 'push progress events').toBeGreaterThan(0);
        const res = await fetch(`${registry.url}/v2/contract/pushed/manifests/${process.pid}`, {
          headers: {
            accept:
              'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
          },
        });
        expect(res.status).toBe(200);
        const manifest = (await res.json()) as { config: { digest: string } };
        expect(manifest.config.digest).toBe(imageId);
        await engine.images.remove(pushedRef);
      });

      it('tags an image and removes the tag, then the whole image', async () => {
        const tagged = `${registry.host}/contract/tagged:2`;
        await engine.images.tag(ref, tagged);
        expect((await engine.images.inspect(tagged)).id).toBe(imageId);
        expect((await engine.images.inspect(ref)).repoTags).toEqual(expect.arrayContaining([ref, tagged]));
        const untagged = await engine.images.remove(tagged);
        expect(
          untagged.some((r) => r.untagged?.includes('contract/tagged')),
          JSON.stringify(untagged),
        ).toBe(true);
        expect(
          untagged.some((r) => r.deleted),
          JSON.stringify(untagged),
        ).toBe(false);
        expectEngineError(
          await failure(engine.images.inspect(tagged)),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
        expect((await engine.images.inspect(ref)).id).toBe(imageId);

        const layers = await engine.images.pull(layersRef);
        const removed = await engine.images.remove(layersRef);
        expect(
          removed.some((r) => r.deleted === layers.id),
          JSON.stringify(removed),
        ).toBe(true);
        expectEngineError(
          await failure(engine.images.inspect(layers.id)),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
      });
    });

    describe('commit and history', () => {
      it('commits a container (a written file, a removed one, a change) and gives its step first in the history', async () => {
        const made = await runToExit(['sh', '-c', 'echo made > /made && rm /etc/group']);
        expect(made.exitCode).toBe(0);
        const name = `${registry.host}/contract/committed:1`;
        const committed = await engine.containers.commit(made.id, {
          reference: name,
          changes: ['CMD ["cat", "/made"]', 'ENV COMMITTED=1'],
        });
        await engine.containers.remove(made.id, { force: true });
        const image = await engine.images.inspect(name);
        expect(image.id).toBe(committed.id);
        expect(image.config.cmd).toEqual(['cat', '/made']);
        expect(image.config.env).toContain('COMMITTED=1');
        expect(image.diffIds).toHaveLength(2);
        const { id } = await engine.containers.create({
          ...spec(['sh', '-c', 'cat /made; test -e /etc/group || echo gone']),
          image: name,
        });
        await engine.containers.start(id);
        expect(await engine.containers.wait(id)).toBe(0);
        expect(await collect(engine.containers.logs(id))).toEqual({ stdout: 'made\ngone\n', stderr: '' });
        await engine.containers.remove(id, { force: true });

        const history = await engine.images.history(name);
        expect(history).toHaveLength(2);
        expect(history[0]).toMatchObject({ id: committed.id, emptyLayer: false });
        expect(history[0]?.size).toBeGreaterThan(0);
        expect(history[1]).toMatchObject({ createdBy: '@ocikit/test-images', emptyLayer: false });
        expectEngineError(
          await failure(engine.images.history(`${registry.host}/contract/never:1`)),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
        await engine.images.remove(name, { force: true });
      });
    });

    describe('containers', () => {
      it('create, start, wait: exit codes 0 and 3, and stdout and stderr kept apart in the logs', async () => {
        const ok = await runToExit(['sh', '-c', 'echo out; echo err >&2; echo out2']);
        expect(ok.exitCode).toBe(0);
        const three = await runToExit(['sh', '-c', 'echo three; exit 3']);
        expect(three.exitCode).toBe(3);
        expect(await collect(engine.containers.logs(ok.id))).toEqual({
          stdout: 'out\nout2\n',
          stderr: 'err\n',
        });
        expect(await collect(engine.containers.logs(ok.id, { stderr: false }))).toEqual({
          stdout: 'out\nout2\n',
          stderr: '',
        });
        expect(await collect(engine.containers.logs(three.id))).toEqual({ stdout: 'three\n', stderr: '' });
        const state = (await engine.containers.inspect(three.id)).state;
        expect({ status: state.status, running: state.running, exitCode: state.exitCode }).toEqual({
          status: 'exited',
          running: false,
          exitCode: 3,
        });
        // wait on an exited container answers at once with its code
        expect(await engine.containers.wait(three.id)).toBe(3);
      });

      it('follows logs until the container exits, streams apart', async () => {
        // 2 s apart: the follow still waits over 1 s when a loaded machine starts it a second or
        // more after the container (1 s apart could leave it less)
        const id = await running(['sh', '-c', 'echo a; sleep 2; echo b >&2; sleep 2; echo c']);
        const started = Date.now();
        const out = await collect(engine.containers.logs(id, { follow: true }));
        expect(out).toEqual({ stdout: 'a\nc\n', stderr: 'b\n' });
        expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
        expect(await engine.containers.wait(id)).toBe(0);
      });

      it('runs a container in the foreground: output relayed apart, exit code, removed after', async () => {
        const out = { stdout: '', stderr: '' };
        const result = await engine.containers.run(
          spec(['sh', '-c', 'echo ran; echo oops >&2; exit 4'], { autoRemove: true }),
          { onOutput: (c) => (out[c.stream] += new TextDecoder().decode(c.data)) },
        );
        expect({ exitCode: result.exitCode, out }).toEqual({
          exitCode: 4,
          out: { stdout: 'ran\n', stderr: 'oops\n' },
        });
        expectEngineError(
          await failure(engine.containers.inspect(result.id), 'inspect of an auto-removed container'),
          ErrorCode.NotFound,
          'container-not-found',
          engine.engine,
        );
      });

      it('attaches to a container: stdin in, stdout and stderr out apart, until it exits', async () => {
        const { id } = await engine.containers.create(
          spec(['sh', '-c', 'read line; echo "got $line"; echo done >&2'], { openStdin: true }),
        );
        const attachment = await engine.containers.attach(id, { stdin: true });
        const output = collect(attachment.output);
        await engine.containers.start(id);
        await attachment.write('hello\n');
        await attachment.closeStdin();
        expect(await engine.containers.wait(id)).toBe(0);
        expect(await output).toEqual({ stdout: 'got hello\n', stderr: 'done\n' });
        attachment.close();
      });

      it('an attachment ends when its container dies mid-attach, without hanging', async () => {
        const { id } = await engine.containers.create(spec(['sh', '-c', 'echo up; sleep 300']));
        const attachment = await engine.containers.attach(id);
        const output = collect(attachment.output);
        await engine.containers.start(id);
        // killed once it has said up (a fixed 500 ms could come first on a loaded machine)
        for (let i = 0; i < 300; i++) {
          if ((await collect(engine.containers.logs(id))).stdout.includes('up')) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await engine.containers.kill(id, 'SIGKILL');
        expect(await engine.containers.wait(id)).toBe(137);
        expect((await output).stdout).toBe('up\n');
        attachment.close();
      });

      it('a signal ends a followed log and a wait: the typed aborted error, no hang', async () => {
        const id = await running();
        const seen: unknown[] = [];
        for (const [what, call] of [
          ['logs', (signal: AbortSignal) => collect(engine.containers.logs(id, { follow: true, signal }))],
          ['wait', (signal: AbortSignal) => engine.containers.wait(id, { signal })],
        ] as const) {
          const started = Date.now();
          const controller = new AbortController();
          setTimeout(() => controller.abort(), 500);
          const e = await failure(call(controller.signal), `a ${what} given a signal`);
          seen.push({
            what,
            code: isOcikitError(e) ? e.code : String(e),
            reason: isOcikitError(e) ? e.details['reason'] : undefined,
            engine: isOcikitError(e) ? e.details['engine'] : undefined,
            quick: Date.now() - started < 10_000,
          });
        }
        const want = { code: ErrorCode.Aborted, reason: 'aborted', engine: engine.engine, quick: true };
        expect(seen).toEqual([
          { what: 'logs', ...want },
          { what: 'wait', ...want },
        ]);
        expect((await engine.containers.inspect(id)).state.running).toBe(true);
        await engine.containers.remove(id, { force: true });
      });

      it('exec gives exit codes and separated output', async () => {
        const id = await running();
        const p = await engine.containers.exec(id, { cmd: ['sh', '-c', 'echo x; echo y >&2; exit 5'] });
        const [out, code] = await Promise.all([collect(p.output), p.exitCode]);
        expect({ out, code }).toEqual({ out: { stdout: 'x\n', stderr: 'y\n' }, code: 5 });
        const ok = await engine.containers.exec(id, { cmd: ['echo', 'hello'], env: ['A=1'] });
        expect(await collect(ok.output)).toEqual({ stdout: 'hello\n', stderr: '' });
        expect(await ok.exitCode).toBe(0);
        const env = await engine.containers.exec(id, { cmd: ['sh', '-c', 'echo $A'], env: ['A=fromexec'] });
        expect((await collect(env.output)).stdout).toBe('fromexec\n');
        await engine.containers.remove(id, { force: true });
      });

      it('inspects and lists containers by id and name', async () => {
        const name = uniqueName('inspect');
        const { id } = await engine.containers.create(
          spec(['sleep', '300'], { name, env: ['FOO=bar'], labels: { [LABEL]: '1', role: 'inspected' } }),
        );
        const created = await engine.containers.inspect(name);
        expect(created.id).toBe(id);
        expect(created.name).toBe(name);
        expect(created.image).toBe(ref);
        expect(created.state.status).toBe('created');
        expect(created.config.args).toEqual(['sleep', '300']);
        expect(created.config.env).toContain('FOO=bar');
        expect(created.config.labels['role']).toBe('inspected');
        expect((await engine.containers.inspect(id.slice(0, 12))).id).toBe(id);

        expect((await engine.containers.list()).some((c) => c.id === id)).toBe(false);
        const all = await engine.containers.list({ all: true });
        expect(all.find((c) => c.id === id)).toMatchObject({ name, state: 'created', image: ref });

        await engine.containers.start(id);
        const summary = (await engine.containers.list()).find((c) => c.id === id);
        expect(summary).toMatchObject({ name, state: 'running', labels: { role: 'inspected' } });
        expect(summary?.command).toContain('sleep 300');
        const live = await engine.containers.inspect(id);
        expect(live.state.running).toBe(true);
        expect(live.state.pid).toBeGreaterThan(0);
        await engine.containers.remove(id, { force: true });
      });

      it('stop, kill, pause, unpause and remove', async () => {
        const id = await running();
        await engine.containers.pause(id);
        expect((await engine.containers.inspect(id)).state).toMatchObject({ status: 'paused', paused: true });
        expectEngineError(
          await failure(engine.containers.exec(id, { cmd: ['true'] }), 'exec in a paused container'),
          ErrorCode.FailedPrecondition,
          'container-paused',
          engine.engine,
        );
        await engine.containers.unpause(id);
        expect((await engine.containers.inspect(id)).state).toMatchObject({
          status: 'running',
          paused: false,
        });
        await engine.containers.stop(id, { timeout: 1 });
        const stopped = await engine.containers.inspect(id);
        expect(stopped.state.running).toBe(false);
        expect(stopped.state.status).toBe('exited');

        const killed = await running();
        await engine.containers.kill(killed, 'SIGKILL');
        expect(await engine.containers.wait(killed)).toBe(137);

        await engine.containers.remove(id);
        await engine.containers.remove(killed);
        for (const gone of [id, killed]) {
          expectEngineError(
            await failure(engine.containers.inspect(gone)),
            ErrorCode.NotFound,
            'container-not-found',
            engine.engine,
          );
        }
        // a running container goes only with force
        const busy = await running();
        expectEngineError(
          await failure(engine.containers.remove(busy)),
          ErrorCode.FailedPrecondition,
          'container-running',
          engine.engine,
        );
        await engine.containers.remove(busy, { force: true });
      });

      it('prune removes the exited and created containers a label selects, not the running one; images.prune -a the image a label selects', async () => {
        const value = uniqueName('prune');
        const labels = { [LABEL]: '1', 'contract-prune': value };
        const filters = { labels: [`contract-prune=${value}`] };
        const exited = (await engine.containers.create(spec(['true'], { labels }))).id;
        await engine.containers.start(exited);
        expect(await engine.containers.wait(exited)).toBe(0);
        const created = (await engine.containers.create(spec(['true'], { labels }))).id;
        const busy = (await engine.containers.create(spec(['sleep', '300'], { labels }))).id;
        await engine.containers.start(busy);
        const image = `contract-pruned:${counter}`;
        const committed = await engine.containers.commit(exited, {
          reference: image,
          changes: [`LABEL contract-prune=${value}`],
        });
        const pruned = await engine.containers.prune({ filters });
        expect([...pruned.removed].sort()).toEqual([exited, created].sort());
        expect((await engine.containers.inspect(busy)).state.running).toBe(true);
        await engine.containers.remove(busy, { force: true });
        const images = await engine.images.prune({ all: true, filters });
        expect(images.removed).toContainEqual({ deleted: committed.id });
        expectEngineError(
          await failure(engine.images.inspect(image)),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
        await engine.images.inspect(ref);
      });

      it("reports a container's lifecycle as events", async () => {
        const controller = new AbortController();
        const seen: EngineEvent[] = [];
        const since = Date.now() - 1000;
        let id = '';
        const watching = (async () => {
          try {
            for await (const e of engine.system.events({ since, signal: controller.signal })) {
              seen.push(e);
              if (id && e.type === 'container' && e.id === id && e.action === 'destroy') return;
            }
          } catch (e) {
            if (!controller.signal.aborted) throw e;
          }
        })();
        // a bound, not a wait: 30 s for create, start, wait and remove on a loaded machine (10 were tight)
        const timer = setTimeout(() => controller.abort(), 30_000);
        ({ id } = await runToExit(['true']));
        await engine.containers.remove(id);
        await watching;
        clearTimeout(timer);
        controller.abort();
        const actions = seen.filter((e) => e.type === 'container' && e.id === id).map((e) => e.action);
        const wanted = ['create', 'start', 'die', 'destroy'];
        expect(
          actions.filter((a) => wanted.includes(a)),
          `container events: ${actions.join(', ')}`,
        ).toEqual(wanted);
      });
    });

    describe('volumes', () => {
      it('a named volume keeps its data across two containers and their removal; anonymous ones go with rm -v', async () => {
        const name = uniqueName('vol');
        const made = await engine.volumes.create({ name, labels: { [LABEL]: '1' } });
        expect(made).toMatchObject({ name, labels: { [LABEL]: '1' } });
        expect((await engine.volumes.inspect(name)).name).toBe(name);
        expect((await engine.volumes.list()).map((v) => v.name)).toContain(name);
        const writer = await engine.containers.create(
          spec(['sh', '-c', 'echo kept > /v/f'], {
            mounts: [{ type: 'volume', source: name, target: '/v' }],
          }),
        );
        await engine.containers.start(writer.id);
        expect(await engine.containers.wait(writer.id)).toBe(0);
        expectEngineError(
          await failure(engine.volumes.remove(name), 'remove of a volume a container uses'),
          ErrorCode.FailedPrecondition,
          'volume-in-use',
          engine.engine,
        );
        await engine.containers.remove(writer.id);
        const before = (await engine.volumes.list()).map((v) => v.name);
        const reader = await engine.containers.create(
          spec(['cat', '/v/f'], {
            mounts: [
              { type: 'volume', source: name, target: '/v', readOnly: true },
              { type: 'volume', target: '/anon' },
            ],
          }),
        );
        await engine.containers.start(reader.id);
        expect(await engine.containers.wait(reader.id)).toBe(0);
        expect((await collect(engine.containers.logs(reader.id))).stdout).toBe('kept\n');
        const anonymous = (await engine.volumes.list()).map((v) => v.name).filter((n) => !before.includes(n));
        expect(anonymous).toHaveLength(1);
        await engine.containers.remove(reader.id, { volumes: true });
        expect((await engine.volumes.list()).map((v) => v.name).sort()).toEqual([...before].sort());
        await engine.volumes.remove(name);
        expectEngineError(
          await failure(engine.volumes.inspect(name), 'inspect of a removed volume'),
          ErrorCode.NotFound,
          'volume-not-found',
          engine.engine,
        );
      });
    });

    describe('standard errors', () => {
      it('image not found', async () => {
        const before = (await engine.containers.list({ all: true })).length;
        const missing = `${registry.host}/contract/missing:1`;
        expectEngineError(
          await failure(engine.images.inspect(missing)),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
        expectEngineError(
          await failure(engine.images.pull(missing)),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
        expectEngineError(
          await failure(engine.containers.create(spec(['true'], { image: missing }), { pull: 'never' })),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
        expectEngineError(
          await failure(engine.images.remove(missing)),
          ErrorCode.NotFound,
          'image-not-found',
          engine.engine,
        );
        // the failed create left no container behind
        expect((await engine.containers.list({ all: true })).length).toBe(before);
      });

      it('container not found', async () => {
        const nope = uniqueName('nope');
        for (const [what, call] of [
          ['inspect', () => engine.containers.inspect(nope)],
          ['start', () => engine.containers.start(nope)],
          ['wait', () => engine.containers.wait(nope)],
          ['kill', () => engine.containers.kill(nope)],
          ['remove', () => engine.containers.remove(nope)],
          ['logs', () => collect(engine.containers.logs(nope))],
          ['exec', () => engine.containers.exec(nope, { cmd: ['true'] })],
        ] as const) {
          expectEngineError(
            await failure(call, what),
            ErrorCode.NotFound,
            'container-not-found',
            engine.engine,
          );
        }
      });

      // only operations that make no bridge, rule or CNI file on the host: the suite runs in the
      // host's namespaces (the network cases that make them are in contract-networks.test.ts)
      it('network not found: inspect, remove, connect and disconnect; list gives the networks', async () => {
        const nope = uniqueName('no-net');
        const { id } = await engine.containers.create(spec(['true']));
        for (const [what, call] of [
          ['inspect', () => engine.networks.inspect(nope)],
          ['remove', () => engine.networks.remove(nope)],
          ['connect', () => engine.networks.connect(nope, id)],
          ['disconnect', () => engine.networks.disconnect(nope, id)],
        ] as const) {
          const e = await failure(call, what);
          expectEngineError(e, ErrorCode.NotFound, 'network-not-found', engine.engine);
          expect((e as Error).message, what).toContain(JSON.stringify(nope));
        }
        const listed = await engine.networks.list();
        expect(listed.every((n) => n.name !== '' && n.id !== '' && Array.isArray(n.subnets))).toBe(true);
        expect(listed.map((n) => n.name)).not.toContain(nope);
      });

      it('name already in use', async () => {
        const name = uniqueName('dup');
        await engine.containers.create(spec(['true'], { name }));
        const e = await failure(engine.containers.create(spec(['true'], { name })));
        expectEngineError(e, ErrorCode.AlreadyExists, 'name-in-use', engine.engine);
      });

      it('container not running', async () => {
        const { id } = await engine.containers.create(spec(['true']));
        expectEngineError(
          await failure(engine.containers.exec(id, { cmd: ['true'] }), 'exec in a created container'),
          ErrorCode.FailedPrecondition,
          'container-not-running',
          engine.engine,
        );
        expectEngineError(
          await failure(engine.containers.kill(id), 'kill of a created container'),
          ErrorCode.FailedPrecondition,
          'container-not-running',
          engine.engine,
        );
        expectEngineError(
          await failure(engine.containers.pause(id), 'pause of a created container'),
          ErrorCode.FailedPrecondition,
          'container-not-running',
          engine.engine,
        );
      });

      it('image in use', async () => {
        const image = await engine.images.pull(otherRef);
        expect(image.id).not.toBe(imageId);
        const { id } = await engine.containers.create(spec(['true'], { image: otherRef }));
        expectEngineError(
          await failure(engine.images.remove(otherRef), 'remove of an image a container uses'),
          ErrorCode.FailedPrecondition,
          'image-in-use',
          engine.engine,
        );
        expect((await engine.images.inspect(otherRef)).id).toBe(image.id);
        await engine.containers.remove(id);
        await engine.images.remove(otherRef);
      });

      it('bad credentials, and none in the error', async () => {
        const privateRef = `${authRegistry.host}/contract/private:1`;
        const { username, password } = authRegistry.credentials;
        const wrong = `wrong-${password}`;
        for (const [what, auth] of [
          ['a pull without credentials', undefined],
          ['a pull with a wrong password', { username, password: wrong }],
        ] as const) {
          const e = await failure(engine.images.pull(privateRef, auth ? { auth } : {}), what);
          expectEngineError(e, ErrorCode.Unauthenticated, 'bad-credentials', engine.engine);
          const shown = `${String(e)} ${JSON.stringify(isOcikitError(e) ? e.details : {})}`;
          expect(shown).not.toContain(wrong);
          expect(shown).not.toContain(password);
        }
        const pulled = await engine.images.pull(privateRef, { auth: { username, password } });
        expect(pulled.id).toBe(imageId);
        await engine.images.remove(privateRef);
      });

      it('bad argument', async () => {
        const before = (await engine.containers.list({ all: true })).length;
        expectEngineError(
          await failure(engine.containers.create(spec(['true'], { name: 'bad name!' }))),
          ErrorCode.InvalidArgument,
          'bad-argument',
          engine.engine,
        );
        expectEngineError(
          await failure(engine.images.pull(`${registry.host}/Contract/UPPER:1`)),
          ErrorCode.InvalidArgument,
          'bad-argument',
          engine.engine,
        );
        expect((await engine.containers.list({ all: true })).length).toBe(before);
      });

      it('engine unreachable at a dead address', async () => {
        const e = await failure(async () => {
          const dead = await EngineClient.connect(target.driver, target.deadAddress, { timeout: 5000 });
          try {
            await dead.system.ping();
          } finally {
            await dead.close();
          }
        });
        expectEngineError(e, ErrorCode.Unavailable, 'engine-unreachable', engine.engine);
      });

      it('an operation the driver leaves out is the typed unimplemented error', async () => {
        const lacking = await EngineClient.connect(
          without(target.driver, 'containers.pause'),
          engine.address,
        );
        try {
          const e = await failure(lacking.containers.pause('x'));
          expect(isUnimplemented(e)).toBe(true);
          expectEngineError(e, ErrorCode.Unimplemented, 'unimplemented', engine.engine);
        } finally {
          await lacking.close();
        }
        // and whatever this driver really leaves out fails the same way, never a crash
        for (const op of OPERATIONS.filter((o) => !engine.has(o))) {
          expectEngineError(
            await failure(callOperation(engine, op)),
            ErrorCode.Unimplemented,
            'unimplemented',
            engine.engine,
          );
        }
      });
    });

    describe('concurrency', () => {
      it('20 operations in flight on one client all succeed and agree', async () => {
        // 4 containers whose logs are followed while the others start
        const followed = await Promise.all(
          [0, 1, 2, 3].map(async (i) => {
            const { id } = await engine.containers.create(
              spec(['sh', '-c', `echo f${i}; sleep 2; echo g${i} >&2; echo h${i}`]),
            );
            return { i, id };
          }),
        );
        const ops: Promise<unknown>[] = [];
        // 10 create/start/wait/remove cycles with their own output and exit code
        for (let i = 0; i < 10; i++) {
          ops.push(
            (async () => {
              const { id, exitCode } = await runToExit(['sh', '-c', `echo c${i}; exit ${i % 4}`]);
              const out = await collect(engine.containers.logs(id));
              await engine.containers.remove(id);
              return { i, id, exitCode, out };
            })(),
          );
        }
        // 4 parallel pulls of one image
        for (let i = 0; i < 4; i++) ops.push(engine.images.pull(ref));
        // 4 followed logs, of containers started now, among the rest
        for (const { i, id } of followed) {
          ops.push(
            (async () => {
              await engine.containers.start(id);
              const out = await collect(engine.containers.logs(id, { follow: true }));
              return { i, out, exitCode: await engine.containers.wait(id) };
            })(),
          );
        }
        // 2 reads of state while all that runs
        ops.push(engine.containers.list({ all: true }), engine.images.inspect(ref));
        expect(ops).toHaveLength(20);
        const results = await Promise.allSettled(ops);
        const failed = results.flatMap((r, n) =>
          r.status === 'rejected' ? [`#${n}: ${String(r.reason)}`] : [],
        );
        expect(failed).toEqual([]);
        const values = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
        const cycles = values.slice(0, 10) as { i: number; id: string; exitCode: number; out: Output }[];
        for (const [i, cycle] of cycles.entries()) {
          expect(cycle).toEqual({ i, id: cycle.id, exitCode: i % 4, out: { stdout: `c${i}\n`, stderr: '' } });
        }
        expect(new Set(cycles.map((c) => c.id)).size).toBe(10);
        for (let k = 10; k < 14; k++) expect((values[k] as { id: string }).id).toBe(imageId);
        for (const [k, { i }] of followed.entries()) {
          expect(values[14 + k]).toEqual({
            i,
            exitCode: 0,
            out: { stdout: `f${i}\nh${i}\n`, stderr: `g${i}\n` },
          });
        }
        // the removed cycles are gone; the followed containers are there, exited
        const left = await engine.containers.list({ all: true });
        expect(left.filter((c) => cycles.some((x) => x.id === c.id))).toEqual([]);
        for (const { id } of followed) expect(left.find((c) => c.id === id)?.state).toBe('exited');
      }, 120_000);
    });
  });
}
