// The signature policy on the local engine's pulls (and the pull a create makes on demand), against
// the real registry: a sigstoreSigned policy accepts the cosign-signed image, refuses an unsigned
// one, one signed by another key and one signed for another name with `policy-rejected`, and the
// store is unchanged after a refusal.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, MemoryStore, openLayout, pushBytes } from '@ocikit/content';
import { Engine } from '@ocikit/engine';
import { isPermissionDenied } from '@ocikit/errors';
import { MediaType } from '@ocikit/image-spec';
import { openRepository, Transport } from '@ocikit/registry';
import {
  attachCosignSignature,
  generateKeyPair,
  makePayload,
  readPrivateKey,
  signPayload,
} from '@ocikit/signature';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDriver } from './driver.ts';
import { checkSignaturePolicy } from './image-policy.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ocikit-local-policy-'));
  dirs.push(d);
  return d;
};

let registry: RunningRegistry;
let image: BuiltImage;
let env: Record<string, string>;
let keys: string;
const names = { signed: '', unsigned: '', otherKey: '', otherName: '' };

async function engineWith(policy: unknown, root = tmp()) {
  const file = join(tmp(), 'policy.json');
  writeFileSync(file, typeof policy === 'string' ? policy : JSON.stringify(policy));
  const driver = localDriver({ registry: { signaturePolicy: file } });
  return { engine: await Engine.connect(driver, `local:${root}`, { env }), root };
}

const sigstorePolicy = () => ({
  default: [{ type: 'reject' }],
  transports: {
    docker: {
      [`${registry.host}/pol`]: [
        {
          type: 'sigstoreSigned',
          keyPath: join(keys, 'cosign.pub'),
          signedIdentity: { type: 'matchRepository' },
        },
      ],
    },
  },
});

async function rejection(p: Promise<unknown>): Promise<Error & { details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { details: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

/** What the store holds: its index entries and blob files. */
function storeContents(root: string): { index: string; blobs: string[] } {
  const content = join(root, 'content');
  let index = '';
  let blobs: string[] = [];
  try {
    index = readFileSync(join(content, 'index.json'), 'utf8');
    blobs = readdirSync(join(content, 'blobs/sha256'));
  } catch {}
  return {
    index: (JSON.parse(index || '{"manifests":[]}') as { manifests: unknown[] }).manifests.length.toString(),
    blobs,
  };
}

beforeAll(async () => {
  registry = await startRegistry();
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  const conf = join(tmp(), 'registries.conf');
  writeFileSync(conf, '');
  env = {
    HOME: tmp(),
    DOCKER_CONFIG: tmp(),
    REGISTRY_AUTH_FILE: join(tmp(), 'none.json'),
    CONTAINERS_REGISTRIES_CONF: conf,
    XDG_RUNTIME_DIR: tmp(),
  };
  keys = tmp();
  const pair = await generateKeyPair({ passphrase: '' });
  const other = await generateKeyPair({ passphrase: '' });
  writeFileSync(join(keys, 'cosign.pub'), pair.publicKeyPem);
  const key = await readPrivateKey(pair.privateKeyPem, { passphrase: '' });
  const otherKey = await readPrivateKey(other.privateKeyPem, { passphrase: '' });
  const transport = new Transport();
  try {
    const layout = await openLayout(image.layout);
    for (const which of Object.keys(names) as (keyof typeof names)[]) {
      // each its own repository: the .sig tag belongs to the manifest digest, per repository
      names[which] = `${registry.host}/pol/${which.toLowerCase()}:1`;
      const repo = openRepository(names[which], { transport });
      const desc = await copy(layout, 'busybox', repo, '1');
      if (which === 'unsigned') continue;
      const identity = which === 'otherName' ? `${registry.host}/elsewhere/app:1` : names[which];
      const payload = makePayload(desc.digest, identity);
      const signature = signPayload(which === 'otherKey' ? otherKey : key, payload);
      await attachCosignSignature(repo, desc.digest, { payload, signature });
    }
  } finally {
    await transport.close();
  }
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the signature policy on pulls', () => {
  it('pulls the image signed with the policy key', async () => {
    const { engine } = await engineWith(sigstorePolicy());
    const pulled = await engine.images.pull(names.signed);
    expect(pulled.digest).toBe(image.manifest);
    expect((await engine.images.list()).flatMap((i) => i.repoTags)).toEqual([names.signed]);
  });

  it('refuses unsigned, other-key and other-identity images with policy-rejected, leaving the store unchanged', async () => {
    const { engine, root } = await engineWith(sigstorePolicy());
    const before = storeContents(root);
    const cases = [
      [names.unsigned, /no signature exists/],
      [names.otherKey, /cryptographic signature verification failed/],
      [names.otherName, /identity .*elsewhere\/app:1.* is not accepted/],
    ] as const;
    for (const [name, why] of cases) {
      const e = await rejection(engine.images.pull(name));
      expect(isPermissionDenied(e), `${name}: ${e}`).toBe(true);
      expect(e.details.reason).toBe('policy-rejected');
      expect(e.details.requirement).toBe('sigstoreSigned');
      expect(e.message).toMatch(/requirement 1 of 1, sigstoreSigned/);
      expect(e.message).toMatch(why);
    }
    expect(storeContents(root)).toEqual(before);
    expect(await engine.images.list()).toEqual([]);
  });

  it('refuses with the reject requirement, accepts with insecureAcceptAnything', async () => {
    const reject = await engineWith({ default: [{ type: 'reject' }] });
    const e = await rejection(reject.engine.images.pull(names.unsigned));
    expect(e.details.reason).toBe('policy-rejected');
    expect(e.details.requirement).toBe('reject');
    const accept = await engineWith({ default: [{ type: 'insecureAcceptAnything' }] });
    expect((await accept.engine.images.pull(names.unsigned)).digest).toBe(image.manifest);
  });

  it('a create that pulls on demand is refused the same way, before anything is stored', async () => {
    const { engine, root } = await engineWith(sigstorePolicy());
    const e = await rejection(engine.containers.create({ image: names.unsigned }));
    expect(e.details.reason).toBe('policy-rejected');
    expect(storeContents(root).blobs).toEqual([]);
  });

  it('a malformed policy file is a bad argument naming the file, and nothing is pulled', async () => {
    const { engine, root } = await engineWith('{"default": [{"type": "signedByX"}]}');
    const e = await rejection(engine.images.pull(names.signed));
    expect(e.details.reason).toBe('bad-argument');
    expect(e.message).toMatch(/policy\.json/);
    expect(storeContents(root).blobs).toEqual([]);
  });
});

describe('keyless requirements (a Fulcio certificate and its Rekor entry)', () => {
  // a real keyless cosign signature and its image manifest (containers/image's fixtures, kept by @ocikit/signature)
  const fixtures = new URL('../../../signature/test/fixtures/', import.meta.url);
  const fixture = (name: string) => new URL(name, fixtures).pathname;
  const NAME = '192.168.64.2:5000/cosign-signed/fulcio-rekor-1';

  async function keylessImage() {
    const store = new MemoryStore();
    const manifest = readFileSync(
      fixture('containers-image/dir-img-cosign-fulcio-rekor-valid_manifest.json'),
    );
    const desc = await pushBytes(store, MediaType.ImageManifest, manifest);
    await store.tag(desc, 'v1');
    const doc = JSON.parse(
      readFileSync(fixture('containers-image/dir-img-cosign-fulcio-rekor-valid_signature-1.sig'))
        .subarray(15)
        .toString(),
    ) as { payload: string; annotations: Record<string, string> };
    const a = doc.annotations;
    await attachCosignSignature(store, desc.digest, {
      payload: Buffer.from(doc.payload, 'base64'),
      signature: a['dev.cosignproject.cosign/signature'] ?? '',
      certificate: a['dev.sigstore.cosign/certificate'],
      chain: a['dev.sigstore.cosign/chain'],
      bundle: a['dev.sigstore.cosign/bundle'],
    });
    return { store, desc };
  }

  it('accepts it with the policy CA, Rekor key and the trusted root for its SCTs; refuses it without the root', async () => {
    const policy = join(tmp(), 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        default: [
          {
            type: 'sigstoreSigned',
            fulcio: {
              caPath: fixture('containers-image/fulcio_v1.crt.pem'),
              oidcIssuer: 'https://github.com/login/oauth',
              subjectEmail: 'mitr@redhat.com',
            },
            rekorPublicKeyPath: fixture('containers-image/rekor.pub'),
            signedIdentity: { type: 'matchRepository' },
          },
        ],
      }),
    );
    const { store, desc } = await keylessImage();
    const source = { target: store, ref: 'v1', name: `${NAME}:v1` };
    const checked = await checkSignaturePolicy(
      {
        signaturePolicy: policy,
        sigstoreTrustedRoot: fixture('sigstore-public-good-trusted_root.json'),
        env,
      },
      source,
    );
    expect(checked?.digest).toBe(desc.digest);
    const e = await rejection(checkSignaturePolicy({ signaturePolicy: policy, env }, source));
    expect(e.details.reason).toBe('policy-rejected');
    expect(e.message).toMatch(/SCTs cannot be checked/);
  });
});
