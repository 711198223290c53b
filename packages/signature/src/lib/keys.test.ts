import { createPublicKey, sign, verify } from 'node:crypto';
import { isInvalidArgument, isPermissionDenied } from '@ocikit/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodePem,
  generateKeyPair,
  parsePublicKey,
  passphraseFromFile,
  readPrivateKey,
  type SigstoreKeyPair,
} from './keys.ts';

let pair: SigstoreKeyPair;
beforeAll(async () => {
  pair = await generateKeyPair({ passphrase: 'hunter2' });
});

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

function rewrap(mutate: (doc: Record<string, Record<string, unknown>>) => void): string {
  const block = decodePem(pair.privateKeyPem, 'k');
  const doc = JSON.parse(block.bytes.toString()) as Record<string, Record<string, unknown>>;
  mutate(doc);
  const b64 = Buffer.from(JSON.stringify(doc)).toString('base64');
  return `-----BEGIN ${block.type}-----\n${b64}\n-----END ${block.type}-----\n`;
}

describe('generateKeyPair', () => {
  it("writes cosign's formats: an encrypted COSIGN PEM (skopeo 1.9 reads no other) of scrypt + nacl/secretbox JSON, and a PKIX public key", () => {
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const doc = JSON.parse(decodePem(pair.privateKeyPem, 'k').bytes.toString());
    expect(Object.keys(doc)).toEqual(['kdf', 'cipher', 'ciphertext']);
    expect(doc.kdf.name).toBe('scrypt');
    expect(doc.kdf.params).toEqual({ N: 32768, r: 8, p: 1 });
    expect(Buffer.from(doc.kdf.salt, 'base64')).toHaveLength(32);
    expect(doc.cipher.name).toBe('nacl/secretbox');
    expect(Buffer.from(doc.cipher.nonce, 'base64')).toHaveLength(24);
    const pub = createPublicKey(pair.publicKeyPem);
    expect(pub.asymmetricKeyType).toBe('ec');
    expect(pub.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('reads back with the passphrase into the private half of the public key', async () => {
    const key = await readPrivateKey(pair.privateKeyPem, { passphrase: 'hunter2' });
    const data = Buffer.from('payload');
    const sig = sign('sha256', data, key);
    expect(verify('sha256', data, parsePublicKey(pair.publicKeyPem), sig)).toBe(true);
  });

  it('accepts an empty passphrase, as cosign does', async () => {
    const p = await generateKeyPair({ passphrase: '' });
    const key = await readPrivateKey(Buffer.from(p.privateKeyPem), { passphrase: new Uint8Array() });
    expect(key.asymmetricKeyType).toBe('ec');
  });

  it('reads the SIGSTORE PEM type cosign 2 writes', async () => {
    const block = decodePem(pair.privateKeyPem, 'k');
    const pem = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${block.bytes.toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    const key = await readPrivateKey(pem, { passphrase: 'hunter2' });
    expect(key.asymmetricKeyType).toBe('ec');
  });
});

describe('readPrivateKey', () => {
  it('refuses a wrong passphrase with PermissionDenied', async () => {
    const e = await caught(readPrivateKey(pair.privateKeyPem, { passphrase: 'wrong' }));
    expect(isPermissionDenied(e), String(e)).toBe(true);
    expect(String(e)).toMatch(/decryption failed/);
  });

  it('refuses a tampered ciphertext', async () => {
    const pem = rewrap((doc) => {
      const c = Buffer.from(doc.ciphertext as unknown as string, 'base64');
      c[c.length - 1] = (c[c.length - 1] ?? 0) ^ 1;
      (doc as Record<string, unknown>).ciphertext = c.toString('base64');
    });
    expect(isPermissionDenied(await caught(readPrivateKey(pem, { passphrase: 'hunter2' })))).toBe(true);
  });

  it('refuses scrypt parameters go-securesystemslib does not accept (a DoS guard)', async () => {
    const pem = rewrap((doc) => {
      (doc.kdf as Record<string, unknown>).params = { N: 1 << 24, r: 8, p: 1 };
    });
    const e = await caught(readPrivateKey(pem, { passphrase: 'hunter2' }));
    expect(isInvalidArgument(e)).toBe(true);
    expect(String(e)).toMatch(/unsupported scrypt parameters/);
  });

  it('refuses an unknown cipher, a bad nonce, a PEM of another type, and no PEM at all', async () => {
    const e1 = await caught(
      readPrivateKey(
        rewrap((doc) => {
          (doc.cipher as Record<string, unknown>).name = 'aes';
        }),
        { passphrase: 'hunter2' },
      ),
    );
    expect(String(e1)).toMatch(/unknown cipher name "aes"/);
    const e2 = await caught(
      readPrivateKey(
        rewrap((doc) => {
          (doc.cipher as Record<string, unknown>).nonce = 'AAAA';
        }),
        { passphrase: 'hunter2' },
      ),
    );
    expect(String(e2)).toMatch(/incorrect nonce size/);
    const e3 = await caught(readPrivateKey(pair.publicKeyPem, { passphrase: 'x' }));
    expect(isInvalidArgument(e3)).toBe(true);
    expect(String(e3)).toMatch(/unsupported PEM type "PUBLIC KEY"/);
    const e4 = await caught(readPrivateKey('not a key', { passphrase: 'x' }));
    expect(String(e4)).toMatch(/no PEM block/);
  });

  it('stops when its signal has fired', async () => {
    const e = await caught(
      readPrivateKey(pair.privateKeyPem, { passphrase: 'x', signal: AbortSignal.abort() }),
    );
    expect(String(e)).toMatch(/aborted/);
  });
});

describe('parsePublicKey', () => {
  it('refuses a truncated or wrong-type PEM with InvalidArgument', () => {
    const lines = pair.publicKeyPem.split('\n');
    const truncated = [lines[0], lines[1]?.slice(0, 20), lines.at(-2)].join('\n');
    expect(() => parsePublicKey(truncated)).toThrow(/not a valid PKIX public key|not base64/);
    expect(() => parsePublicKey(pair.privateKeyPem)).toThrow(/want "PUBLIC KEY"/);
    expect(() => parsePublicKey('x'.repeat(70000))).toThrow(/more than/);
  });
});

describe('passphraseFromFile', () => {
  it("takes the first line without its line ending, as skopeo's --sign-passphrase-file", () => {
    expect(passphraseFromFile(Buffer.from('secret\r\nsecond\n'))).toBe('secret');
    expect(passphraseFromFile(Buffer.from('secret'))).toBe('secret');
    expect(passphraseFromFile(Buffer.from(''))).toBe('');
  });
});
