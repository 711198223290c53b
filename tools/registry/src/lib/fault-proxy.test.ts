import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { InvalidArgumentError } from '@ocikit/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fault, startFaultProxy } from './fault-proxy.ts';
import { type RunningRegistry, startRegistry } from './registry.ts';

const REPO = 'faults/blob';
const blob = randomBytes(100_000);
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const blobPath = `/v2/${REPO}/blobs/${digest}`;
let registry: RunningRegistry;

beforeAll(async () => {
  registry = await startRegistry();
  const start = await fetch(`${registry.url}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  const location = new URL(start.headers.get('location') ?? '', registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: blob });
  await put.arrayBuffer();
  expect(put.status).toBe(201);
});

afterAll(async () => {
  await registry?.stop();
});

interface RawResponse {
  head: string;
  body: Buffer;
  error: string | undefined;
}

/** A GET over a raw socket, so a reset (ECONNRESET) and a clean early close can be told apart. */
function rawGet(base: string, path: string): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, split).toString('latin1'), body: all.subarray(split + 4), error });
    });
  });
}

describe('startFaultProxy', () => {
  it('forwards untouched without faults and rewrites upload Location headers to itself', async () => {
    await using proxy = await startFaultProxy({ target: registry.url, faults: [] });
    const res = await fetch(`${proxy.url}${blobPath}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(blob)).toBe(true);

    const small = randomBytes(64);
    const smallDigest = `sha256:${createHash('sha256').update(small).digest('hex')}`;
    const start = await fetch(`${proxy.url}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
    await start.arrayBuffer();
    const location = start.headers.get('location') ?? '';
    expect(location.startsWith(`${proxy.url}/v2/${REPO}/blobs/uploads/`)).toBe(true);
    const put = await fetch(`${location}&digest=${smallDigest}`, { method: 'PUT', body: small });
    await put.arrayBuffer();
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`${proxy.url}/v2/${REPO}/blobs/${smallDigest}`);
    expect(proxy.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'PUT']);
  });

  it.each([429, 503])(
    'answers %i with Retry-After for the first K matching requests, then forwards',
    async (status) => {
      const fault: Fault = {
        kind: 'status',
        status,
        retryAfter: 2,
        times: 2,
        match: { method: 'GET', path: '/blobs/' },
      };
      await using proxy = await startFaultProxy({ target: registry.url, faults: [fault] });
      const first = await fetch(`${proxy.url}${blobPath}`);
      expect(first.status).toBe(status);
      expect(first.headers.get('retry-after')).toBe('2');
      await first.arrayBuffer();
      const second = await fetch(`${proxy.url}${blobPath}`);
      expect(second.status).toBe(status);
      await second.arrayBuffer();
      const third = await fetch(`${proxy.url}${blobPath}`);
      expect(third.status).toBe(200);
      expect(Buffer.from(await third.arrayBuffer()).equals(blob)).toBe(true);
      const v2 = await fetch(`${proxy.url}/v2/`);
      expect(v2.status).toBe(200);
      expect(proxy.applied(fault)).toBe(2);
      expect(proxy.matched(fault)).toBe(3);
    },
  );

  it('resets the connection after N body bytes', async () => {
    const fault: Fault = { kind: 'reset', afterBytes: 30_000, match: { path: '/blobs/sha256:' } };
    await using proxy = await startFaultProxy({ target: registry.url, faults: [fault] });
    const broken = await rawGet(proxy.url, blobPath);
    expect(broken.error).toBe('ECONNRESET');
    expect(broken.body.length).toBeLessThanOrEqual(30_000);
    await expect(fetch(`${proxy.url}${blobPath}`).then((r) => r.arrayBuffer())).resolves.toHaveProperty(
      'byteLength',
      blob.length,
    );
    expect(proxy.applied(fault)).toBe(1);
  });

  it('truncates a body: full Content-Length declared, clean close after N bytes', async () => {
    const fault: Fault = { kind: 'truncate', afterBytes: 12_345 };
    await using proxy = await startFaultProxy({ target: registry.url, faults: [fault] });
    const cut = await rawGet(proxy.url, blobPath);
    expect(cut.error).toBeUndefined();
    expect(cut.head).toMatch(new RegExp(`content-length: ${blob.length}`, 'i'));
    expect(cut.body.equals(blob.subarray(0, 12_345))).toBe(true);
    expect(proxy.applied(fault)).toBe(1);
  });

  it('answers a short body correctly framed: a shorter Content-Length and exactly that many bytes', async () => {
    const fault: Fault = { kind: 'short-body', bytes: 12_345 };
    await using proxy = await startFaultProxy({ target: registry.url, faults: [fault] });
    const short = await fetch(`${proxy.url}${blobPath}`);
    expect(short.status).toBe(200);
    expect(short.headers.get('content-length')).toBe('12345');
    // complete by HTTP: the client's parser sees no framing error
    expect(Buffer.from(await short.arrayBuffer()).equals(blob.subarray(0, 12_345))).toBe(true);
    const whole = await fetch(`${proxy.url}${blobPath}`);
    expect((await whole.arrayBuffer()).byteLength).toBe(blob.length);
    expect(proxy.applied(fault)).toBe(1);
  });

  it('ignores Range: strips the header and answers 200 with the whole body', async () => {
    const fault: Fault = { kind: 'ignore-range', times: 1 };
    await using proxy = await startFaultProxy({ target: registry.url, faults: [fault] });
    const ignored = await fetch(`${proxy.url}${blobPath}`, { headers: { range: 'bytes=10-19' } });
    expect(ignored.status).toBe(200);
    expect((await ignored.arrayBuffer()).byteLength).toBe(blob.length);
    const honoured = await fetch(`${proxy.url}${blobPath}`, { headers: { range: 'bytes=10-19' } });
    expect(honoured.status).toBe(206);
    expect(Buffer.from(await honoured.arrayBuffer()).equals(blob.subarray(10, 20))).toBe(true);
    expect(proxy.applied(fault)).toBe(1);
  });

  it('corrupts one byte of a blob so its digest no longer matches', async () => {
    const fault: Fault = { kind: 'corrupt', offset: 70_000 };
    await using proxy = await startFaultProxy({ target: registry.url, faults: [fault] });
    const got = Buffer.from(await (await fetch(`${proxy.url}${blobPath}`)).arrayBuffer());
    expect(got.length).toBe(blob.length);
    expect(got[70_000]).toBe((blob[70_000] ?? 0) ^ 0xff);
    expect(got.subarray(0, 70_000).equals(blob.subarray(0, 70_000))).toBe(true);
    expect(`sha256:${createHash('sha256').update(got).digest('hex')}`).not.toBe(digest);
  });

  it('slows responses by a delay and by throttling bytes per second', async () => {
    const delay: Fault = { kind: 'slow', delayMs: 300, match: { path: '/v2/' } };
    await using delayed = await startFaultProxy({ target: registry.url, faults: [delay] });
    let t = performance.now();
    await (await fetch(`${delayed.url}/v2/`)).arrayBuffer();
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);

    const throttle: Fault = { kind: 'slow', bytesPerSecond: 400_000 };
    await using throttled = await startFaultProxy({ target: registry.url, faults: [throttle] });
    t = performance.now();
    const body = await (await fetch(`${throttled.url}${blobPath}`)).arrayBuffer();
    expect(body.byteLength).toBe(blob.length);
    expect(performance.now() - t).toBeGreaterThanOrEqual(200);
    expect(throttled.applied(throttle)).toBe(1);
  });

  it('takes a function choosing the fault per request', async () => {
    const fault: Fault = { kind: 'status', status: 503, times: Number.POSITIVE_INFINITY };
    await using proxy = await startFaultProxy({
      target: registry.url,
      faults: (req) => (req.method === 'HEAD' ? fault : undefined),
    });
    expect((await fetch(`${proxy.url}${blobPath}`, { method: 'HEAD' })).status).toBe(503);
    expect((await fetch(`${proxy.url}${blobPath}`, { method: 'HEAD' })).status).toBe(503);
    expect((await fetch(`${proxy.url}${blobPath}`)).status).toBe(200);
    expect(proxy.applied(fault)).toBe(2);
    expect(proxy.requests.map((r) => r.fault)).toEqual(['status', 'status', undefined]);
  });

  it('rejects a bad target or fault with InvalidArgumentError', async () => {
    await expect(startFaultProxy({ target: 'not a url', faults: [] })).rejects.toThrow(InvalidArgumentError);
    await expect(startFaultProxy({ target: 'https://127.0.0.1:1', faults: [] })).rejects.toThrow(
      /must be http:\/\//,
    );
    await expect(
      startFaultProxy({ target: registry.url, faults: [{ kind: 'reset', afterBytes: -1 }] }),
    ).rejects.toThrow(/reset fault: afterBytes must be a non-negative integer/);
    await expect(
      startFaultProxy({ target: registry.url, faults: [{ kind: 'status', status: 42 }] }),
    ).rejects.toThrow(/status must be an HTTP status/);
  });
});
