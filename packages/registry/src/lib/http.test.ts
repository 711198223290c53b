// The HTTP client's own contract (decision 053), against a local node:http server: the registry
// behaviour itself is tested against the real registry in registry.test.ts and faults.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
