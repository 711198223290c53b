import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { isDataLoss, isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import cases from '../../test/fixtures/digest.json' with { type: 'json' };
import { registerAlgorithm, SMALL_SHA256, unregisterAlgorithm } from './algorithms.ts';
import { createHasher, digestFile, digestOf, digestOfSync, verifyBytes, verifyStream } from './compute.ts';
import { type Digest, digestAlgorithm, digestEncoded, isDigest, parseDigest } from './digest.ts';
import { randomHex } from './random.ts';
import { sha256Hex } from './sha256.ts';

interface Case {
  name: string;
  kind: string;
  input: string;
  valid: boolean;
  error?: string | null;
  registeredAlgorithms?: string[];
  algorithm?: string;
  expected?: string;
  verifiedHere?: boolean;
}
const all = cases as Case[];

// Test-only algorithms: registered so parsing sees the same algorithm set the upstream case ran
// with. Their hash functions are never called by parse cases.
const extra: Record<string, RegExp> = { sha384: /^[a-f0-9]{96}$/, blake3: /^[a-f0-9]{64}$/ };
const extraLength: Record<string, number> = { sha384: 96, blake3: 64 };
function withAlgorithms<T>(names: readonly string[] | undefined, fn: () => T): T {
  const added = (names ?? []).filter((n) => n in extra);
  for (const n of added) {
    registerAlgorithm(n, {
      createHash: () => {
        if (n !== 'sha384') throw new Error(`${n} cannot be computed in this test`);
        const h = createHash('sha384');
        return { update: (b) => void h.update(b), digest: () => h.digest('hex') };
      },
      encodedPattern: extra[n] as RegExp,
      encodedLength: extraLength[n] as number,
    });
  }
  try {
    return fn();
  } finally {
    for (const n of added) unregisterAlgorithm(n);
  }
}

describe('parseDigest: go-digest and image-spec vectors', () => {
  it.each(all.filter((c) => c.kind === 'parse').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    withAlgorithms(c.registeredAlgorithms, () => {
      if (c.valid) {
        const d = parseDigest(c.input);
        expect(d).toBe(c.input);
        if (c.algorithm) expect(digestAlgorithm(d)).toBe(c.algorithm);
        expect(isDigest(c.input)).toBe(true);
      } else {
        let caught: unknown;
        try {
          parseDigest(c.input);
        } catch (e) {
          caught = e;
        }
        expect(isInvalidArgument(caught)).toBe(true);
        expect((caught as { details: { reason: string } }).details.reason).toBe(c.error);
        expect(isDigest(c.input)).toBe(false);
      }
    });
  });
});

describe('registerAlgorithm: algorithm-name grammar', () => {
  it.each(all.filter((c) => c.kind === 'algorithmName').map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const register = () =>
      registerAlgorithm(c.input, {
        createHash: () => ({ update() {}, digest: () => '' }),
        encodedPattern: /^x$/,
      });
    if (c.valid) {
      expect(register).not.toThrow();
      unregisterAlgorithm(c.input);
    } else expect(register).toThrow(/invalid digest algorithm name/);
  });
});

describe('digestOf: hash vectors', () => {
  const compute = all.filter((c) => c.kind === 'compute');
  it.each(compute.filter((c) => c.verifiedHere !== false).map((c) => [c.name, c] as const))(
    '%s',
    async (_n, c) => {
      const bytes = Buffer.from(c.input, 'base64');
      expect(await digestOf(bytes, { algorithm: c.algorithm as string })).toBe(c.expected);
      expect(digestOfSync(bytes, { algorithm: c.algorithm as string })).toBe(c.expected);
      expect(await digestOf(Readable.from([bytes]), { algorithm: c.algorithm as string })).toBe(c.expected);
    },
  );
  // Our choice: blake3 is not built in (node:crypto has none), so its vectors are unsupported.
  it.each(compute.filter((c) => c.verifiedHere === false).map((c) => [c.name, c] as const))(
    '%s (blake3 is not built in: unsupported)',
    async (_n, c) => {
      await expect(
        digestOf(Buffer.from(c.input, 'base64'), { algorithm: c.algorithm as string }),
      ).rejects.toThrow(/unsupported digest algorithm "blake3"/);
    },
  );
});

describe('digestOf inputs', () => {
  const hello = 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';
  it('takes a string, bytes, an async iterable and a web ReadableStream', async () => {
    expect(await digestOf('hello world')).toBe(hello);
    expect(await digestOf(new TextEncoder().encode('hello world'))).toBe(hello);
    async function* parts() {
      yield new TextEncoder().encode('hello ');
      yield new TextEncoder().encode('world');
    }
    expect(await digestOf(parts())).toBe(hello);
    const web = new Blob(['hello', ' world']).stream();
    expect(await digestOf(web)).toBe(hello);
  });

  it('stops when the signal fires', async () => {
    const c = new AbortController();
    c.abort();
    await expect(digestOf(Readable.from([Buffer.from('x')]), { signal: c.signal })).rejects.toThrow(
      /aborted/,
    );
  });

  it('splits a digest and tracks the size', () => {
    const d = parseDigest(hello);
    expect(digestEncoded(d)).toBe(hello.slice(7));
    const h = createHasher();
    h.update(Buffer.from('hello world'));
    expect(h.size).toBe(11);
    expect(h.digest()).toBe(hello);
  });
});

describe('digestFile', () => {
  it('hashes a file larger than its two 4 MiB read buffers', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const bytes = Buffer.alloc(9 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
    const path = join(mkdtempSync(join(tmpdir(), 'ocikit-digest-')), 'f');
    writeFileSync(path, bytes);
    expect(await digestFile(path)).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    expect(await digestFile(path, { algorithm: 'sha512' })).toBe(
      `sha512:${createHash('sha512').update(bytes).digest('hex')}`,
    );
  });
});

describe('verifyStream', () => {
  const bytes = Buffer.from('hello world');
  const digest = digestOfSync(bytes);
  const collect = async (it: AsyncIterable<Uint8Array>) => {
    const out: Uint8Array[] = [];
    for await (const c of it) out.push(c);
    return Buffer.concat(out);
  };

  it('passes the bytes through when digest and size match', async () => {
    expect(await collect(verifyStream(Readable.from([bytes]), { digest, size: 11 }))).toEqual(bytes);
  });

  it('fails with DataLoss naming both digests when the bytes are wrong', async () => {
    const err = await collect(
      verifyStream(Readable.from([Buffer.from('hello WORLD')]), { digest, size: 11 }),
    ).catch((e: unknown) => e);
    expect(isDataLoss(err)).toBe(true);
    expect((err as Error).message).toContain(digest);
    expect((err as Error).message).toContain(digestOfSync('hello WORLD'));
  });

  it('fails as soon as more bytes than the size arrive, before yielding them', async () => {
    const seen: number[] = [];
    const gen = verifyStream(Readable.from([Buffer.alloc(8), Buffer.alloc(8)]), { digest, size: 11 });
    const err = await (async () => {
      for await (const c of gen) seen.push(c.byteLength);
    })().catch((e: unknown) => e);
    expect(isDataLoss(err)).toBe(true);
    expect(seen).toEqual([8]);
  });

  it('fails on a short stream', async () => {
    const err = await collect(
      verifyStream(Readable.from([bytes.subarray(0, 5)]), { digest, size: 11 }),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toContain('ended after 5 of its 11 bytes');
  });

  it('verifyBytes: the same checks on whole bytes', () => {
    expect(() => verifyBytes(bytes, { digest, size: 11 })).not.toThrow();
    expect(() => verifyBytes(bytes, { digest })).not.toThrow();
    const wrong = (() => {
      try {
        verifyBytes(Buffer.from('hello WORLD'), { digest, size: 11 });
      } catch (e) {
        return e;
      }
    })();
    expect(isDataLoss(wrong)).toBe(true);
    expect((wrong as Error).message).toContain(digestOfSync('hello WORLD'));
    expect(() => verifyBytes(bytes.subarray(0, 5), { digest, size: 11 })).toThrow(
      'ended after 5 of its 11 bytes',
    );
    expect(() => verifyBytes(Buffer.concat([bytes, bytes]), { digest, size: 11 })).toThrow(
      'larger than its expected 11 bytes',
    );
  });

  it('rejects an unsupported algorithm', () => {
    expect(() => parseDigest('md5:d41d8cd98f00b204e9800998ecf8427e')).toThrow(/unsupported/);
    expect(() => createHasher('md5')).toThrow(/unsupported digest algorithm "md5"/);
  });

  it('keeps Digest a branded string', () => {
    const d: Digest = parseDigest(digest);
    expect(typeof d).toBe('string');
  });
});

describe('sha256 in JavaScript for small inputs (decision 105)', () => {
  const node = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('matches node:crypto at every padding boundary and around the hand-over size', () => {
    const sizes = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, SMALL_SHA256 - 1];
    sizes.push(SMALL_SHA256, SMALL_SHA256 + 1, 3 * SMALL_SHA256);
    for (const n of sizes) {
      const bytes = randomBytes(n);
      expect(sha256Hex(bytes), `${n} bytes`).toBe(node(bytes));
      expect(digestOfSync(bytes), `${n} bytes`).toBe(`sha256:${node(bytes)}`);
    }
  });

  it('hands over to node:crypto mid-stream with the bytes held so far', () => {
    const bytes = randomBytes(3 * SMALL_SHA256 + 17);
    const h = createHasher();
    for (let o = 0; o < bytes.length; o += 1000) h.update(bytes.subarray(o, o + 1000));
    expect(h.digest()).toBe(`sha256:${node(bytes)}`);
    expect(h.size).toBe(bytes.length);
  });

  it('copies what it holds back, so a caller may reuse its buffer after update', () => {
    const buf = Buffer.from('first half,');
    const h = createHasher();
    h.update(buf);
    const second = Buffer.from('second half');
    buf.fill(0);
    h.update(second);
    expect(h.digest()).toBe(`sha256:${node(Buffer.from('first half,second half'))}`);
  });

  it('passes the NIST FIPS 180-4 examples', () => {
    expect(sha256Hex(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256Hex(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });
});

describe('randomHex', () => {
  it('gives the asked number of random bytes as hex, different every time', () => {
    const seen = new Set(Array.from({ length: 100 }, () => randomHex(8)));
    expect(seen.size).toBe(100);
    for (const s of seen) expect(s).toMatch(/^[0-9a-f]{16}$/);
    expect(randomHex(32)).toMatch(/^[0-9a-f]{64}$/);
  });
});
