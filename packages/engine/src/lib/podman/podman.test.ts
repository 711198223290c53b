// The podman driver against a real `podman system service` (tools/engines) and the project's test
// registry (plain HTTP on loopback, NOT marked insecure in the service's registries.conf: every pull
// says tlsVerify false, or fails): pull policies, TLS verification per call, one platform or every
// platform of a two-platform index, libpod's image forms, system calls, addresses.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, isOcikitError, type OcikitError } from '@ocikit/errors';
import { type RunningEngine, startPodmanService } from '@ocikit/test-engines';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../contract.ts';
import { dockerDriver } from '../docker/driver.ts';
import { Engine } from '../engine.ts';
import { podmanDriver } from './driver.ts';
import { type PushedTestImages, pushTestImages } from './test-images.ts';

let registry: RunningRegistry;
let podman: RunningEngine;
let engine: Engine;
let images: PushedTestImages;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ocikit-podman-driver-'));
  registry = await startRegistry();
  images = await pushTestImages(join(work, 'layout'), registry.host);
  podman = await startPodmanService();
  engine = await Engine.connect(podmanDriver, podman.host);
});

afterAll(async () => {
  await engine?.close();
  await podman?.stop();
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The error `p` rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<OcikitError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isOcikitError(e)) throw new Error(`expected an ocikit error, got ${String(e)}`);
  return e;
}

describe('podman driver: pull', () => {
  it('fails against a plain-HTTP registry unless tlsVerify is false (no registries.conf change)', async () => {
    const e = await failure(engine.images.pull(images.busybox));
    expect(e.details).toMatchObject({ engine: 'podman', operation: 'images.pull' });
    expect(e.message).toMatch(/HTTP response to HTTPS client/);

    const events: ProgressEvent[] = [];
    const pulled = await engine.images.pull(images.busybox, {
      tlsVerify: false,
      onProgress: (event) => events.push(event),
    });
    expect(pulled.name).toBe(images.busybox);
    expect(pulled.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pulled.digest).toBe(images.multiManifests['linux/amd64']);
    expect(events.map((event) => event.status)).toContain('Copying blob');
    expect((await engine.images.inspect(images.busybox)).id).toBe(pulled.id);
  });

  it('policy never: gives what the engine has, image-not-found for what it lacks', async () => {
    await engine.images.pull(images.busybox, { tlsVerify: false });
    await expect(engine.images.pull(images.busybox, { policy: 'never' })).resolves.toMatchObject({
      name: images.busybox,
    });
    const e = await failure(
      engine.images.pull(`${registry.host}/absent:1`, { policy: 'never', tlsVerify: false }),
    );
    expect(e.code).toBe(ErrorCode.NotFound);
    expect(e.details).toMatchObject({
      reason: 'image-not-found',
      engine: 'podman',
      operation: 'images.pull',
    });
  });

  it('policy missing does not go to the registry for an image the engine has; always does', async () => {
    const pulled = await engine.images.pull(images.busybox, { tlsVerify: false });
    // a name whose registry nothing answers: only a pull that stays local can succeed
    const unreachable = '127.0.0.1:9/nowhere/busybox:latest';
    await engine.images.tag(images.busybox, unreachable);
    await expect(
      engine.images.pull(unreachable, { policy: 'missing', tlsVerify: false }),
    ).resolves.toMatchObject({
      name: unreachable,
      id: pulled.id,
    });
    const e = await failure(engine.images.pull(unreachable, { policy: 'always', tlsVerify: false }));
    expect(e.details).toMatchObject({ engine: 'podman', operation: 'images.pull' });
    expect(e.message).toMatch(/connection refused/);
    await engine.images.remove(unreachable);
  });

  it('an image the registry lacks is image-not-found; a bad policy or reference is bad-argument', async () => {
    const missing = await failure(engine.images.pull(`${registry.host}/absent:1`, { tlsVerify: false }));
    expect(missing.code).toBe(ErrorCode.NotFound);
    expect(missing.details['reason']).toBe('image-not-found');
    const bad = await failure(engine.images.pull('Bad..Reference', { tlsVerify: false }));
    expect(bad.code).toBe(ErrorCode.InvalidArgument);
    expect(bad.details['reason']).toBe('bad-argument');
  });

  it('pulls one platform of an index by platform', async () => {
    const pulled = await engine.images.pull(images.multi, { tlsVerify: false, platform: 'linux/arm64/v8' });
    const details = await engine.images.inspect(pulled.id);
    // podman 4.3's image inspect has no Variant: the platform reads linux/arm64
    expect(details).toMatchObject({ os: 'linux', architecture: 'arm64', platform: 'linux/arm64' });
    expect(details.repoDigests).toContain(
      `${registry.host}/multi@${images.multiManifests['linux/arm64/v8']}`,
    );
    await engine.images.remove(pulled.id, { force: true });
  });

  it('allPlatforms pulls every platform of the index, and names the tag the engine platform', async () => {
    const pulled = await engine.images.pull(images.multi, { tlsVerify: false, allPlatforms: true });
    expect(pulled.name).toBe(images.multi);
    expect((await engine.images.inspect(pulled.id)).architecture).toBe('amd64');
    for (const [platform, digest] of Object.entries(images.multiManifests)) {
      const details = await engine.images.inspect(`${registry.host}/multi@${digest}`);
      expect(details.platform).toBe(platform.split('/').slice(0, 2).join('/'));
    }
    // the scratch manifest list it read the index through is gone
    const names = (await engine.images.list({ all: true })).flatMap((i) => i.repoTags);
    expect(names.filter((n) => n.includes('ocikit-platforms-'))).toEqual([]);
  });
});

describe('podman driver: containers (the docker handlers on the compatible API)', () => {
  it("create pulls a missing image through libpod with the caller's tlsVerify, then runs it", async () => {
    const present = await engine.images.pull(images.busybox, { tlsVerify: false });
    await engine.images.remove(present.id, { force: true });
    const { id } = await engine.containers.create(
      { image: images.busybox, cmd: ['echo', 'hi'], network: 'none' },
      { pull: 'missing', pullOptions: { tlsVerify: false } },
    );
    await engine.containers.start(id);
    expect(await engine.containers.wait(id)).toBe(0);
    let out = '';
    for await (const chunk of engine.containers.logs(id)) out += Buffer.from(chunk.data).toString();
    expect(out).toBe('hi\n');
    await engine.containers.remove(id);
  });
});

describe('podman driver: registry credentials', () => {
  it('pulls (one platform and every platform) and pushes with X-Registry-Auth; wrong ones are bad-credentials', async () => {
    await using secured = await startRegistry({ auth: 'basic' });
    const { username, password } = secured.credentials;
    const pushed = await pushTestImages(join(work, 'secured-layout'), secured.host, { username, password });
    const auth = { username, password, serveraddress: secured.host };

    const refused = await failure(engine.images.pull(pushed.busybox, { tlsVerify: false }));
    expect(refused.details).toMatchObject({ reason: 'bad-credentials', engine: 'podman' });
    const wrong = await failure(
      engine.images.pull(pushed.busybox, {
        tlsVerify: false,
        auth: { ...auth, password: 'not-the-password' },
      }),
    );
    expect(wrong.code).toBe(ErrorCode.Unauthenticated);
    expect(wrong.message).not.toContain('not-the-password');

    await expect(engine.images.pull(pushed.busybox, { tlsVerify: false, auth })).resolves.toMatchObject({
      name: pushed.busybox,
    });
    await engine.images.pull(pushed.multi, { tlsVerify: false, allPlatforms: true, auth });
    const arm = await engine.images.inspect(
      `${secured.host}/multi@${pushed.multiManifests['linux/arm64/v8']}`,
    );
    expect(arm.architecture).toBe('arm64');

    const target = `${secured.host}/pushed:1`;
    await engine.images.tag(pushed.busybox, target);
    await engine.images.push(target, { tlsVerify: false, auth });
    const res = await fetch(`${secured.url}/v2/pushed/manifests/1`, {
      headers: {
        accept: 'application/vnd.oci.image.manifest.v1+json',
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      },
    });
    expect(res.status).toBe(200);
  });
});

describe('podman driver: images in libpod forms', () => {
  it('lists, inspects, tags, removes', async () => {
    const pulled = await engine.images.pull(images.busybox, { tlsVerify: false });
    const alias = `${registry.host}/alias:t1`;
    await engine.images.tag(images.busybox, alias);
    const listed = await engine.images.list({ reference: alias });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: pulled.id, created: '1970-01-01T00:00:00Z' });
    expect(listed[0]?.repoTags).toEqual(expect.arrayContaining([images.busybox, alias]));
    const details = await engine.images.inspect(alias);
    expect(details).toMatchObject({ id: pulled.id, os: 'linux', architecture: 'amd64' });
    expect(details.config.cmd).toEqual(['/bin/sh']);
    expect(details.diffIds).toHaveLength(1);
    await expect(engine.images.remove(alias)).resolves.toEqual([{ untagged: alias }]);
    const gone = await failure(engine.images.inspect(alias));
    expect(gone.details).toMatchObject({ reason: 'image-not-found', status: 404 });
    const badTag = await failure(engine.images.tag(images.busybox, 'Bad..Name'));
    expect(badTag.details['reason']).toBe('bad-argument');
  });

  it('pushes to the registry with tlsVerify false', async () => {
    await engine.images.pull(images.busybox, { tlsVerify: false });
    const copy = `${registry.host}/pushed:1`;
    await engine.images.tag(images.busybox, copy);
    const events: ProgressEvent[] = [];
    await engine.images.push(copy, { tlsVerify: false, onProgress: (event) => events.push(event) });
    expect(events.length).toBeGreaterThan(0);
    const res = await fetch(`${registry.url}/v2/pushed/manifests/1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(res.status).toBe(200);
  });
});

describe('podman driver: system', () => {
  it('version and info come from libpod', async () => {
    const version = await engine.system.version();
    expect(version).toMatchObject({ name: 'Podman Engine', os: 'linux' });
    expect(version.apiVersion).toMatch(/^4\./);
    const info = await engine.system.info();
    expect(info.root).toBe(join(podman.dir, 'root'));
    expect(info).toMatchObject({
      storageDriver: 'overlay',
      cgroupDriver: 'cgroupfs',
      defaultRuntime: 'runc',
    });
    await engine.system.ping();
  });

  it('events: a past window holds what just happened, every time; a following stream ends at until', async () => {
    await engine.images.pull(images.busybox, { tlsVerify: false });
    // podman 4.3's own stream=false and until answers drop recent events now and then: ask 3 times
    for (let round = 0; round < 3; round++) {
      const since = Date.now() - 1000;
      const tag = `${registry.host}/evented:${round}`;
      await engine.images.tag(images.busybox, tag);
      const past = [];
      for await (const event of engine.system.events({ since, until: Date.now() })) past.push(event);
      expect(past).toContainEqual(
        expect.objectContaining({
          type: 'image',
          action: 'tag',
          attributes: expect.objectContaining({ name: tag }),
        }),
      );
    }
    // a container's and a volume's life in Docker's words (libpod says died and remove)
    const since = Date.now() - 1000;
    const volume = `events-${process.pid}`;
    for (const verb of ['create', 'rm']) {
      await promisify(execFile)('podman', ['--remote', '--url', podman.host, 'volume', verb, volume]);
    }
    const { id } = await engine.containers.create(
      { image: images.busybox, cmd: ['true'], network: 'none' },
      { pull: 'never' },
    );
    await engine.containers.start(id);
    await engine.containers.wait(id);
    await engine.containers.remove(id);
    const actions = [];
    const volumeActions = [];
    for await (const event of engine.system.events({ since, until: Date.now() })) {
      if (event.type === 'container' && event.id === id) actions.push(event.action);
      if (event.type === 'volume' && event.id === volume) volumeActions.push(event.action);
    }
    expect(volumeActions).toEqual(['create', 'destroy']);
    expect(actions.filter((a) => ['create', 'start', 'die', 'destroy'].includes(a))).toEqual([
      'create',
      'start',
      'die',
      'destroy',
    ]);
    const started = Date.now();
    const future = [];
    for await (const event of engine.system.events({ until: Date.now() + 1500 })) future.push(event);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('podman driver: addresses', () => {
  it('offers every operation the docker driver offers on the same service', async () => {
    const [docker, podmanConnection] = await Promise.all([
      dockerDriver.connect(podman.host, {}),
      podmanDriver.connect(podman.host, {}),
    ]);
    try {
      const offered = (c: typeof docker) =>
        Object.entries(c.handlers)
          .filter(([, h]) => typeof h === 'function')
          .map(([name]) => name)
          .sort();
      expect(offered(podmanConnection)).toEqual(expect.arrayContaining(offered(docker)));
    } finally {
      await docker.close();
      await podmanConnection.close();
    }
  });

  it('CONTAINER_HOST names the service when the address is empty', async () => {
    const viaEnv = await Engine.connect(podmanDriver, '', { env: { CONTAINER_HOST: podman.host } });
    await viaEnv.system.ping();
    await viaEnv.close();
  });

  it('speaks tcp:// (through a TCP relay to the service socket)', async () => {
    const relay: Server = createServer((client) => {
      const upstream = createConnection(podman.socket);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const { port } = relay.address() as { port: number };
    try {
      const viaTcp = await Engine.connect(podmanDriver, `tcp://127.0.0.1:${port}`);
      expect((await viaTcp.system.version()).name).toBe('Podman Engine');
      await viaTcp.close();
    } finally {
      relay.close();
    }
  });

  it('refuses ssh:// with an unimplemented error, credentials left out', async () => {
    for (const env of [{}, { CONTAINER_HOST: 'ssh://core:secret@host:22/run/podman/podman.sock' }]) {
      const address = 'CONTAINER_HOST' in env ? '' : 'ssh://core:secret@host:22/run/podman/podman.sock';
      const e = await failure(Engine.connect(podmanDriver, address, { env }));
      expect(e.code).toBe(ErrorCode.Unimplemented);
      expect(e.details).toMatchObject({ engine: 'podman', operation: 'connect', reason: 'unimplemented' });
      expect(e.message).toMatch(/ssh:\/\/ addresses .* not supported/);
      expect(e.message).not.toContain('secret');
    }
  });

  it('a dead socket is engine-unreachable; a dockerd-like engine without libpod is bad-response', async () => {
    const dead = await failure(Engine.connect(podmanDriver, `unix://${work}/nothing.sock`));
    expect(dead.details).toMatchObject({
      engine: 'podman',
      operation: 'connect',
      reason: 'engine-unreachable',
    });
    const sock = join(work, 'not-podman.sock');
    const server = createServer((s) => {
      s.on('data', () =>
        s.end(
          'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n{"message":"page not found"}\n',
        ),
      );
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const e = await failure(Engine.connect(podmanDriver, `unix://${sock}`));
      expect(e.details).toMatchObject({ reason: 'bad-response', operation: 'connect' });
      expect(e.message).toMatch(/does not serve podman's libpod API/);
    } finally {
      server.close();
    }
  });
});
