import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { digestOfSync } from '@ocikit/digest';
import { isFailedPrecondition, isInvalidArgument, isNotFound, isPermissionDenied } from '@ocikit/errors';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from './cosign.ts';
import { makePayload, PayloadType } from './payload.ts';
import { dockerNamespaces, evaluatePolicy, loadPolicy, policyIdentity, requirementsFor } from './policy.ts';
import { parsePolicy } from './policy-parse.ts';
import { signSimpleSigning } from './simple-signing.ts';
import type { ImageToVerify, Policy, PolicyTransport } from './types.ts';

const fixtures = join(import.meta.dirname, '../../test/fixtures/policy');

function caught(f: () => unknown): Error & { details?: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

async function rejection(p: Promise<unknown>): Promise<Error & { details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { details: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

const manifest = new TextEncoder().encode(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}',
);

function image(transport: PolicyTransport, name: string, sigs: Uint8Array[] = []): ImageToVerify {
  return {
    transport,
    name,
    manifestDigest: digestOfSync(manifest),
    manifest,
    signatures: { sigstore: async () => [], simpleSigning: async () => sigs },
  };
}

describe('parsePolicy: bad input is refused with the file and the JSON path', () => {
  const file = '/etc/x/policy.json';
  it('malformed JSON: line and column', () => {
    const e = caught(() =>
      parsePolicy('{\n  "default": [{"type": "reject"}],\n  "transports": {,}\n}', { path: file }),
    );
    expect(isInvalidArgument(e)).toBe(true);
    expect(e.message).toMatch(
      /^invalid policy in \/etc\/x\/policy.json: malformed JSON: .* at line 3, column 18/,
    );
    expect(e.details?.file).toBe(file);
  });
  it('truncated JSON', () => {
    expect(caught(() => parsePolicy('{"default": [{"type": "rej', { path: file })).message).toMatch(
      /malformed JSON: unterminated string/,
    );
  });
  it('an unknown requirement type is refused, never ignored', () => {
    const e = caught(() =>
      parsePolicy(
        '{"default":[{"type":"reject"}],"transports":{"docker":{"localhost:5000/app":[{"type":"insecureAcceptAnything"},{"type":"signedByMagic"}]}}}',
        { path: file },
      ),
    );
    expect(e.message).toBe(
      `invalid policy in ${file} at transports.docker["localhost:5000/app"][1].type: unknown policy requirement type "signedByMagic"`,
    );
    expect(e.details?.jsonPath).toBe('transports.docker["localhost:5000/app"][1].type');
  });
  it('unknown fields, missing keyType, duplicate keys, empty lists, missing default', () => {
    expect(caught(() => parsePolicy('{"default":[{"type":"reject","x":1}]}')).message).toBe(
      'invalid policy at default[0]: unknown field "x"',
    );
    expect(caught(() => parsePolicy('{"default":[{"type":"signedBy","keyPath":"/k"}]}')).message).toMatch(
      /at default\[0\]\.keyType: missing keyType/,
    );
    expect(
      caught(() =>
        parsePolicy('{"default":[{"type":"signedBy","keyType":"X509Certificates","keyPath":"/k"}]}'),
      ).message,
    ).toMatch(/not implemented/);
    expect(caught(() => parsePolicy('{"default":[{"type":"reject"}],"default":[]}')).message).toMatch(
      /duplicate key "default"/,
    );
    expect(caught(() => parsePolicy('{"default":[]}')).message).toMatch(
      /at default: list of verification policy requirements must not be empty/,
    );
    expect(caught(() => parsePolicy('{"transports":{}}')).message).toMatch(/default policy is missing/);
    expect(caught(() => parsePolicy('{"default":[{"type":"reject"}],"transport":{}}')).message).toMatch(
      /unknown field "transport"/,
    );
    expect(caught(() => parsePolicy('[]')).message).toMatch(/expected a JSON object, got an array/);
  });
  it('key sources: exactly one; keyData must be base64', () => {
    const sb = (fields: string) => `{"default":[{"type":"signedBy","keyType":"GPGKeys"${fields}}]}`;
    expect(caught(() => parsePolicy(sb(''))).message).toMatch(/none of them present/);
    expect(caught(() => parsePolicy(sb(',"keyPath":"/a","keyData":"AAAA"'))).message).toMatch(
      /more than one present/,
    );
    expect(caught(() => parsePolicy(sb(',"keyData":"not base64!"'))).message).toMatch(
      /default\[0\]\.keyData: not valid base64/,
    );
    expect(caught(() => parsePolicy(sb(',"keyPaths":["/a",2]'))).message).toMatch(
      /keyPaths\[1\]: expected a string, got number 2/,
    );
    expect(parsePolicy(sb(',"keyPaths":["/a","/b"]')).default[0]).toEqual({
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyPaths: ['/a', '/b'],
    });
  });
  it('signedIdentity: exact fields, valid references', () => {
    const si = (s: string) =>
      `{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k","signedIdentity":${s}}]}`;
    expect(caught(() => parsePolicy(si('{"type":"matchSomething"}'))).message).toMatch(
      /signedIdentity\.type: unknown policy reference match type/,
    );
    expect(
      caught(() => parsePolicy(si('{"type":"exactReference","dockerReference":"busybox"}'))).message,
    ).toMatch(/neither a tag nor digest/);
    expect(caught(() => parsePolicy(si('{"type":"exactReference"}'))).message).toMatch(
      /missing field "dockerReference"/,
    );
    expect(caught(() => parsePolicy(si('{"type":"matchExact","extra":true}'))).message).toMatch(
      /unknown field "extra"/,
    );
  });
  it('sigstoreSigned: one key source; fulcio needs rekor', () => {
    expect(caught(() => parsePolicy('{"default":[{"type":"sigstoreSigned"}]}')).message).toMatch(
      /exactly one of keyPath, keyPaths, keyData and fulcio/,
    );
    expect(
      caught(() =>
        parsePolicy(
          '{"default":[{"type":"sigstoreSigned","fulcio":{"caPath":"/ca","oidcIssuer":"https://i","subjectEmail":"a@b"}}]}',
        ),
      ).message,
    ).toMatch(/rekorPublicKeyPath and rekorPublicKeyData must be specified if fulcio is used/);
    expect(
      caught(() =>
        parsePolicy(
          '{"default":[{"type":"sigstoreSigned","fulcio":{"oidcIssuer":"https://i","subjectEmail":"a@b"},"rekorPublicKeyPath":"/r"}]}',
        ),
      ).message,
    ).toMatch(/default\[0\]\.fulcio: at least one of caPath and caData/);
  });
  it('what ocikit cannot check is refused by name (decision 172)', () => {
    expect(
      caught(() =>
        parsePolicy('{"default":[{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchExact"}}]}'),
      ).message,
    ).toMatch(/at default\[0\]\.type: signedBaseLayer is not implemented/);
    expect(caught(() => parsePolicy('{"default":[{"type":"sigstoreSigned","pki":{}}]}')).message).toMatch(
      /at default\[0\]\.pki: pki is not supported by ocikit/,
    );
  });
  it('scopes are checked per transport', () => {
    const t = (transport: string, scope: string) =>
      `{"default":[{"type":"reject"}],"transports":{"${transport}":{"${scope}":[{"type":"reject"}]}}}`;
    expect(caught(() => parsePolicy(t('oci', 'relative/dir'))).message).toMatch(
      /transports\.oci\["relative\/dir"\]: invalid scope .* must be an absolute path/,
    );
    expect(caught(() => parsePolicy(t('dir', '/'))).message).toMatch(/forbidden/);
    expect(caught(() => parsePolicy(t('oci', '/a/../b'))).message).toMatch(
      /non-canonical path format, perhaps try \/b/,
    );
    expect(caught(() => parsePolicy(t('docker-archive', '/x'))).message).toMatch(/only|except the default/);
    expect(caught(() => parsePolicy(t('docker-daemon', `sha256:${'a'.repeat(64)}`))).message).toMatch(
      /algo:digest/,
    );
    expect(() => parsePolicy(t('docker', 'anything goes'))).not.toThrow();
    expect(() => parsePolicy(t('docker-daemon', 'localhost:5000'))).not.toThrow();
    expect(() => parsePolicy(t('docker-daemon', 'sha256:abc'))).not.toThrow();
    expect(() => parsePolicy(t('some-future-transport', 'x'))).not.toThrow();
  });
});

describe('scope matching (requirementsFor)', () => {
  it('docker namespaces: repository, parents, host:port, wildcards without the port', () => {
    expect(dockerNamespaces('example.com:5000/ns/sub/repo')).toEqual([
      'example.com:5000/ns/sub/repo',
      'example.com:5000/ns/sub',
      'example.com:5000/ns',
      'example.com:5000',
      '*.com',
    ]);
    expect(dockerNamespaces('a.b.example.com/repo')).toEqual([
      'a.b.example.com/repo',
      'a.b.example.com',
      '*.b.example.com',
      '*.example.com',
      '*.com',
    ]);
  });
  const policy = parsePolicy(
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          '': [{ type: 'insecureAcceptAnything' }],
          'example.com:5000/ns/app:v1': [{ type: 'reject' }],
          'example.com:5000/ns/app': [{ type: 'insecureAcceptAnything' }],
          'example.com:5000/ns': [{ type: 'reject' }],
          'example.com:5000': [{ type: 'insecureAcceptAnything' }],
          '*.example.com': [{ type: 'reject' }],
        },
        oci: { '/srv/images': [{ type: 'insecureAcceptAnything' }] },
      },
    }),
  );
  it.each([
    ['example.com:5000/ns/app:v1', 'example.com:5000/ns/app:v1'],
    ['example.com:5000/ns/app:v2', 'example.com:5000/ns/app'],
    ['example.com:5000/ns/app', 'example.com:5000/ns/app'],
    [`example.com:5000/ns/app@sha256:${'1'.repeat(64)}`, 'example.com:5000/ns/app'],
    ['example.com:5000/ns/other:1', 'example.com:5000/ns'],
    ['example.com:5000/elsewhere:1', 'example.com:5000'],
    ['registry.example.com/x:1', '*.example.com'],
    ['busybox', ''],
  ])('docker %s → scope %j', (name, scope) => {
    expect(requirementsFor(policy, 'docker', name).scope).toBe(scope);
  });
  it('oci: the directory and its parents; the REF is not part of the identity; other transports fall back to default', () => {
    expect(requirementsFor(policy, 'oci', '/srv/images/app:v1').scope).toBe('/srv/images');
    expect(requirementsFor(policy, 'oci', '/srv/images:v1').scope).toBe('/srv/images');
    expect(requirementsFor(policy, 'oci', '/srv/other:v1')).toMatchObject({
      transport: undefined,
      scope: undefined,
    });
    // A relative layout path is resolved against the working directory, as containers/image does.
    const rel = relative(process.cwd(), '/srv/images/app');
    expect(requirementsFor(policy, 'oci', `${rel}:v1`).scope).toBe('/srv/images');
    expect(policyIdentity('dir', 'some/dir').identity).toBe(join(process.cwd(), 'some/dir'));
    expect(requirementsFor(policy, 'dir', '/srv/images/app')).toMatchObject({
      transport: undefined,
      requirements: [{ type: 'reject' }],
    });
  });
});

describe('loadPolicy: --signature-policy, else ~/.config/containers/policy.json, else /etc/containers/policy.json', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocikit-policy-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('takes them in that order and names both places when neither exists', async () => {
    const home = join(dir, 'home');
    const system = join(dir, 'system.json');
    const explicit = join(dir, 'explicit.json');
    writeFileSync(explicit, '{"default":[{"type":"insecureAcceptAnything"}]}');
    const e = await rejection(loadPolicy({ env: { HOME: home }, systemPath: system }));
    expect(isNotFound(e)).toBe(true);
    expect(e.message).toContain(`"${home}/.config/containers/policy.json", "${system}"`);
    writeFileSync(system, '{"default":[{"type":"reject"}]}');
    expect((await loadPolicy({ env: { HOME: home }, systemPath: system })).path).toBe(system);
    mkdirSync(join(home, '.config/containers'), { recursive: true });
    writeFileSync(join(home, '.config/containers/policy.json'), '{"default":[{"type":"reject"}],}');
    const bad = await rejection(loadPolicy({ env: { HOME: home }, systemPath: system }));
    expect(bad.message).toMatch(
      new RegExp(`^invalid policy in ${home}/.config/containers/policy.json: malformed JSON`),
    );
    const unreadable = await rejection(loadPolicy({ path: dir }));
    expect(isFailedPrecondition(unreadable)).toBe(true);
    expect(unreadable.message).toBe(`cannot read policy file ${dir}: EISDIR`);
    const p = await loadPolicy({ path: explicit, env: { HOME: home }, systemPath: system });
    expect(p).toEqual({ default: [{ type: 'insecureAcceptAnything' }], transports: {}, path: explicit });
  });
});

describe('containers-policy.json(5) examples, parsed and evaluated as documented', () => {
  let dir: string;
  let policy: Policy;
  const keys: Record<string, { privateKey: Uint8Array }> = {};
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocikit-policy-man-'));
    for (const who of ['official', 'vendor', 'reviewer', 'stranger']) {
      const { privateKey, publicKey } = await openpgp.generateKey({
        userIDs: [{ name: who, email: `${who}@example.com` }],
        format: 'binary',
      });
      writeFileSync(join(dir, `${who}-pubkey.gpg`), publicKey);
      keys[who] = { privateKey };
    }
    const text = readFileSync(join(fixtures, 'man-locked-down.json'), 'utf8').replaceAll(
      '/path/to/',
      `${dir}/`,
    );
    policy = parsePolicy(text, { path: 'man-locked-down.json' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sign = (who: string, identity: string) =>
    signSimpleSigning(manifest, identity, { privateKey: keys[who]?.privateKey ?? new Uint8Array() });

  it('"completely disable security" accepts anything', async () => {
    const insecure = parsePolicy(readFileSync(join(fixtures, 'man-insecure.json')));
    await expect(evaluatePolicy(insecure, image('docker', 'quay.io/anything:1'))).resolves.toMatchObject({
      scope: undefined,
    });
    await expect(evaluatePolicy(insecure, image('oci', '/tmp/x:1'))).resolves.toBeDefined();
  });
  it.each([
    ['docker', 'docker.io/openshift/hello-openshift:latest', 'docker.io/openshift'],
    ['docker', 'docker.io/library/busybox:latest', 'docker.io/library/busybox'],
    ['docker', 'busybox', 'docker.io/library/busybox'],
    ['docker', 'foo.temporary-project.example.com/app:1', '*.temporary-project.example.com'],
    ['dir', '/var/tmp/some-image', ''],
  ] as const)('accepts %s:%s without verification (scope %j)', async (transport, name, scope) => {
    await expect(evaluatePolicy(policy, image(transport, name))).resolves.toMatchObject({ transport, scope });
  });
  it('rejects other docker images by the global default, naming the requirement', async () => {
    const e = await rejection(evaluatePolicy(policy, image('docker', 'docker.io/library/alpine:3')));
    expect(isPermissionDenied(e)).toBe(true);
    expect(e.details).toMatchObject({
      reason: 'policy-rejected',
      requirement: 'reject',
      scope: null,
      policyFile: 'man-locked-down.json',
    });
    expect(e.message).toMatch(
      /^docker:docker.io\/library\/alpine:3 rejected by policy: requirement 1 of 1, reject, in the default policy of man-locked-down.json/,
    );
  });
  it('sigstoreSigned scopes go to the sigstore verifier (default: cosign keys; the key file is missing here → rejected naming it)', async () => {
    const name = 'hostname:5000/myns/sigstore-signed-with-full-references:1';
    const e = await rejection(evaluatePolicy(policy, image('docker', name)));
    expect(e.details).toMatchObject({
      requirement: 'sigstoreSigned',
      scope: 'hostname:5000/myns/sigstore-signed-with-full-references',
    });
    expect(e.message).toMatch(/sigstore-pubkey\.pub/);
    const seen: string[] = [];
    await evaluatePolicy(policy, image('docker', name), {
      verifySigstoreSigned: async (req, _img, opts) => {
        seen.push(`${req.keyPath} ${opts.dockerReference}`);
      },
    });
    expect(seen).toEqual([
      `${dir}/sigstore-pubkey.pub hostname:5000/myns/sigstore-signed-with-full-references:1`,
    ]);
  });
  it('sigstore scopes with a real cosign-format signature: full references need the exact tag, matchRepository takes a repository-only identity (as cosign writes)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'sigstore-pubkey.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const cosign = (identity: string) => {
      const payload = makePayload(digestOfSync(manifest), identity, { type: PayloadType.Sigstore });
      return { payload, signature: signPayload(privateKey, payload) };
    };
    const withSigstore = (name: string, sigs: ReturnType<typeof cosign>[]): ImageToVerify => ({
      ...image('docker', name),
      signatures: { sigstore: async () => sigs, simpleSigning: async () => [] },
    });
    const full = 'hostname:5000/myns/sigstore-signed-with-full-references';
    await expect(
      evaluatePolicy(policy, withSigstore(`${full}:1`, [cosign(`${full}:1`)])),
    ).resolves.toMatchObject({ scope: full });
    await expect(evaluatePolicy(policy, withSigstore(`${full}:1`, [cosign(`${full}:2`)]))).rejects.toThrow(
      /not accepted|does not match/,
    );
    await expect(evaluatePolicy(policy, withSigstore(`${full}:1`, [cosign(full)]))).rejects.toThrow(
      /rejected by policy/,
    );
    const loose = 'hostname:5000/myns/sigstore-signed-allows-malicious-tag-substitution';
    await expect(evaluatePolicy(policy, withSigstore(`${loose}:1`, [cosign(loose)]))).resolves.toMatchObject({
      scope: loose,
    });
    await expect(
      evaluatePolicy(policy, withSigstore(`${loose}:1`, [cosign(`${loose}:other`)])),
    ).resolves.toBeDefined();
    await expect(
      evaluatePolicy(policy, withSigstore(`${loose}:1`, [cosign('hostname:5000/myns/elsewhere')])),
    ).rejects.toThrow(/rejected by policy/);
    await expect(evaluatePolicy(policy, withSigstore(`${loose}:1`, []))).rejects.toThrow(
      /no signature exists/,
    );
  });

  it('atomic official: signedBy the official key, identity matchRepoDigestOrExact', async () => {
    const name = 'hostname:5000/myns/official:1';
    const none = await rejection(evaluatePolicy(policy, image('atomic', name)));
    expect(none.message).toMatch(
      /requirement 1 of 1, signedBy \(.*official-pubkey.gpg\), in scope "hostname:5000\/myns\/official" of transport atomic.*: a signature was required, but no signature exists/,
    );
    await expect(
      evaluatePolicy(policy, image('atomic', name, [await sign('official', name)])),
    ).resolves.toMatchObject({ scope: 'hostname:5000/myns/official' });
    const wrongKey = await rejection(
      evaluatePolicy(policy, image('atomic', name, [await sign('stranger', name)])),
    );
    expect(wrongKey.details.why).toMatch(/signature by key [0-9A-F]+ is not accepted/);
    const wrongId = await rejection(
      evaluatePolicy(
        policy,
        image('atomic', name, [await sign('official', 'hostname:5000/myns/official:2')]),
      ),
    );
    expect(wrongId.details.why).toMatch(
      /signature for identity "hostname:5000\/myns\/official:2" is not accepted/,
    );
  });
  it('atomic vendor/product: both the vendor (exactRepository) and the reviewer must sign', async () => {
    const name = 'hostname:5000/vendor/product:1';
    const vendor = await sign('vendor', 'vendor-hostname/product/repository:anything');
    const reviewer = await sign('reviewer', name);
    await expect(evaluatePolicy(policy, image('atomic', name, [vendor, reviewer]))).resolves.toBeDefined();
    const onlyVendor = await rejection(evaluatePolicy(policy, image('atomic', name, [vendor])));
    expect(onlyVendor.details).toMatchObject({ requirementIndex: 1 });
    const onlyReviewer = await rejection(evaluatePolicy(policy, image('atomic', name, [reviewer])));
    expect(onlyReviewer.details).toMatchObject({ requirementIndex: 0 });
    const vendorWrongRepo = await sign('vendor', 'vendor-hostname/product/other:1');
    expect(
      (await rejection(evaluatePolicy(policy, image('atomic', name, [vendorWrongRepo, reviewer])))).details
        .why,
    ).toMatch(/none of the 2 signatures were accepted/);
  });
  it('atomic private-mirror: remapIdentity — signed as vendor.example.com/…', async () => {
    const name = 'private-mirror:5000/vendor-mirror/product-a/image1:latest';
    await expect(
      evaluatePolicy(
        policy,
        image('atomic', name, [await sign('vendor', 'vendor.example.com/product-a/image1:latest')]),
      ),
    ).resolves.toBeDefined();
    await expect(evaluatePolicy(policy, image('atomic', name, [await sign('vendor', name)]))).rejects.toThrow(
      /is not accepted/,
    );
  });
  it('a signature for another manifest is rejected', async () => {
    const name = 'hostname:5000/myns/official:1';
    const other = await signSimpleSigning(new TextEncoder().encode('{}'), name, {
      privateKey: keys.official?.privateKey ?? new Uint8Array(),
    });
    const e = await rejection(evaluatePolicy(policy, image('atomic', name, [other])));
    expect(e.details.why).toMatch(/^signature for digest sha256:[0-9a-f]{64} does not match/);
  });
});
