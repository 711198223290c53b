// The docker driver's HTTP layer against what a real engine never does: nothing listening, a
// server that answers garbage, HTML, truncated JSON or nothing at all (tiny servers in the test).
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, isInvalidArgument } from '@ocikit/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../engine.ts';
import { resolveEngineAddress } from './address.ts';
import { dockerDriver } from './driver.ts';
import { EngineHttp } from './http.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A unix-socket server that answers every connection with `answer(socket, request)`. */
async function serve(answer: (socket: Socket, request: string) => void): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'ocikit-docker-http-')), 'engine.sock');
  const server = createServer((socket) => {
    let got = '';
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) answer(socket, got);
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return path;
}

const http200 = (body: string, type = 'application/json') =>
  `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('docker driver: connecting', () => {
  it('fails fast with engine-unreachable on a socket nobody listens on', async () => {
    const started = Date.now();
    const e = await Engine.connect(dockerDriver, 'unix:///nonexistent/ocikit/docker.sock').catch(
      (x: unknown) => x,
    );
    // the connect timeout is 5 s: well under it, with room for a loaded machine
    expect(Date.now() - started).toBeLessThan(4000);
    expect(e).toMatchObject({
      code: ErrorCode.Unavailable,
      details: { engine: 'docker', operation: 'connect', reason: 'engine-unreachable' },
    });
    expect((e as Error).message).toMatch(/nonexistent\/ocikit\/docker\.sock.*ENOENT/);
  });

  it('fails fast with engine-unreachable on a closed TCP port', async () => {
    const e = await Engine.connect(dockerDriver, 'tcp://127.0.0.1:9', { env: {} }).catch((x: unknown) => x);
    expect(e).toMatchObject({ details: { reason: 'engine-unreachable' } });
    expect((e as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('gives bad-response for a server that answers garbage, not HTTP', async () => {
    const sock = await serve((s) => s.end('SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n'));
    const e = await Engine.connect(dockerDriver, `unix://${sock}`).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: ErrorCode.Unavailable,
      details: { reason: 'bad-response', operation: 'connect' },
    });
  });

  it('gives bad-response for an HTML error page', async () => {
    const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    const sock = await serve((s) =>
      s.end(
        `HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: ${html.length}\r\n\r\n${html}`,
      ),
    );
    const e = await Engine.connect(dockerDriver, `unix://${sock}`).catch((x: unknown) => x);
    expect(e).toMatchObject({ details: { reason: 'bad-response', status: 502 } });
    expect((e as Error).message).toMatch(/502 Bad Gateway/);
  });

  it('gives bad-response for truncated JSON and for a body cut short', async () => {
    const sock = await serve((s, req) => {
      if (req.startsWith('GET /_ping')) s.write(http200('OK', 'text/plain'));
      else if (req.includes('/version')) s.end(http200('{"Version": "20.10", "Api'));
      else s.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ID":');
    });
    const engine = await Engine.connect(dockerDriver, `unix://${sock}`, { timeout: 5000 });
    await expect(engine.system.version()).rejects.toMatchObject({
      details: { reason: 'bad-response', operation: 'system.version' },
      message: expect.stringMatching(/not JSON: "\{\\"Version\\": \\"20.10\\", \\"Api"/),
    });
    await expect(engine.system.info()).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      details: { operation: 'system.info', reason: 'bad-response' },
    });
    await engine.close();
  });

  it('gives engine-unreachable when /_ping does not answer within the connect timeout', async () => {
    const sock = await serve(() => {}); // accepts, never answers
    const started = Date.now();
    const { createDockerDriver } = await import('./driver.ts');
    const e = await Engine.connect(createDockerDriver({ connectTimeout: 300 }), `unix://${sock}`).catch(
      (x: unknown) => x,
    );
    // 300 ms, not the default 5 s: under 4.5 s, with room for a loaded machine
    expect(Date.now() - started).toBeLessThan(4500);
    expect(e).toMatchObject({ details: { reason: 'engine-unreachable' } });
    expect((e as Error).message).toMatch(/no answer .* in 300 ms/);
  });

  it('makes a closed connection fail with engine-unreachable, not hang', async () => {
    const sock = await serve((s) => s.end(http200('OK', 'text/plain')));
    const engine = await Engine.connect(dockerDriver, `unix://${sock}`);
    await engine.close();
    await expect(engine.system.ping()).rejects.toMatchObject({ details: { reason: 'engine-unreachable' } });
  });
});

describe('docker driver: addresses', () => {
  it('takes DOCKER_HOST for an empty or default address, and unix:///var/run/docker.sock without it', async () => {
    const env = { DOCKER_HOST: 'unix:///run/x.sock' };
    expect(
      await resolveEngineAddress('', { hostVariable: 'DOCKER_HOST', fallback: 'unix:///d.sock', env }),
    ).toEqual({
      origin: 'http://localhost',
      socketPath: '/run/x.sock',
    });
    expect(
      await resolveEngineAddress('default', {
        hostVariable: 'DOCKER_HOST',
        fallback: 'unix:///d.sock',
        env: {},
      }),
    ).toEqual({ origin: 'http://localhost', socketPath: '/d.sock' });
    expect(
      await resolveEngineAddress('tcp://10.1.2.3', { hostVariable: 'DOCKER_HOST', fallback: '', env: {} }),
    ).toEqual({ origin: 'http://10.1.2.3:2375' });
  });

  it('uses TLS for tcp:// under DOCKER_TLS_VERIFY with the files of DOCKER_CERT_PATH, and says which file is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocikit-docker-certs-'));
    const e = await resolveEngineAddress('tcp://h:2376', {
      hostVariable: 'DOCKER_HOST',
      fallback: '',
      env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir },
    }).catch((x: unknown) => x);
    expect(isInvalidArgument(e)).toBe(true);
    expect((e as Error).message).toContain(join(dir, 'ca.pem'));
  });

  it('refuses addresses it cannot reach', async () => {
    for (const bad of [
      'ssh://me@host',
      'npipe:////./pipe/docker_engine',
      'unix://relative.sock',
      'tcp://h:1/path',
    ]) {
      const e = await resolveEngineAddress(bad, { hostVariable: 'DOCKER_HOST', fallback: '', env: {} }).catch(
        (x: unknown) => x,
      );
      expect(isInvalidArgument(e), bad).toBe(true);
    }
  });
});

describe('docker driver: HTTP layer', () => {
  it('never puts X-Registry-Auth into an error', async () => {
    const sock = await serve((s) => {
      const body = '{"message":"unauthorized: authentication required"}';
      s.end(
        `HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    const http = new EngineHttp({ origin: 'http://localhost', socketPath: sock }, { engine: 'docker' });
    const e = await http
      .ok({
        method: 'POST',
        path: '/v1.41/images/create',
        headers: { 'x-registry-auth': Buffer.from('{"password":"s3cret-pw"}').toString('base64url') },
        operation: 'images.pull',
        subject: 'image',
        target: 'r/x:1',
      })
      .catch((x: unknown) => x);
    await http.close();
    expect(e).toMatchObject({
      code: ErrorCode.Unauthenticated,
      details: {
        reason: 'bad-credentials',
        status: 500,
        engineMessage: 'unauthorized: authentication required',
      },
    });
    const everything = JSON.stringify(e, Object.getOwnPropertyNames(e)) + String((e as Error).cause ?? '');
    expect(everything).not.toMatch(/s3cret|eyJwYXNz/);
  });
});
