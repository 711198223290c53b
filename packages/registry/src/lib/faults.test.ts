// The client through our fault-injecting proxy in front of the real registry (resets, 429/503 with
// Retry-After, ignored Range, truncation, corruption), and against small local servers for what no
// real registry does (oversized and endless manifests, invalid JSON, paged tags, redirects to storage).

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, MemoryStore, openLayout } from '@ocikit/content';
import { digestOfSync } from '@ocikit/digest';
import { isDataLoss, isInvalidArgument, isUnavailable } from '@ocikit/errors';
import { MediaType } from '@ocikit/image-spec';
import { type Fault, type RunningRegistry, startFaultProxy, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from './repository.ts';
import { makeImage, type TestImage } from './test-support.ts';

const BLOB = 600_000;

let registry: RunningRegistry;
let image: TestImage;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none' });
  image = await makeImage({ layers: [BLOB], tag: 'v1' });
  const repo = openRepository(`${registry.host}/faults/app`);
  await copy(image.store, 'v1', repo, 'v1');
  await repo.transport.close();
});
afterAll(async () => {
  await registry?.stop();
});

const layerPath = () => `/blobs/${image.layers[0]!.digest}`;

async function pullThrough(faults: Fault[], options: { retries?: number } = {}) {
  const proxy = await startFaultProxy({ target: registry.url, faults });
  const repo = openRepository(`${proxy.host}/faults/app`, { retryDelay: 10, ...options });
  const dir = await mkdtemp(join(tmpdir(), 'ocikit-faults-'));
  try {
    const layout = await openLayout(dir, { create: true });
    const result = await copy(repo, 'v1', layout, 'v1').then(
      (desc) => ({ desc, error: undefined }),
      (error: unknown) => ({ desc: undefined, error }),
    );
    const blobGets = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes(layerPath()));
    const has = await layout.exists(image.layers[0]!);
    const ingest = await readdir(join(dir, '.ocikit', 'ingest')).catch(() => [] as string[]);
    const fsck = await layout.fsck();
    return { ...result, proxy, blobGets, has, ingest, fsck };
  } finally {
    await repo.transport.close();
    await proxy.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('through the fault proxy', () => {
  it('resumes a blob whose connection is reset mid-way, with Range from the last byte', async () => {
    const r = await pullThrough([
      { kind: 'reset', afterBytes: 200_000, match: { method: 'GET', path: layerPath() } },
    ]);
    expect(r.error).toBeUndefined();
    expect(r.has).toBe(true);
    expect(r.blobGets.length).toBe(2);
    expect(r.fsck.problems).toEqual([]);
  });

  it('resumes after a truncated body', async () => {
    const r = await pullThrough([
      { kind: 'truncate', afterBytes: 123_457, match: { method: 'GET', path: layerPath() } },
    ]);
    expect(r.error).toBeUndefined();
    expect(r.has).toBe(true);
    expect(r.blobGets.length).toBe(2);
  });

  it('resumes a response complete by HTTP but short of the blob (a shorter, correctly framed Content-Length)', async () => {
    const r = await pullThrough([
      { kind: 'short-body', bytes: 200_000, match: { method: 'GET', path: layerPath() } },
    ]);
    expect(r.error).toBeUndefined();
    expect(r.has).toBe(true);
    expect(r.blobGets.map((g) => g.fault)).toEqual(['short-body', undefined]);
    expect(r.fsck.problems).toEqual([]);
  });

  it('gives up on responses that keep ending short, with DataLoss saying so, after the resume budget', async () => {
    const fault: Fault = {
      kind: 'short-body',
      bytes: 1000,
      times: Number.POSITIVE_INFINITY,
      match: { method: 'GET', path: layerPath() },
    };
    const r = await pullThrough([fault]);
    expect(isDataLoss(r.error)).toBe(true);
    expect((r.error as Error).message).toContain(image.layers[0]!.digest);
    expect((r.error as Error).message).toMatch(/ended short/);
    expect((r.error as { details?: { reason?: string } }).details?.reason).toBe('short-body');
    expect(r.blobGets.length).toBe(6); // the first GET and the default 5 resumes
    expect(r.has).toBe(false);
  });

  it('pulls into a layout that kept every byte of an interrupted download: nothing left to fetch, no 416', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocikit-faults-'));
    const repo = openRepository(`${registry.host}/faults/app`, { retryDelay: 10 });
    try {
      const layout = await openLayout(dir, { create: true });
      const layer = image.layers[0]!;
      // a download killed after its last byte was written, before the commit
      const writer = await layout.openWriter(layer);
      for await (const chunk of await image.store.fetch(layer)) await writer.write(chunk as Uint8Array);
      await writer.close();
      await copy(repo, 'v1', layout, 'v1');
      expect(await layout.exists(layer)).toBe(true);
      expect((await layout.fsck()).problems).toEqual([]);
    } finally {
      await repo.transport.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts over cleanly when the server ignores Range after a reset', async () => {
    const r = await pullThrough([
      { kind: 'reset', afterBytes: 300_000, match: { method: 'GET', path: layerPath() } },
      { kind: 'ignore-range', match: { method: 'GET', path: layerPath() } },
    ]);
    expect(r.error).toBeUndefined();
    expect(r.has).toBe(true);
    expect(r.blobGets.map((g) => g.fault)).toEqual(['reset', 'ignore-range']);
  });

  it('waits out 429 and 503 with Retry-After, then succeeds', async () => {
    const started = Date.now();
    const r = await pullThrough([
      { kind: 'status', status: 429, retryAfter: 1, match: { path: '/manifests/' } },
      { kind: 'status', status: 503, retryAfter: 1, times: 2, match: { path: layerPath() } },
    ]);
    expect(r.error).toBeUndefined();
    expect(r.has).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900); // three Retry-After: 1 waits
    expect(r.proxy.requests.filter((q) => q.fault === 'status').length).toBe(3);
  });

  it('gives a clear Unavailable error once the retry budget is spent, and keeps nothing', async () => {
    const r = await pullThrough(
      [{ kind: 'status', status: 503, times: Number.POSITIVE_INFINITY, match: { path: layerPath() } }],
      {
        retries: 2,
      },
    );
    expect(isUnavailable(r.error)).toBe(true);
    expect((r.error as Error).message).toContain(image.layers[0]!.digest);
    expect(r.blobGets.length).toBe(3);
    expect(r.has).toBe(false);
  });

  // regression: tinyproxy closes its client connection after each response, and a streamed blob PUT
  // sent on that connection failed the push (ECONNRESET, seen in CI): the transport cannot resend a
  // stream, so copy sends the blob again from a fresh read of the source
  it('pushes a blob again from the source when its streamed upload fails (503, or a reset connection)', async () => {
    const uploads = (p: Awaited<ReturnType<typeof startFaultProxy>>) =>
      p.requests.filter((q) => q.method === 'PUT' && q.path.includes('/blobs/uploads/'));
    for (const [i, fault] of [
      { kind: 'status', status: 503, match: { method: 'PUT', path: '/blobs/uploads/' } },
      { kind: 'reset', afterBytes: 0, match: { method: 'PUT', path: '/blobs/uploads/' } },
    ].entries()) {
      const proxy = await startFaultProxy({ target: registry.url, faults: [fault as Fault] });
      const repo = openRepository(`${proxy.host}/faults/pushed${i}`, { retryDelay: 10 });
      try {
        await copy(image.store, 'v1', repo, 'v1');
        expect(uploads(proxy).filter((q) => q.fault !== undefined).length).toBe(1);
        const direct = openRepository(`${registry.host}/faults/pushed${i}`);
        for (const layer of image.layers) expect(await direct.exists(layer)).toBe(true);
        await direct.transport.close();
      } finally {
        await repo.transport.close();
        await proxy.stop();
      }
    }
  });

  it('gives up on a blob upload that keeps failing, Unavailable after three sends', async () => {
    const proxy = await startFaultProxy({
      target: registry.url,
      faults: [
        {
          kind: 'status',
          status: 503,
          times: Number.POSITIVE_INFINITY,
          match: { method: 'PUT', path: '/blobs/uploads/' },
        },
      ],
    });
    const repo = openRepository(`${proxy.host}/faults/never`, { retryDelay: 10 });
    try {
      const error = await copy(image.store, 'v1', repo, 'v1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isUnavailable(error)).toBe(true);
      const layerPuts = proxy.requests.filter(
        (q) =>
          q.method === 'PUT' &&
          q.path.includes('/blobs/uploads/') &&
          q.path.includes(encodeURIComponent(image.layers[0]!.digest)),
      );
      expect(layerPuts.length).toBe(3);
    } finally {
      await repo.transport.close();
      await proxy.stop();
    }
  });

  it('fails a corrupted blob with DataLoss naming its digest, leaving no trace in the store', async () => {
    const r = await pullThrough([
      { kind: 'corrupt', offset: 4242, match: { method: 'GET', path: layerPath() } },
    ]);
    expect(isDataLoss(r.error)).toBe(true);
    expect((r.error as Error).message).toContain(image.layers[0]!.digest);
    expect(r.has).toBe(false);
    expect(r.ingest).toEqual([]);
    expect(r.fsck.problems).toEqual([]);
  });

  it('gives up on a connection that keeps breaking, with DataLoss after the resume budget', async () => {
    const r = await pullThrough([
      {
        kind: 'reset',
        afterBytes: 1000,
        times: Number.POSITIVE_INFINITY,
        match: { method: 'GET', path: layerPath() },
      },
    ]);
    expect(isDataLoss(r.error) || isUnavailable(r.error)).toBe(true);
    expect((r.error as Error).message).toContain(image.layers[0]!.digest);
    expect(r.has).toBe(false);
  });
});

/** A local HTTP server for behaviour no real registry shows; records request headers. */
async function fakeServer(
  handler: (path: string, res: ServerResponse, headers: IncomingHttpHeaders) => void,
): Promise<{ host: string; seen: { path: string; headers: IncomingHttpHeaders }[]; server: Server }> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '/', headers: req.headers });
    handler(req.url ?? '/', res, req.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, seen, server };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('against servers misbehaving in ways a real registry does not', () => {
  it('refuses an oversized manifest before reading it, and an endless one after 4 MiB', async () => {
    const big = await fakeServer((_path, res) => {
      res.writeHead(200, { 'content-type': MediaType.ImageManifest, 'content-length': String(5 << 20) });
      res.end();
    });
    let sent = 0;
    const endless = await fakeServer((_path, res) => {
      res.writeHead(200, { 'content-type': MediaType.ImageManifest });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < 64 << 20 && res.write(chunk)) sent += chunk.length;
        if (sent < 64 << 20) res.once('drain', pump);
      };
      pump();
    });
    try {
      const a = openRepository(`${big.host}/app`);
      const e1 = await a.fetchManifest('v1').catch((e: unknown) => e);
      expect(isInvalidArgument(e1)).toBe(true);
      expect((e1 as Error).message).toMatch(/more than the 4194304 allowed/);
      await a.transport.close();

      const b = openRepository(`${endless.host}/app`);
      const e2 = await b.fetchManifest('v1').catch((e: unknown) => e);
      expect(isInvalidArgument(e2)).toBe(true);
      expect((e2 as Error).message).toMatch(/larger than the 4194304 bytes allowed/);
      expect(sent).toBeLessThan(64 << 20); // we stopped reading long before the server stopped sending
      await b.transport.close();
    } finally {
      await close(big.server);
      await close(endless.server);
    }
  });

  it('turns an invalid manifest into a typed error', async () => {
    const server = await fakeServer((_path, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>not a manifest</html>');
    });
    try {
      const repo = openRepository(`${server.host}/app`);
      const err = await copy(repo, 'v1', new MemoryStore(), 'v1').catch((e: unknown) => e);
      expect(isInvalidArgument(err)).toBe(true);
      expect((err as Error).message).toMatch(/not JSON/);
      await repo.transport.close();
    } finally {
      await close(server.server);
    }
  });

  it('follows tag pages through Link headers', async () => {
    const pages: Record<string, { tags: string[]; next?: string }> = {
      '/v2/app/tags/list?n=2': { tags: ['a', 'b'], next: '/v2/app/tags/list?n=2&last=b' },
      '/v2/app/tags/list?n=2&last=b': { tags: ['c', 'd'], next: '/v2/app/tags/list?n=2&last=d' },
      '/v2/app/tags/list?n=2&last=d': { tags: ['e'] },
    };
    const server = await fakeServer((path, res) => {
      const page = pages[path];
      if (!page) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(page.next ? { link: `<${page.next}>; rel="next"` } : {}),
      });
      res.end(JSON.stringify({ name: 'app', tags: page.tags }));
    });
    try {
      const repo = openRepository(`${server.host}/app`);
      expect(await repo.tags({ pageSize: 2 })).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(server.seen.map((s) => s.path)).toEqual(Object.keys(pages));
      await repo.transport.close();
    } finally {
      await close(server.server);
    }
  });

  it('follows a redirect to blob storage without sending the registry credentials there', async () => {
    const blob = Buffer.from('stored elsewhere');
    const digest = digestOfSync(blob);
    const storage = await fakeServer((_path, res) => {
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.end(blob);
    });
    const front = await fakeServer((path, res, headers) => {
      if (headers.authorization === undefined) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:9/token",service="front"' });
        res.end();
      } else if (path.startsWith('/v2/app/blobs/')) {
        res.writeHead(307, { location: `http://${storage.host}/bucket/${digest}?sig=abc` });
        res.end();
      } else res.writeHead(404).end();
    });
    try {
      const repo = openRepository(`${front.host}/app`, {
        credentials: { registryToken: 'secret-registry-token' },
      });
      const desc = { mediaType: MediaType.ImageLayer, digest, size: blob.length };
      const chunks: Buffer[] = [];
      for await (const c of await repo.fetch(desc)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(blob)).toBe(true);
      expect(storage.seen).toHaveLength(1);
      expect(storage.seen[0]!.headers.authorization).toBeUndefined();
      expect(front.seen.map((s) => s.headers.authorization)).toEqual([
        undefined,
        'Bearer secret-registry-token',
      ]);
      await repo.transport.close();
    } finally {
      await close(front.server);
      await close(storage.server);
    }
  });
});
