// Signing end to end: the real CLI (a child process) against the real registry — key generate,
// copy --sign-by-sigstore-private-key, sign, verify (key and policy), pull and copy refusing what
// the policy refuses, signatures travelling with copy — and the interop peers: Debian's skopeo 1.9
// and podman 4.3 read the signatures ocikit stores, and agree on every case they can decide.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fetchAll } from '@ocikit/content';
import { digestOfSync } from '@ocikit/digest';
import { MediaType, parseManifest } from '@ocikit/image-spec';
import { openRepository, Transport } from '@ocikit/registry';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ocikit-cli-sign-'));
  dirs.push(d);
  return d;
};

/** Runs a peer tool; its exit code and output, never throwing. */
async function tool(cmd: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

let registry: RunningRegistry;
let image: BuiltImage;
let env: Record<string, string>;
let root: string;
let work: string;
let host: string;
/**
 * HOME for skopeo and podman (and ocikit's GPG cases): its registries.d turns sigstore attachments
 * on for the registry and puts its simple signing signatures in a file:// lookaside.
 */
let peerHome: string;
let lookaside: string;

const cli = (args: string[], stdin?: string) =>
  runCli(['--root', root, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) });

function policyFile(name: string, requirements: unknown[]): string {
  const file = join(work, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: { docker: { [`${host}/sig`]: requirements } },
    }),
  );
  return file;
}
const sigstore = (pub: string, identity: unknown = { type: 'matchRepository' }) => [
  { type: 'sigstoreSigned', keyPath: join(work, pub), signedIdentity: identity },
];

beforeAll(async () => {
  registry = await startRegistry();
  host = registry.host;
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  root = tmp();
  work = tmp();
  env = {
    HOME: tmp(),
    DOCKER_CONFIG: tmp(),
    REGISTRY_AUTH_FILE: join(tmp(), 'none.json'),
    XDG_RUNTIME_DIR: tmp(),
  };
  peerHome = tmp();
  mkdirSync(join(peerHome, '.config/containers/registries.d'), { recursive: true });
  lookaside = join(tmp(), 'lookaside');
  const url = `file://${lookaside}`;
  writeFileSync(
    join(peerHome, '.config/containers/registries.d/ocikit-test.yaml'),
    `docker:\n  ${host}:\n    use-sigstore-attachments: true\n    lookaside: ${url}\n    lookaside-staging: ${url}\n`,
  );
  writeFileSync(join(work, 'pass'), 'correct horse\n');
  for (const prefix of ['signer', 'other']) {
    const made = await cli([
      'key',
      'generate',
      '--output-key-prefix',
      join(work, prefix),
      '--passphrase-file',
      join(work, 'pass'),
    ]);
    expect(made.code, made.stderr).toBe(0);
  }
  const layout = `oci:${image.layout}:busybox`;
  const signedCopy = await cli([
    'copy',
    '--sign-by-sigstore-private-key',
    join(work, 'signer.key'),
    '--sign-passphrase-file',
    join(work, 'pass'),
    layout,
    `${host}/sig/signed:1`,
  ]);
  expect(signedCopy.code, signedCopy.stderr).toBe(0);
  for (const repo of ['unsigned', 'other-key', 'other-name', 'tampered']) {
    const copied = await cli(['copy', layout, `${host}/sig/${repo}:1`]);
    expect(copied.code, copied.stderr).toBe(0);
  }
  const pass = ['--passphrase-file', join(work, 'pass')];
  expect(
    (await cli(['sign', '--key', join(work, 'other.key'), ...pass, `${host}/sig/other-key:1`])).code,
  ).toBe(0);
  expect(
    (await cli(['sign', '--key', join(work, 'signer.key'), ...pass, `${host}/sig/tampered:1`])).code,
  ).toBe(0);
  // a signature for another name: signed where it was, then copied here with its signatures
  expect((await cli(['copy', layout, `${host}/elsewhere/app:1`])).code).toBe(0);
  expect(
    (await cli(['sign', '--key', join(work, 'signer.key'), ...pass, `${host}/elsewhere/app:1`])).code,
  ).toBe(0);
  expect((await cli(['copy', `${host}/elsewhere/app:1`, `${host}/sig/other-name:1`])).code).toBe(0);
  // tamper: the same payload with one flipped byte in its signature
  const transport = new Transport();
  try {
    const repo = openRepository(`${host}/sig/tampered`, { transport });
    const tag = `${image.manifest.replace(':', '-')}.sig`;
    const desc = await repo.resolve(tag);
    const manifest = parseManifest(JSON.parse(Buffer.from(await fetchAll(repo, desc)).toString()));
    const layer = manifest.layers[0];
    const sig = Buffer.from(layer?.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
    const bytes = Buffer.from(
      JSON.stringify({
        ...manifest,
        layers: [{ ...layer, annotations: { 'dev.cosignproject.cosign/signature': sig.toString('base64') } }],
      }),
    );
    await repo.pushTagged(
      { mediaType: MediaType.ImageManifest, digest: digestOfSync(bytes), size: bytes.length },
      bytes,
      tag,
    );
  } finally {
    await transport.close();
  }
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ocikit key, sign, verify', () => {
  it("key generate writes cosign's files, the private key 0600, and never overwrites them", async () => {
    expect(statSync(join(work, 'signer.key')).mode & 0o777).toBe(0o600);
    const again = await cli([
      'key',
      'generate',
      '--output-key-prefix',
      join(work, 'signer'),
      '--passphrase-file',
      join(work, 'pass'),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists: not overwriting a key/);
  });

  it('verify --key accepts the image signed on copy, and says why it refuses the others', async () => {
    const ok = await cli(['verify', '--key', join(work, 'signer.pub'), `${host}/sig/signed:1`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(image.manifest);
    const cases = [
      ['unsigned', /no signature exists/],
      ['other-key', /cryptographic signature verification failed/],
      ['tampered', /cryptographic signature verification failed/],
    ] as const;
    for (const [repo, why] of cases) {
      const r = await cli(['verify', '--key', join(work, 'signer.pub'), `${host}/sig/${repo}:1`]);
      expect(r.code, repo).toBe(1);
      expect(r.stderr, repo).toMatch(why);
    }
    const wrongName = await cli([
      'verify',
      '--policy',
      policyFile('exact', sigstore('signer.pub', { type: 'matchExact' })),
      `${host}/sig/other-name:1`,
    ]);
    expect(wrongName.code).toBe(1);
    expect(wrongName.stderr).toMatch(/identity ".*elsewhere\/app:1" is not accepted/);
  });

  it('a wrong passphrase fails before anything is copied', async () => {
    writeFileSync(join(work, 'wrong'), 'nope\n');
    const r = await cli([
      'copy',
      '--sign-by-sigstore-private-key',
      join(work, 'signer.key'),
      '--sign-passphrase-file',
      join(work, 'wrong'),
      `oci:${image.layout}:busybox`,
      `${host}/sig/never:1`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/decryption failed/);
    const tags = await fetch(`${registry.url}/v2/sig/never/tags/list`);
    expect(tags.status).toBe(404);
  });
});

describe('the policy on pull and copy', () => {
  it('pull --signature-policy stores the signed image and refuses the rest, leaving the store as it was', async () => {
    const policy = policyFile('pull', sigstore('signer.pub'));
    const pullRoot = tmp();
    const pull = (ref: string) =>
      runCli(['--root', pullRoot, 'pull', '--signature-policy', policy, ref], { env });
    for (const repo of ['unsigned', 'other-key', 'tampered']) {
      const r = await pull(`${host}/sig/${repo}:1`);
      expect(r.code, repo).toBe(1);
      expect(r.stderr, repo).toMatch(/rejected by policy: requirement 1 of 1, sigstoreSigned/);
    }
    expect(
      existsSync(join(pullRoot, 'content/blobs/sha256'))
        ? readdirSync(join(pullRoot, 'content/blobs/sha256'))
        : [],
    ).toEqual([]);
    const ok = await pull(`${host}/sig/signed:1`);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('copy refuses an image the policy refuses, and carries signatures between registries unless removed', async () => {
    const policy = policyFile('copy', sigstore('signer.pub'));
    const refused = await cli([
      'copy',
      '--signature-policy',
      policy,
      `${host}/sig/unsigned:1`,
      `${host}/sig/dst-refused:1`,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no signature exists/);
    expect((await fetch(`${registry.url}/v2/sig/dst-refused/tags/list`)).status).toBe(404);

    const carried = await cli([
      'copy',
      '--signature-policy',
      policy,
      `${host}/sig/signed:1`,
      `${host}/sig/carried:1`,
    ]);
    expect(carried.code, carried.stderr).toBe(0);
    // the signature names sig/signed: accepted for sig/carried when the policy says that name
    const byName = policyFile(
      'carried',
      sigstore('signer.pub', { type: 'exactRepository', dockerRepository: `${host}/sig/signed` }),
    );
    expect((await cli(['verify', '--policy', byName, `${host}/sig/carried:1`])).code).toBe(0);

    // into a layout without REF, the image keeps its tag's name, as without a policy
    const layoutDir = join(tmp(), 'layout');
    const toLayout = await cli([
      'copy',
      '--signature-policy',
      policy,
      `${host}/sig/signed:1`,
      `oci:${layoutDir}`,
    ]);
    expect(toLayout.code, toLayout.stderr).toBe(0);
    const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    expect(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['1']);

    const removed = await cli([
      'copy',
      '--remove-signatures',
      `${host}/sig/signed:1`,
      `${host}/sig/removed:1`,
    ]);
    expect(removed.code, removed.stderr).toBe(0);
    const r = await cli(['verify', '--policy', byName, `${host}/sig/removed:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no signature exists/);
  });
});

describe('interop with Debian skopeo 1.9 and podman 4.3', () => {
  it("skopeo finds and reads ocikit's signature where cosign keeps it, and refuses the unsigned image as ocikit does", async () => {
    const policy = policyFile('skopeo', sigstore('signer.pub'));
    const skopeo = (repo: string) =>
      tool(
        'skopeo',
        [
          '--debug',
          '--policy',
          policy,
          'copy',
          '--src-tls-verify=false',
          `docker://${host}/sig/${repo}:1`,
          `oci:${join(tmp(), 'out')}:x`,
        ],
        { HOME: peerHome },
      );
    const signed = await skopeo('signed');
    expect(signed.stderr).toMatch(/Found a sigstore attachment manifest with 1 layers/);
    expect(signed.stderr).toMatch(/Fetching sigstore attachment 1\/1: sha256:[0-9a-f]{64}/);
    // Debian builds skopeo with sigstore verification patched out: it refuses every signed image
    expect(signed.code).toBe(1);
    expect(signed.stderr).toMatch(/Debian-local change: sigstore disabled/);
    const unsigned = await skopeo('unsigned');
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/A signature was required, but no signature exists/);
    expect((await cli(['verify', '--policy', policy, `${host}/sig/unsigned:1`])).code).toBe(1);
  });

  it('podman pull with the same policy.json agrees with ocikit on every case it can decide', async () => {
    const podmanRoot = tmp();
    const podman = (policy: string, repo: string) =>
      tool(
        'podman',
        [
          '--root',
          join(podmanRoot, 'root'),
          '--runroot',
          join(podmanRoot, 'run'),
          '--storage-driver',
          'vfs',
          '--cgroup-manager',
          'cgroupfs',
          '--events-backend',
          'file',
          'pull',
          '--tls-verify=false',
          '--signature-policy',
          policy,
          `${host}/sig/${repo}:1`,
        ],
        { HOME: peerHome },
      );
    const ocikit = async (policy: string, repo: string) =>
      (
        await runCli(['--root', tmp(), 'pull', '--signature-policy', policy, `${host}/sig/${repo}:1`], {
          env,
        })
      ).code;
    const key = policyFile('podman-key', sigstore('signer.pub'));
    const anything = policyFile('podman-any', [{ type: 'insecureAcceptAnything' }]);
    const reject = policyFile('podman-reject', [{ type: 'reject' }]);
    // the cases podman decides: both refuse, or both accept
    for (const [policy, repo, want] of [
      [key, 'unsigned', 1],
      [anything, 'unsigned', 0],
      [anything, 'signed', 0],
      [reject, 'signed', 1],
    ] as const) {
      const p = await podman(policy, repo);
      expect(p.code === 0 ? 0 : 1, `podman ${repo}: ${p.stderr}`).toBe(want);
      expect(await ocikit(policy, repo), `ocikit ${repo}`).toBe(want);
    }
    // a signature it would have to verify: Debian's podman refuses all (patched out), ocikit decides
    for (const repo of ['signed', 'other-key', 'other-name', 'tampered']) {
      const p = await podman(key, repo);
      expect(p.code, repo).not.toBe(0);
      expect(p.stderr, repo).toMatch(/Debian-local change: sigstore disabled/);
    }
    expect(await ocikit(key, 'signed')).toBe(0);
    for (const repo of ['other-key', 'tampered']) expect(await ocikit(key, repo), repo).toBe(1);
    expect(
      await ocikit(policyFile('podman-exact', sigstore('signer.pub', { type: 'matchExact' })), 'other-name'),
    ).toBe(1);
  });
});

describe('GPG simple signing: copy --sign-by and skopeo', () => {
  it('ocikit copy --sign-by → skopeo signedBy accepts it, ocikit pull agrees; the signature travels with copy', async () => {
    const gnupg = tmp();
    const gpgEnv = { GNUPGHOME: gnupg };
    const uid = 'ocikit test <signer@example.com>';
    const made = await tool(
      'gpg',
      ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never'],
      gpgEnv,
    );
    expect(made.code, made.stderr).toBe(0);
    const listed = await tool('gpg', ['--batch', '--with-colons', '--list-secret-keys', uid], gpgEnv);
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(listed.stdout)?.[1] ?? '';
    expect(fpr).toMatch(/^[0-9A-F]{40}$/);
    const pubring = join(work, 'signer.gpg');
    const exported = await promisify(execFile)('gpg', ['--batch', '--export', fpr], {
      env: { ...process.env, ...gpgEnv },
      encoding: 'buffer',
    });
    writeFileSync(pubring, exported.stdout);
    const withGpg = { ...env, HOME: peerHome, ...gpgEnv };
    const gpgCli = (args: string[]) => runCli(['--root', tmp(), ...args], { env: withGpg });
    try {
      const signed = await gpgCli([
        'copy',
        '--sign-by',
        fpr,
        `oci:${image.layout}:busybox`,
        `${host}/sig/gpg:1`,
      ]);
      expect(signed.code, signed.stderr).toBe(0);
      expect(existsSync(join(lookaside, `sig/gpg@${image.manifest.replace(':', '=')}/signature-1`))).toBe(
        true,
      );

      const policy = policyFile('gpg', [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: pubring }]);
      const skopeo = (repo: string) =>
        tool(
          'skopeo',
          [
            '--policy',
            policy,
            'copy',
            '--remove-signatures',
            '--src-tls-verify=false',
            `docker://${host}/sig/${repo}:1`,
            `oci:${join(tmp(), 'out')}:x`,
          ],
          {
            HOME: peerHome,
          },
        );
      const accepted = await skopeo('gpg');
      expect(accepted.code, accepted.stderr).toBe(0);
      const refused = await skopeo('unsigned');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/A signature was required, but no signature exists/);
      expect((await gpgCli(['pull', '--signature-policy', policy, `${host}/sig/gpg:1`])).code).toBe(0);
      const unsigned = await gpgCli(['pull', '--signature-policy', policy, `${host}/sig/unsigned:1`]);
      expect(unsigned.code).toBe(1);
      expect(unsigned.stderr).toMatch(/rejected by policy: requirement 1 of 1, signedBy/);

      // carried by copy to another repository: the signature still names sig/gpg
      expect((await gpgCli(['copy', `${host}/sig/gpg:1`, `${host}/sig/gpg-copy:1`])).code).toBe(0);
      expect(
        existsSync(join(lookaside, `sig/gpg-copy@${image.manifest.replace(':', '=')}/signature-1`)),
      ).toBe(true);
      const byName = policyFile('gpg-copy', [
        {
          type: 'signedBy',
          keyType: 'GPGKeys',
          keyPath: pubring,
          signedIdentity: { type: 'exactRepository', dockerRepository: `${host}/sig/gpg` },
        },
      ]);
      const carried = await tool(
        'skopeo',
        [
          '--policy',
          byName,
          'copy',
          '--remove-signatures',
          '--src-tls-verify=false',
          `docker://${host}/sig/gpg-copy:1`,
          `oci:${join(tmp(), 'out')}:y`,
        ],
        { HOME: peerHome },
      );
      expect(carried.code, carried.stderr).toBe(0);

      // ocikit sign --sign-by: an image already in the registry signed in place, into its lookaside
      const later = await gpgCli(['sign', '--sign-by', fpr, `${host}/sig/unsigned:1`]);
      expect(later.code, later.stderr).toBe(0);
      expect(later.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      const nowSigned = await skopeo('unsigned');
      expect(nowSigned.code, nowSigned.stderr).toBe(0);
      const both = await gpgCli(['sign', '--sign-by', fpr, '--key', pubring, `${host}/sig/unsigned:1`]);
      expect(both).toMatchObject({ code: 1 });
      expect(both.stderr).toBe('ocikit sign: give exactly one of --key FILE and --sign-by FINGERPRINT\n');
    } finally {
      await tool('gpgconf', ['--kill', 'gpg-agent'], gpgEnv);
    }
  });
});
