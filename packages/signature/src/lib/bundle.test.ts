// Rekor and Fulcio, offline, with @sigstore/verify: signatures real cosign made against the public
// Sigstore instance (containers/image's fixtures: one keyless, Fulcio certificate + Rekor SET, one
// with a key + Rekor SET), checked as `sigstoreSigned` requirements with the Fulcio CA and Rekor key
// files those tests use, and the public instance's trusted root (from @sigstore/tuf's seeds) for the
// certificate's SCTs.
import { readFileSync } from 'node:fs';
import { MemoryStore, pushBytes } from '@ocikit/content';
import { isInvalidArgument, isPermissionDenied } from '@ocikit/errors';
import { MediaType } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { attachCosignSignature, readCosignSignatures } from './cosign.ts';
import { verifySigstoreSigned } from './sigstore-verify.ts';
import { targetSignatureSource } from './sources.ts';
import type { ImageToVerify, SigstoreSignature, SigstoreSignedRequirement } from './types.ts';

const dir = new URL('../../test/fixtures/containers-image/', import.meta.url);
const path = (name: string) => new URL(name, dir).pathname;
const trustedRoot = JSON.parse(
  readFileSync(
    new URL('../../test/fixtures/sigstore-public-good-trusted_root.json', import.meta.url),
    'utf8',
  ),
) as unknown;

/** A containers/image `dir:` sigstore signature file, with every annotation. */
function signature(name: string): SigstoreSignature {
  const doc = JSON.parse(readFileSync(path(name)).subarray(15).toString()) as {
    payload: string;
    annotations: Record<string, string>;
  };
  const a = doc.annotations;
  return {
    payload: Buffer.from(doc.payload, 'base64'),
    signature: a['dev.cosignproject.cosign/signature'] ?? '',
    ...(a['dev.sigstore.cosign/certificate'] ? { certificate: a['dev.sigstore.cosign/certificate'] } : {}),
    ...(a['dev.sigstore.cosign/chain'] ? { chain: a['dev.sigstore.cosign/chain'] } : {}),
    ...(a['dev.sigstore.cosign/bundle'] ? { bundle: JSON.parse(a['dev.sigstore.cosign/bundle']) } : {}),
  };
}

function image(fixture: string, name: string, sig: SigstoreSignature): ImageToVerify {
  return {
    transport: 'docker',
    name,
    manifestDigest: '',
    manifest: readFileSync(path(`${fixture}_manifest.json`)),
    signatures: { sigstore: async () => [sig], simpleSigning: async () => [] },
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const KEYLESS = 'dir-img-cosign-fulcio-rekor-valid';
const KEYLESS_NAME = '192.168.64.2:5000/cosign-signed/fulcio-rekor-1';
const keyless = signature(`${KEYLESS}_signature-1.sig`);
const fulcio = (extra: Partial<NonNullable<SigstoreSignedRequirement['fulcio']>> = {}) => ({
  type: 'sigstoreSigned' as const,
  fulcio: {
    caPath: path('fulcio_v1.crt.pem'),
    oidcIssuer: 'https://github.com/login/oauth',
    subjectEmail: 'mitr@redhat.com',
    ...extra,
  },
  rekorPublicKeyPath: path('rekor.pub'),
  signedIdentity: { type: 'matchRepository' as const },
});

describe('keyless: a Fulcio certificate and its Rekor entry', () => {
  const opts = { dockerReference: KEYLESS_NAME, trustedRoot };

  it('accepts the signature cosign made for mitr@redhat.com through GitHub', async () => {
    await verifySigstoreSigned(fulcio(), image(KEYLESS, KEYLESS_NAME, keyless), opts);
  });

  it('refuses another e-mail, another issuer, another image name', async () => {
    const email = await rejection(
      verifySigstoreSigned(
        fulcio({ subjectEmail: 'someone@example.com' }),
        image(KEYLESS, KEYLESS_NAME, keyless),
        opts,
      ),
    );
    expect(email.message).toMatch(
      /certificate identity error - expected someone@example.com, got mitr@redhat.com/,
    );
    const issuer = await rejection(
      verifySigstoreSigned(
        fulcio({ oidcIssuer: 'https://accounts.google.com' }),
        image(KEYLESS, KEYLESS_NAME, keyless),
        opts,
      ),
    );
    expect(issuer.message).toMatch(
      /invalid certificate extension - expected issuer=https:\/\/accounts.google.com/,
    );
    const other = await rejection(
      verifySigstoreSigned(fulcio(), image(KEYLESS, 'example.com/other:1', keyless), {
        ...opts,
        dockerReference: 'example.com/other:1',
      }),
    );
    expect(other.message).toMatch(/identity .* is not accepted/);
  });

  it('refuses a signature without its SET or certificate, a tampered SET, payload or signature', async () => {
    const cases: [SigstoreSignature, RegExp][] = [
      [{ ...keyless, bundle: undefined }, /no Rekor bundle/],
      [{ ...keyless, certificate: undefined }, /no certificate/],
      [
        { ...keyless, bundle: { ...(keyless.bundle as object), SignedEntryTimestamp: 'MEUCIQ==' } },
        /sigstore verification failed/,
      ],
      [
        {
          ...keyless,
          payload: Buffer.from(
            Buffer.from(keyless.payload).toString().replace('fulcio-rekor-1', 'fulcio-rekor-2'),
          ),
        },
        /sigstore verification failed/,
      ],
      [
        { ...keyless, signature: keyless.signature.replace(/^.{8}/, 'MEUCIQCA') },
        /sigstore verification failed/,
      ],
    ];
    for (const [sig, why] of cases) {
      const e = await rejection(verifySigstoreSigned(fulcio(), image(KEYLESS, KEYLESS_NAME, sig), opts));
      expect(isPermissionDenied(e), String(e)).toBe(true);
      expect(e.message).toMatch(why);
    }
  });

  it('refuses a certificate whose CA is not the policy one, and SCTs nobody can check', async () => {
    const wrongCa = await rejection(
      verifySigstoreSigned(
        fulcio({
          caPath: undefined,
          caData: Buffer.from(readFileSync(path('cosign.pub'))).toString('base64'),
        }),
        image(KEYLESS, KEYLESS_NAME, keyless),
        opts,
      ),
    );
    expect(wrongCa.message).toMatch(/no PEM certificate found/);
    const noRoot = await rejection(
      verifySigstoreSigned(fulcio(), image(KEYLESS, KEYLESS_NAME, keyless), {
        dockerReference: KEYLESS_NAME,
      }),
    );
    expect(noRoot.message).toMatch(/SCTs cannot be checked: give a sigstore trusted root/);
  });

  it('needs a Rekor key: a Fulcio requirement without one is a bad policy', async () => {
    const { rekorPublicKeyPath: _, ...noRekor } = fulcio();
    const e = await rejection(verifySigstoreSigned(noRekor, image(KEYLESS, KEYLESS_NAME, keyless), opts));
    expect(isInvalidArgument(e)).toBe(true);
  });
});

describe('a key and its Rekor entry', () => {
  const FIXTURE = 'dir-img-cosign-key-rekor-valid';
  const NAME = '192.168.64.2:5000/cosign-signed/key-1';
  const sig = signature(`${FIXTURE}_signature-1.sig`);
  const req = (rekor = 'rekor.pub', keys = ['cosign2.pub']): SigstoreSignedRequirement => ({
    type: 'sigstoreSigned',
    keyPaths: keys.map(path),
    rekorPublicKeyPath: path(rekor),
    signedIdentity: { type: 'matchRepository' },
  });
  const opts = { dockerReference: NAME };

  it('accepts it with the key and the Rekor key, whichever of the keys signed', async () => {
    await verifySigstoreSigned(req(), image(FIXTURE, NAME, sig), opts);
    await verifySigstoreSigned(
      req('rekor.pub', ['cosign.pub', 'cosign2.pub']),
      image(FIXTURE, NAME, sig),
      opts,
    );
  });

  it('refuses it without its SET, with a SET Rekor did not sign, and with another Rekor key', async () => {
    const noSet = await rejection(
      verifySigstoreSigned(req(), image(FIXTURE, NAME, { ...sig, bundle: undefined }), opts),
    );
    expect(noSet.message).toMatch(/no Rekor bundle/);
    const set = sig.bundle as { SignedEntryTimestamp: string; Payload: { integratedTime: number } };
    const moved = { ...set, Payload: { ...set.Payload, integratedTime: set.Payload.integratedTime + 1 } };
    const tampered = await rejection(
      verifySigstoreSigned(req(), image(FIXTURE, NAME, { ...sig, bundle: moved }), opts),
    );
    expect(tampered.message).toMatch(/sigstore verification failed/);
    const otherRekor = await rejection(
      verifySigstoreSigned(req('cosign.pub'), image(FIXTURE, NAME, sig), opts),
    );
    expect(otherRekor.message).toMatch(/sigstore verification failed/);
  });

  it('still needs the signature to verify with the key', async () => {
    const e = await rejection(
      verifySigstoreSigned(req('rekor.pub', ['cosign.pub']), image(FIXTURE, NAME, sig), opts),
    );
    expect(e.message).toBe('cryptographic signature verification failed');
  });
});

describe('stored and read back', () => {
  it('keeps the certificate, chain and Rekor bundle, so a keyless signature still verifies after it travels', async () => {
    const store = new MemoryStore();
    const manifest = readFileSync(path(`${KEYLESS}_manifest.json`));
    const desc = await pushBytes(store, MediaType.ImageManifest, manifest);
    await attachCosignSignature(store, desc.digest, keyless);
    const [read] = await readCosignSignatures(store, desc.digest);
    expect(read?.certificate).toBe(keyless.certificate);
    expect(read?.chain).toBe(keyless.chain);
    expect(read?.bundle).toEqual(keyless.bundle);
    const img = {
      ...image(KEYLESS, KEYLESS_NAME, keyless),
      signatures: targetSignatureSource(store, desc.digest),
    };
    await verifySigstoreSigned(fulcio(), img, { dockerReference: KEYLESS_NAME, trustedRoot });
  });
});
