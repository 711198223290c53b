import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { isFailedPrecondition, isInvalidArgument, isPermissionDenied } from '@ocikit/errors';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePayload, PayloadType } from './payload.ts';
import type { Keyring } from './simple-signing.ts';
import {
  loadSignedByKeyring,
  MAX_SIGNATURE_SIZE,
  readKeyring,
  signSimpleSigning,
  verifySimpleSignature,
} from './simple-signing.ts';

const manifest = new TextEncoder().encode('{"schemaVersion":2}');
const name = 'registry.example/app:1';

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('simple signing: sign, verify, and refuse bad input with typed errors', () => {
  let key: { privateKey: string; publicKey: string };
  let keyring: Keyring;
  let dir: string;
  const rules = { manifest, dockerReference: 'registry.example/app:1' };
  beforeAll(async () => {
    key = await openpgp.generateKey({ userIDs: [{ email: 'a@example.com' }], format: 'armored' });
    keyring = await readKeyring(new TextEncoder().encode(key.publicKey));
    dir = mkdtempSync(join(tmpdir(), 'ocikit-simple-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round trip: the payload, the digest and the signer come back', async () => {
    const blob = await signSimpleSigning(manifest, name, {
      privateKey: key.privateKey,
      timestamp: 1700000000,
      creator: 'test',
    });
    const v = await verifySimpleSignature(blob, keyring, rules);
    expect(v.payload).toMatchObject({
      dockerReference: name,
      creator: 'test',
      timestamp: 1700000000,
      type: PayloadType.SimpleSigning,
    });
    expect(v.keyFingerprint).toBe(keyring.fingerprints[0]);
  });

  it('keyrings: armored (several blocks), binary, keyPaths, keyData', async () => {
    const other = await openpgp.generateKey({ userIDs: [{ email: 'b@example.com' }], format: 'binary' });
    const armoredTwo = new TextEncoder().encode(
      `${key.publicKey}\n${await openpgp.armor(openpgp.enums.armor.publicKey, other.publicKey)}`,
    );
    expect((await readKeyring(armoredTwo)).fingerprints).toHaveLength(2);
    writeFileSync(join(dir, 'a.asc'), key.publicKey);
    writeFileSync(join(dir, 'b.gpg'), other.publicKey);
    const both = await loadSignedByKeyring({
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyPaths: [join(dir, 'a.asc'), join(dir, 'b.gpg')],
    });
    expect(both.fingerprints).toHaveLength(2);
    const data = await loadSignedByKeyring({
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyData: Buffer.from(other.publicKey).toString('base64'),
    });
    expect(data.fingerprints).toEqual([both.fingerprints[1]]);
  });

  it('bad armor and garbage keyrings are InvalidArgumentErrors naming the source', async () => {
    const badArmor = key.publicKey.replace(/\n([A-Za-z0-9+/]{10})/, '\n@@@@@@@@@@');
    const e1 = await errorOf(readKeyring(new TextEncoder().encode(badArmor), '/etc/pki/key.asc'));
    expect(isInvalidArgument(e1)).toBe(true);
    expect(e1.message).toMatch(/^cannot read GPG keyring \/etc\/pki\/key.asc: /);
    const e2 = await errorOf(readKeyring(new TextEncoder().encode('-----BEGIN SOMETHING-----\nxx\n'), 'k'));
    expect(e2.message).toMatch(/neither a binary keyring nor an armored key block/);
    expect(isInvalidArgument(await errorOf(readKeyring(new Uint8Array([0x99, 1, 2, 3]), 'k')))).toBe(true);
    const missing = await errorOf(
      loadSignedByKeyring({ type: 'signedBy', keyType: 'GPGKeys', keyPath: join(dir, 'nope.gpg') }),
    );
    expect(missing.message).toMatch(/nope.gpg: ENOENT/);
  });

  it('huge, empty, armored, truncated and garbage signatures are InvalidArgumentErrors', async () => {
    const blob = await signSimpleSigning(manifest, name, { privateKey: key.privateKey });
    const huge = new Uint8Array(MAX_SIGNATURE_SIZE + 1);
    huge[0] = 0xc4;
    for (const [what, bad] of [
      ['huge', huge],
      ['empty', new Uint8Array()],
      ['armored', new TextEncoder().encode('-----BEGIN PGP MESSAGE-----\n')],
      ['truncated', blob.subarray(0, blob.length - 20)],
      ['garbage', new Uint8Array([0xc4, 0xff, 0xff, 0xff, 0xff, 0x00])],
    ] as const) {
      const e = await errorOf(verifySimpleSignature(bad, keyring, rules));
      expect(isInvalidArgument(e), `${what}: ${e.message}`).toBe(true);
    }
  });

  it('a compressed signature that would expand past 1 MiB (a zip bomb) is refused without expanding it', async () => {
    const priv = await openpgp.readPrivateKey({ armoredKey: key.privateKey });
    const signed = await openpgp.sign({
      message: await openpgp.createMessage({ binary: new Uint8Array(20 << 20) }),
      signingKeys: priv,
      format: 'binary',
    });
    const body = Buffer.concat([Buffer.from([2]), deflateSync(signed)]); // algorithm 2: zlib
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const bomb = new Uint8Array(Buffer.concat([Buffer.from([0xc8, 0xff]), len, body])); // compressed data packet
    expect(bomb.byteLength).toBeLessThan(64 << 10);
    const e = await errorOf(verifySimpleSignature(bomb, keyring, rules));
    expect(isInvalidArgument(e)).toBe(true);
    expect(e.message).toMatch(/Maximum decompressed message size exceeded/);
  });

  it('accepts the \\0simple-signing\\n framing containers/image uses in dir: layouts; refuses other formats', async () => {
    const blob = await signSimpleSigning(manifest, name, { privateKey: key.privateKey });
    const framed = Buffer.concat([Buffer.from('\0simple-signing\n'), blob]);
    await expect(verifySimpleSignature(framed, keyring, rules)).resolves.toBeDefined();
    const sigstore = Buffer.concat([Buffer.from('\0sigstore-json\n'), Buffer.from('{}')]);
    expect((await errorOf(verifySimpleSignature(sigstore, keyring, rules))).message).toMatch(
      /another signature format/,
    );
    expect(
      (await errorOf(verifySimpleSignature(new Uint8Array([0x99, 1, 2]), keyring, rules))).message,
    ).toMatch(/unrecognized signature format, starting with byte 0x99/);
  });

  it('another digest, another identity, an unknown key: PermissionDenied (not accepted), saying which', async () => {
    const otherDigest = await signSimpleSigning(new TextEncoder().encode('{}'), name, {
      privateKey: key.privateKey,
    });
    const e1 = await errorOf(verifySimpleSignature(otherDigest, keyring, rules));
    expect(isPermissionDenied(e1)).toBe(true);
    expect(e1.message).toMatch(/signature for digest sha256:[0-9a-f]{64} does not match/);
    const otherName = await signSimpleSigning(manifest, 'registry.example/app:2', {
      privateKey: key.privateKey,
    });
    expect((await errorOf(verifySimpleSignature(otherName, keyring, rules))).message).toMatch(
      /identity "registry.example\/app:2" is not accepted/,
    );
    const stranger = await openpgp.generateKey({ userIDs: [{ email: 'c@example.com' }], format: 'armored' });
    const byStranger = await signSimpleSigning(manifest, name, { privateKey: stranger.privateKey });
    expect((await errorOf(verifySimpleSignature(byStranger, keyring, rules))).message).toMatch(
      /not accepted \(not in the keyring\)/,
    );
  });

  it('a valid signature over a payload of the wrong type or shape is refused', async () => {
    const priv = await openpgp.readPrivateKey({ armoredKey: key.privateKey });
    const signRaw = async (payload: Uint8Array) =>
      openpgp.sign({
        message: await openpgp.createMessage({ binary: payload }),
        signingKeys: priv,
        format: 'binary',
      });
    const cosignType = makePayload(`sha256:${'0'.repeat(64)}`, name, { type: PayloadType.Sigstore });
    expect(
      isInvalidArgument(await errorOf(verifySimpleSignature(await signRaw(cosignType), keyring, rules))),
    ).toBe(true);
    const dup = new TextEncoder().encode(
      '{"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":"sha256:00"},"identity":{"docker-reference":"a"},"identity":{"docker-reference":"b"}},"optional":{}}',
    );
    expect((await errorOf(verifySimpleSignature(await signRaw(dup), keyring, rules))).message).toMatch(
      /duplicate key/,
    );
  });

  it('signing: a protected key needs its passphrase; passphrases with a line break are refused', async () => {
    const locked = await openpgp.generateKey({
      userIDs: [{ email: 'd@example.com' }],
      passphrase: 'secret words',
      format: 'armored',
    });
    expect(
      isFailedPrecondition(
        await errorOf(signSimpleSigning(manifest, name, { privateKey: locked.privateKey })),
      ),
    ).toBe(true);
    const wrong = await errorOf(
      signSimpleSigning(manifest, name, { privateKey: locked.privateKey, passphrase: 'nope' }),
    );
    expect(isFailedPrecondition(wrong)).toBe(true);
    expect(wrong.message).not.toContain('nope');
    const blob = await signSimpleSigning(manifest, name, {
      privateKey: locked.privateKey,
      passphrase: 'secret words',
    });
    const ring = await readKeyring(new TextEncoder().encode(locked.publicKey));
    await expect(verifySimpleSignature(blob, ring, rules)).resolves.toBeDefined();
    expect(
      isInvalidArgument(
        await errorOf(
          signSimpleSigning(manifest, name, { privateKey: locked.privateKey, passphrase: 'a\nb' }),
        ),
      ),
    ).toBe(true);
    expect(
      isInvalidArgument(await errorOf(signSimpleSigning(manifest, name, { privateKey: 'not a key' }))),
    ).toBe(true);
  });
});

describe("containers/image's gpg-made fixtures", () => {
  const fx = (f: string) =>
    readFileSync(join(import.meta.dirname, '../../test/fixtures/containers-image', f));
  const rules = {
    manifest: new Uint8Array(fx('image.manifest.json')),
    dockerReference: 'testing/manifest:latest',
  };
  const verify = async (f: string) =>
    verifySimpleSignature(fx(f), await readKeyring(fx('public-key.gpg'), 'public-key.gpg'), rules);

  it('reads the gpg keyring; refuses its RSA-1024 key as too weak (stricter than gpg 2.2, decision 170)', async () => {
    expect((await readKeyring(fx('public-key.gpg'))).fingerprints).toEqual([
      '1D8230F6CDB6A06716E414C1DB72F2188BB46CC8',
    ]);
    const e = await errorOf(verify('image.signature'));
    expect(isPermissionDenied(e)).toBe(true);
    expect(e.message).toMatch(/RSA keys shorter than 2047 bits are considered too weak/);
  });
  it('expired, corrupt, unknown-key signatures are refused saying why', async () => {
    expect((await errorOf(verify('expired.signature'))).message).toMatch(/expired/);
    expect(isInvalidArgument(await errorOf(verify('corrupt.signature')))).toBe(true);
    expect((await errorOf(verify('unknown-key.signature'))).message).toMatch(
      /signature by key BB75E91990DF8F7E is not accepted/,
    );
  });
});
