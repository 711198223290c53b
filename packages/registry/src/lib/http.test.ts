// The HTTP client's own contract (decision 053), against a local node:http server: the registry
// behaviour itself is tested against the real registry in registry.test.ts and faults.test.ts.
import { createServer, type Server } from 'node:http';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from './http.ts';

let server: Server;
let base: string;
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/challenges') {
      res.setHeader('www-authenticate', ['Basic realm="a"', 'Bearer realm="https://t/token"']);
      res.setHeader('x-one', 'only');
      res.end('{}');
    } else if (req.url === '/big') {
      res.setHeader('content-length', String(1 << 20));
      res.end(Buffer.alloc(1 << 20, 1));
    } else if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345'); // and never the rest
    } else {
      res.setHeader('content-length', '5');
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    }
  });
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const text = async (body: AsyncIterable<Uint8Array>) => {
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks).toString();
};

describe('HttpClient', () => {
  it('keeps every value of a header sent twice, and a single one as a string', async () => {
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const res = await client.request(new URL('/challenges', base), { method: 'GET', headers: {} });
    expect(res.headers['www-authenticate']).toEqual(['Basic realm="a"', 'Bearer realm="https://t/token"']);
    expect(res.headers['x-one']).toBe('only');
    await res.body.dump();
    client.close();
  });

  it('returns the connection of an unread HEAD response to the pool (one connection, no hang)', async () => {
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const before = connections;
    for (let i = 0; i < 3; i++) {
      const head = await client.request(new URL('/x', base), { method: 'HEAD', headers: {} });
      expect(head.statusCode).toBe(200);
    }
    const get = await client.request(new URL('/x', base), { method: 'GET', headers: {} });
    expect(await text(get.body)).toBe('hello');
    expect(connections - before).toBe(1);
    client.close();
  });

  it('drains a small body to keep the connection, and drops the connection of a big one', async () => {
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const before = connections;
    await (await client.request(new URL('/x', base), { method: 'GET', headers: {} })).body.dump();
    await (await client.request(new URL('/x', base), { method: 'GET', headers: {} })).body.dump();
    expect(connections - before).toBe(1);
    await (await client.request(new URL('/big', base), { method: 'GET', headers: {} })).body.dump();
    await (await client.request(new URL('/x', base), { method: 'GET', headers: {} })).body.dump();
    expect(connections - before).toBe(2);
    client.close();
  });

  it('fails a body that stops arriving with ETIMEDOUT', async () => {
    const client = new HttpClient({ connections: 1, timeout: 300 });
    const res = await client.request(new URL('/stall', base), { method: 'GET', headers: {} });
    await expect(text(res.body)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    client.close();
  });

  it("fails a request whose streamed body fails, with the body's own error", async () => {
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const boom = Object.assign(new Error('digest mismatch'), { code: 'OCIKIT_TEST' });
    async function* body() {
      yield new Uint8Array([1, 2, 3]);
      throw boom;
    }
    await expect(
      client.request(new URL('/x', base), {
        method: 'PUT',
        headers: { 'content-length': '6' },
        body: body(),
      }),
    ).rejects.toBe(boom);
    client.close();
  });
});

// GET and HEAD go through our own HTTP/1.1 connections (http1.ts, decision 054): framings and
// malformed responses a real registry does not send, served byte for byte by a raw TCP server.
describe('HttpClient GET and HEAD on its own connections', () => {
  let raw: NetServer;
  let rawBase: string;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const replies = new Map<string, string | Buffer>();

  beforeAll(async () => {
    raw = createNetServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let pending = '';
      socket.on('data', (d) => {
        pending += d.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const path = pending.slice(0, end).split(' ')[1] ?? '';
          pending = pending.slice(end + 4);
          const reply = replies.get(path);
          if (reply === undefined) socket.destroy();
          else if (path.startsWith('/close')) socket.end(reply);
          else socket.write(reply);
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    rawBase = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => raw.close(resolve));
  });

  const get = (client: HttpClient, path: string, method: 'GET' | 'HEAD' = 'GET') =>
    client.request(new URL(path, rawBase), { method, headers: { accept: '*/*' } });
  /** Gets `path`, whose body must fail with a retryable ECONNRESET naming `fault`. */
  const bodyFails = async (client: HttpClient, path: string, fault = '') => {
    const res = await get(client, path);
    await expect(text(res.body)).rejects.toMatchObject({
      code: 'ECONNRESET',
      message: expect.stringContaining(fault),
    });
  };
  /** Reads `path` twice with one client: the bodies, and how many connections that took. */
  const twice = async (path: string) => {
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const before = accepted;
    const bodies = [await text((await get(client, path)).body), await text((await get(client, path)).body)];
    client.close();
    return { bodies, connections: accepted - before };
  };

  it('decodes a chunked body (extensions and trailers too) and keeps the connection', async () => {
    replies.set(
      '/chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n',
    );
    expect(await twice('/chunked')).toEqual({ bodies: ['hello, world', 'hello, world'], connections: 1 });
  });

  it('reads a body without a length to the end of the connection, and never reuses it', async () => {
    replies.set('/close-delimited', 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it');
    expect(await twice('/close-delimited')).toEqual({ bodies: ['all of it', 'all of it'], connections: 2 });
  });

  it('gives a HEAD response no body whatever its Content-Length says', async () => {
    replies.set(
      '/head',
      'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDocker-Content-Digest: sha256:ab\r\n\r\n',
    );
    replies.set('/after', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const head = await get(client, '/head', 'HEAD');
    expect(head.headers['content-length']).toBe('1234');
    expect(await text(head.body)).toBe('');
    expect(await text((await get(client, '/after')).body)).toBe('ok');
    client.close();
  });

  it('refuses malformed responses with a retryable ECONNRESET naming the fault', async () => {
    replies.set('/bad-status', 'HTCPCP/1.0 418 teapot\r\n\r\n');
    replies.set('/both', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n');
    replies.set('/two-lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
    replies.set('/bad-chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    replies.set('/huge-head', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`);
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    for (const [path, fault] of [
      ['/bad-status', 'bad status line'],
      ['/both', 'both Transfer-Encoding and Content-Length'],
      ['/two-lengths', 'bad Content-Length'],
      ['/huge-head', 'head longer than'],
    ] as const) {
      await expect(get(client, path)).rejects.toMatchObject({
        code: 'ECONNRESET',
        message: expect.stringContaining(fault),
      });
    }
    await bodyFails(client, '/bad-chunk', 'bad chunk size');
    client.close();
  });

  it('skips interim responses (103 Early Hints) and reads the final one', async () => {
    replies.set(
      '/hints',
      'HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal',
    );
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const res = await get(client, '/hints');
    expect(res.statusCode).toBe(200);
    expect(await text(res.body)).toBe('final');
    client.close();
  });

  it('bounds chunk trailers: a server sending them without end is cut off', async () => {
    replies.set(
      '/trailers',
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n${'X-T: y\r\n'.repeat(20_000)}`,
    );
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    await bodyFails(client, '/trailers', 'trailers longer than');
    client.close();
  });

  it('fails a body cut short by the server with ECONNRESET', async () => {
    replies.set('/close-short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345');
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    await bodyFails(client, '/close-short');
    client.close();
  });

  it('retries once on a fresh connection when a kept one turns out closed', async () => {
    replies.set('/ok', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const before = accepted;
    expect(await text((await get(client, '/ok')).body)).toBe('ok');
    // the server drops every connection it has (as one does after its idle timeout)
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await text((await get(client, '/ok')).body)).toBe('ok');
    expect(accepted - before).toBe(2);
    client.close();
  });

  it('refuses a header that would smuggle a line into the request', async () => {
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const url = new URL('/ok', rawBase);
    await expect(
      client.request(url, { method: 'GET', headers: { 'x-a': 'b\r\nInjected: 1' } }),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(client.request(url, { method: 'GET', headers: { 'bad name': 'v' } })).rejects.toBeInstanceOf(
      TypeError,
    );
    client.close();
  });

  it('aborts a request waiting for its response', async () => {
    replies.set('/never', '');
    const client = new HttpClient({ connections: 1, timeout: 5000 });
    const ac = new AbortController();
    const pending = client.request(new URL('/never', rawBase), {
      method: 'GET',
      headers: {},
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    client.close();
  });
});
