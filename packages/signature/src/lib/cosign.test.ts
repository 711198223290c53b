// Cosign signatures: verified against signatures real cosign made (containers/image's fixtures),
// and stored in and read from the real registry (distribution 2.8, which has no referrers API: the
// client falls back to the `sha256-<hex>` tag index).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchAll, pushBytes } from '@ocikit/content';
import { digestOfSync } from '@ocikit/digest';
import { isInvalidArgument, isPermissionDenied } from '@ocikit/errors';
import { type Descriptor, MediaType, parseManifest } from '@ocikit/image-spec';
import { openRepository, Transport } from '@ocikit/registry';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachCosignSignature,
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIGNATURE_ARTIFACT_TYPE,
  cosignSignatureTag,
  MAX_SIGNATURES,
  readCosignSignatures,
  signPayload,
} from './cosign.ts';
import { generateKeyPair, parsePublicKey, readPrivateKey } from './keys.ts';
import { makePayload, SIGSTORE_PAYLOAD_MEDIA_TYPE } from './payload.ts';
import { verifyCosignSignature, verifySigstoreSigned } from './sigstore-verify.ts';
import { targetSignatureSource } from './sources.ts';
import type { ImageToVerify, SigstoreSignature, SigstoreSignedRequirement } from './types.ts';

const fixtures = new URL('../../test/fixtures/containers-image/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, fixtures));

/** A containers/image `dir:` sigstore signature file as a SigstoreSignature. */
function dirSignature(name: string): SigstoreSignature {
  const bytes = fixture(name);
  const prefix = '\0sigstore-json\n';
  expect(bytes.subarray(0, prefix.length).toString()).toBe(prefix);
  const doc = JSON.parse(bytes.subarray(prefix.length).toString()) as {
    mimeType: string;
    payload: string;
    annotations: Record<string, string>;
  };
  expect(doc.mimeType).toBe(SIGSTORE_PAYLOAD_MEDIA_TYPE);
  return {
    payload: Buffer.from(doc.payload, 'base64'),
    signature: doc.annotations[COSIGN_SIGNATURE_ANNOTATION] ?? '',
  };
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('signatures made by real cosign (containers/image fixtures)', () => {
  const manifest = fixture('dir-img-cosign-valid_manifest.json');
  const key = parsePublicKey(fixture('cosign.pub'));
  const identity = '192.168.64.2:5000/cosign-signed-single-sample';
  const accept = { publicKeys: [key], manifest, acceptIdentity: (r: string) => r === identity };

  it('verifies both signatures with cosign.pub, for the manifest digest and identity cosign signed', () => {
    for (const name of ['dir-img-cosign-valid_signature-1.sig', 'dir-img-cosign-valid-2_signature-2.sig']) {
      const payload = verifyCosignSignature(dirSignature(name), accept);
      expect(payload.dockerManifestDigest).toBe(digestOfSync(manifest));
      expect(payload.dockerReference).toBe(identity);
    }
  });

  it('refuses a signature by another key, and a good one checked with the wrong key', async () => {
    expect(
      (await caught(() => verifyCosignSignature(dirSignature('unknown-cosign-key.sig'), accept))).message,
    ).toMatch(/cryptographic signature verification failed/);
    const other = { ...accept, publicKeys: [parsePublicKey(fixture('cosign2.pub'))] };
    const e = await caught(() =>
      verifyCosignSignature(dirSignature('dir-img-cosign-valid_signature-1.sig'), other),
    );
    expect(isPermissionDenied(e)).toBe(true);
  });

  it('refuses a tampered payload, another manifest, another identity, a mangled signature', async () => {
    const sig = dirSignature('dir-img-cosign-valid_signature-1.sig');
    const tampered = Buffer.from(sig.payload);
    tampered[tampered.length - 3] = 0x20;
    expect(
      (await caught(() => verifyCosignSignature({ ...sig, payload: tampered }, accept))).message,
    ).toMatch(/verification failed/);
    const otherManifest = Buffer.from(manifest.toString().replace('2896510', '2896511'));
    expect(
      (await caught(() => verifyCosignSignature(sig, { ...accept, manifest: otherManifest }))).message,
    ).toMatch(/signature for digest sha256:634a8f35.* does not match/);
    expect(
      (await caught(() => verifyCosignSignature(sig, { ...accept, acceptIdentity: () => false }))).message,
    ).toMatch(/identity "192.168.64.2:5000\/cosign-signed-single-sample" is not accepted/);
    const bad = await caught(() => verifyCosignSignature({ ...sig, signature: 'not base64!' }, accept));
    expect(isInvalidArgument(bad)).toBe(true);
    const none = await caught(() => verifyCosignSignature({ ...sig, signature: '' }, accept));
    expect(none.message).toMatch(/no dev.cosignproject.cosign\/signature annotation/);
  });
});

describe('cosign signatures in the real registry', () => {
  let registry: RunningRegistry;
  let transport: Transport;
  let dir: string;
  let pubPath: string;
  let otherPubPath: string;
  let signingKey: Awaited<ReturnType<typeof readPrivateKey>>;
  const repo = (name: string) => openRepository(`${registry.host}/sig/${name}`, { transport });

  beforeAll(async () => {
    registry = await startRegistry();
    transport = new Transport();
    dir = await mkdtemp(join(tmpdir(), 'ocikit-cosign-'));
    const pair = await generateKeyPair({ passphrase: 'pw' });
    const other = await generateKeyPair({ passphrase: 'pw' });
    signingKey = await readPrivateKey(pair.privateKeyPem, { passphrase: 'pw' });
    pubPath = join(dir, 'cosign.pub');
    otherPubPath = join(dir, 'other.pub');
    await writeFile(pubPath, pair.publicKeyPem);
    await writeFile(otherPubPath, other.publicKeyPem);
  });
  afterAll(async () => {
    await transport?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Pushes a small one-layer image; returns its manifest descriptor and bytes. */
  async function pushImage(name: string, tag = 'v1') {
    const r = repo(name);
    const layer = await pushBytes(r, MediaType.ImageLayer, randomBytes(64));
    const config = await pushBytes(
      r,
      MediaType.ImageConfig,
      Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
      ),
    );
    const bytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config, layers: [layer] }),
    );
    const desc: Descriptor = {
      mediaType: MediaType.ImageManifest,
      digest: digestOfSync(bytes),
      size: bytes.length,
    };
    await r.pushTagged(desc, bytes, tag);
    return { repository: r, desc, bytes, name: `${registry.host}/sig/${name}:${tag}` };
  }

  async function sign(target: ReturnType<typeof repo>, digest: string, identity: string) {
    const payload = makePayload(digest, identity);
    return attachCosignSignature(target, digest, { payload, signature: signPayload(signingKey, payload) });
  }

  function imageOf(img: Awaited<ReturnType<typeof pushImage>>): ImageToVerify {
    return {
      transport: 'docker',
      name: img.name,
      manifestDigest: img.desc.digest,
      manifest: img.bytes,
      signatures: targetSignatureSource(img.repository, img.desc.digest),
    };
  }

  const requirement = (
    keyPath: string,
    extra: Partial<SigstoreSignedRequirement> = {},
  ): SigstoreSignedRequirement => ({
    type: 'sigstoreSigned',
    keyPath,
    ...extra,
  });

  it('stores a signature as cosign does: the .sig tag, a simplesigning layer with the signature annotation', async () => {
    const img = await pushImage('layout');
    const sigDesc = await sign(img.repository, img.desc.digest, img.name);
    const tag = cosignSignatureTag(img.desc.digest);
    expect(tag).toBe(`sha256-${img.desc.digest.slice(7)}.sig`);
    expect((await img.repository.resolve(tag)).digest).toBe(sigDesc.digest);
    const manifest = parseManifest(
      JSON.parse(Buffer.from(await fetchAll(img.repository, sigDesc)).toString()),
    );
    expect(manifest.mediaType).toBe(MediaType.ImageManifest);
    expect(manifest.config.mediaType).toBe(MediaType.ImageConfig);
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]?.mediaType).toBe(SIGSTORE_PAYLOAD_MEDIA_TYPE);
    expect(manifest.layers[0]?.annotations?.[COSIGN_SIGNATURE_ANNOTATION]).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('appends a second signature to the same manifest, and does not repeat one already there', async () => {
    const img = await pushImage('append');
    const payload = makePayload(img.desc.digest, img.name, { timestamp: 1 });
    const first = { payload, signature: signPayload(signingKey, payload) };
    await attachCosignSignature(img.repository, img.desc.digest, first);
    const again = await attachCosignSignature(img.repository, img.desc.digest, first);
    expect(await readCosignSignatures(img.repository, img.desc.digest)).toHaveLength(1);
    await sign(img.repository, img.desc.digest, img.name);
    const read = await readCosignSignatures(img.repository, img.desc.digest);
    expect(read).toHaveLength(2);
    expect(Buffer.from(read[0]?.payload ?? []).equals(payload)).toBe(true);
    expect((await img.repository.resolve(cosignSignatureTag(img.desc.digest))).digest).not.toBe(again.digest);
  });

  it('verifySigstoreSigned accepts the signed image and says why it rejects the others', async () => {
    const signed = await pushImage('signed');
    await sign(signed.repository, signed.desc.digest, signed.name);
    const opts = { dockerReference: signed.name };
    await verifySigstoreSigned(requirement(pubPath), imageOf(signed), opts);
    await verifySigstoreSigned(
      requirement('', { keyPath: undefined, keyPaths: [otherPubPath, pubPath] }),
      imageOf(signed),
      opts,
    );
    await verifySigstoreSigned(
      requirement('', { keyPath: undefined, keyData: readFileSync(pubPath).toString('base64') }),
      imageOf(signed),
      opts,
    );

    const wrongKey = await caught(verifySigstoreSigned(requirement(otherPubPath), imageOf(signed), opts));
    expect(wrongKey.message).toBe('cryptographic signature verification failed');

    const wrongIdentity = await caught(
      verifySigstoreSigned(
        requirement(pubPath, { signedIdentity: { type: 'matchExact' } }),
        imageOf(signed),
        {
          dockerReference: `${registry.host}/sig/elsewhere:v1`,
        },
      ),
    );
    expect(wrongIdentity.message).toMatch(/identity .* is not accepted/);

    const unsigned = await pushImage('unsigned');
    const none = await caught(
      verifySigstoreSigned(requirement(pubPath), imageOf(unsigned), { dockerReference: unsigned.name }),
    );
    expect(isPermissionDenied(none)).toBe(true);
    expect(none.message).toBe('a signature was required, but no signature exists');

    // a valid signature of another image, copied under this image's .sig tag
    const other = await pushImage('copied-sig');
    const payload = makePayload(signed.desc.digest, other.name);
    await attachCosignSignature(other.repository, other.desc.digest, {
      payload,
      signature: signPayload(signingKey, payload),
    });
    const forOther = await caught(
      verifySigstoreSigned(requirement(pubPath), imageOf(other), { dockerReference: other.name }),
    );
    expect(forOther.message).toMatch(/signature for digest sha256:[0-9a-f]+ does not match/);

    const keyless = await caught(
      verifySigstoreSigned(
        { type: 'sigstoreSigned', fulcio: { caPath: '/x', oidcIssuer: 'i', subjectEmail: 'e' } },
        imageOf(signed),
        opts,
      ),
    );
    expect(keyless.message).toMatch(/needs rekorPublicKeyPath or rekorPublicKeyData/);
  });

  it('refuses a payload layer bigger than 1 MiB before reading it', async () => {
    const img = await pushImage('huge');
    const payload = Buffer.alloc((1 << 20) + 1, 0x20);
    await attachCosignSignature(img.repository, img.desc.digest, { payload, signature: 'AAAA' });
    const e = await caught(readCosignSignatures(img.repository, img.desc.digest));
    expect(isInvalidArgument(e)).toBe(true);
    expect(e.message).toMatch(/more than the 1048576 allowed/);
  });

  it('reads a registry that lists 10,000 signature referrers in bounded time, refusing them with a typed error', async () => {
    // distribution 2.8 has no referrers API: a small server answers it (10 pages of 1,000, linked as
    // the spec says), the one thing simulated here; the .sig tag is absent (404).
    const subject = digestOfSync('the signed image');
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v2/') return void res.writeHead(200).end('{}');
      if (url.pathname === `/v2/sig/many/referrers/${subject}`) {
        const page = Number(url.searchParams.get('page') ?? '0');
        const manifests = Array.from({ length: 1000 }, (_, i) => ({
          mediaType: MediaType.ImageManifest,
          digest: digestOfSync(`referrer ${page} ${i}`),
          size: 100,
          artifactType: COSIGN_SIGNATURE_ARTIFACT_TYPE,
        }));
        const headers: Record<string, string> = { 'content-type': MediaType.ImageIndex };
        if (page < 9) headers.link = `</v2/sig/many/referrers/${subject}?page=${page + 1}>; rel="next"`;
        return void res
          .writeHead(200, headers)
          .end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests }));
      }
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const many = openRepository(`127.0.0.1:${port}/sig/many`, { transport });
      const started = performance.now();
      const e = await caught(targetSignatureSource(many, subject).sigstore({}));
      expect(performance.now() - started).toBeLessThan(5000);
      expect(isInvalidArgument(e)).toBe(true);
      expect(e.message).toMatch(`has 10000 signature referrers, more than the ${MAX_SIGNATURES} read`);
      expect((e as { details?: Record<string, unknown> }).details?.reason).toBe('too-many-signatures');
      // no referrer manifest was fetched: the .sig tag, then the 10 listing pages
      expect(requests.filter((u) => u.includes('/manifests/'))).toHaveLength(1);
      expect(requests.filter((u) => u.includes('/referrers/'))).toHaveLength(10);
    } finally {
      server.close();
    }
  });

  it('reads a signature attached as a referrer (cosign --registry-referrers-mode=oci-1-1)', async () => {
    const img = await pushImage('referrer');
    const r = img.repository;
    const payload = makePayload(img.desc.digest, img.name);
    const layer = await pushBytes(r, SIGSTORE_PAYLOAD_MEDIA_TYPE, payload);
    const empty = await pushBytes(r, MediaType.EmptyJSON, Buffer.from('{}'));
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageManifest,
        artifactType: COSIGN_SIGNATURE_ARTIFACT_TYPE,
        config: empty,
        layers: [
          { ...layer, annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signPayload(signingKey, payload) } },
        ],
        subject: img.desc,
      }),
    );
    await r.push(
      { mediaType: MediaType.ImageManifest, digest: digestOfSync(bytes), size: bytes.length },
      bytes,
    );
    await verifySigstoreSigned(requirement(pubPath), imageOf(img), { dockerReference: img.name });
  });
});
