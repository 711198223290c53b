// The cosign encrypted key format checked against an independent implementation: libsodium's
// secretbox (Debian's python3-nacl) and Python's scrypt, both ways — Debian's skopeo and podman
// cannot sign (sigstore is patched out), so they cannot read our keys for us.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePem, generateKeyPair, parsePublicKey, readPrivateKey } from './keys.ts';

// Debian's interpreter, where python3-nacl is installed (a pyenv one may shadow it on PATH)
const PYTHON = '/usr/bin/python3';

const DECRYPT = `
import base64, hashlib, json, sys
from nacl.secret import SecretBox
doc = json.loads(sys.stdin.read())
p = doc["kdf"]["params"]
key = hashlib.scrypt(sys.argv[1].encode(), salt=base64.b64decode(doc["kdf"]["salt"]), n=p["N"], r=p["r"], p=p["p"], maxmem=64 << 20, dklen=32)
plain = SecretBox(key).decrypt(base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"]))
sys.stdout.write(base64.b64encode(plain).decode())
`;

const ENCRYPT = `
import base64, hashlib, json, os, sys
from nacl.secret import SecretBox
plain = base64.b64decode(sys.stdin.read())
salt, nonce = os.urandom(32), os.urandom(24)
key = hashlib.scrypt(sys.argv[1].encode(), salt=salt, n=65536, r=8, p=1, maxmem=128 << 20, dklen=32)
box = SecretBox(key).encrypt(plain, nonce).ciphertext
print(json.dumps({"kdf": {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
  "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()}, "ciphertext": base64.b64encode(box).decode()}))
`;

describe('cosign encrypted keys and libsodium', () => {
  it('libsodium decrypts the key ocikit writes into the PKCS#8 private half of its public key', async () => {
    const pair = await generateKeyPair({ passphrase: 'pässword' });
    const body = decodePem(pair.privateKeyPem, 'key').bytes.toString('utf8');
    const der = execFileSync(PYTHON, ['-c', DECRYPT, 'pässword'], { input: body, encoding: 'utf8' });
    const key = createPrivateKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'pkcs8' });
    const sig = sign('sha256', Buffer.from('x'), key);
    expect(verify('sha256', Buffer.from('x'), parsePublicKey(pair.publicKeyPem), sig)).toBe(true);
  });

  it('ocikit reads a key libsodium encrypted (cosign 2 parameters, the SIGSTORE PEM type)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    const json = execFileSync(PYTHON, ['-c', ENCRYPT, 'secret'], { input: pkcs8, encoding: 'utf8' });
    const pem = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(json.trim()).toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    const read = await readPrivateKey(pem, { passphrase: 'secret' });
    const sig = sign('sha256', Buffer.from('y'), read);
    expect(verify('sha256', Buffer.from('y'), publicKey, sig)).toBe(true);
    await expect(readPrivateKey(pem, { passphrase: 'other' })).rejects.toThrow(/decryption failed/);
  });
});
