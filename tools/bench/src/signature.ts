// Benchmark (issue 16): the cost of signatures. (1) One cosign signature verification in-process:
// `verifyCosignSignature` (the PEM key parsed each time, as a policy evaluation does) and the whole
// `verifySigstoreSigned` requirement check over signatures already read; (2) `ocikit pull` of a
// cosign-signed image under a sigstoreSigned policy beside the same image unsigned under an
// insecureAcceptAnything one (Debian's default policy.json), whole processes, interleaved, against
// the real registry, a fresh state root each run: busybox (1 MB) and Debian minbase (51 MB).
// Run: pnpm turbo run build --filter @ocikit/cli... && pnpm --filter @ocikit/bench bench:signature
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  generateKeyPair,
  makePayload,
  parsePublicKey,
  readPrivateKey,
  type SigstoreSignature,
  signPayload,
  verifyCosignSignature,
  verifySigstoreSigned,
} from '@ocikit/signature';
import { buildBusyboxImage, buildDebianImage } from '@ocikit/test-images';
import { startRegistry } from '@ocikit/test-registry';
import { compareAsync, median, report } from './harness.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../../packages/cli/bin/ocikit', import.meta.url));
const runs = Number(process.env['BENCH_RUNS'] ?? 7);
const work = mkdtempSync(join(tmpdir(), 'ocikit-bench-sig-'));

/** Median ms of `fn` over `n` calls, in batches of 100 after a warm-up. */
async function timeIt(n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  const per: number[] = [];
  for (let b = 0; b < n / 100; b++) {
    const start = performance.now();
    for (let i = 0; i < 100; i++) await fn();
    per.push((performance.now() - start) / 100);
  }
  return median(per);
}

const out: string[] = [];
try {
  // (1) in-process
  const pair = await generateKeyPair({ passphrase: '' });
  const key = await readPrivateKey(pair.privateKeyPem, { passphrase: '' });
  const manifest = Buffer.from('{"schemaVersion":2}');
  const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(manifest).digest('hex')}`;
  const payload = makePayload(digest, 'registry.example/app:1');
  const signature: SigstoreSignature = { payload, signature: signPayload(key, payload) };
  const pubPath = join(work, 'cosign.pub');
  writeFileSync(pubPath, pair.publicKeyPem);
  const one = await timeIt(2000, () =>
    verifyCosignSignature(signature, {
      publicKeys: [parsePublicKey(pair.publicKeyPem)],
      manifest,
      acceptIdentity: () => true,
    }),
  );
  const image = {
    transport: 'docker' as const,
    name: 'registry.example/app:1',
    manifestDigest: digest,
    manifest,
    signatures: { sigstore: async () => [signature], simpleSigning: async () => [] },
  };
  const requirement = { type: 'sigstoreSigned' as const, keyPath: pubPath };
  const whole = await timeIt(2000, () =>
    verifySigstoreSigned(requirement, image, { dockerReference: 'registry.example/app:1' }),
  );
  const inProcess = [
    '### One cosign signature verification, in-process (median of batches of 100, after 200 warm-up calls)',
    '',
    '| what | median (ms) |',
    '|---|---|',
    `| verifyCosignSignature (PEM key parsed, ECDSA P-256 verify, payload parsed, digest and identity checked) | ${one.toFixed(3)} |`,
    `| verifySigstoreSigned (the requirement: key file read, then the above) | ${whole.toFixed(3)} |`,
  ].join('\n');
  console.log(`${inProcess}\n`);
  out.push(inProcess);

  // (2) signed vs unsigned pull
  await using registry = await startRegistry();
  const host = registry.host;
  const images = [
    { name: 'busybox', layout: buildBusyboxImage(join(work, 'busybox'), 'img').layout, tag: 'img' },
    { name: 'debian', layout: buildDebianImage().layout, tag: 'debian' },
  ];
  writeFileSync(join(work, 'pass'), 'bench\n');
  await run(cli, [
    'key',
    'generate',
    '--output-key-prefix',
    join(work, 'signer'),
    '--passphrase-file',
    join(work, 'pass'),
  ]);
  const accept = join(work, 'accept.json');
  writeFileSync(accept, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const signedPolicy = join(work, 'signed.json');
  writeFileSync(
    signedPolicy,
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: { [`${host}/bench`]: [{ type: 'sigstoreSigned', keyPath: join(work, 'signer.pub') }] },
      },
    }),
  );
  const rootOf = (name: string) => join(work, `root-${name}`);
  for (const img of images) {
    const src = `oci:${img.layout}:${img.tag}`;
    await run(cli, ['--root', rootOf('x'), 'copy', src, `${host}/bench/${img.name}-unsigned:1`]);
    await run(cli, [
      '--root',
      rootOf('x'),
      'copy',
      '--sign-by-sigstore-private-key',
      join(work, 'signer.key'),
      '--sign-passphrase-file',
      join(work, 'pass'),
      src,
      `${host}/bench/${img.name}-signed:1`,
    ]);
    // each its own code cache (bin/ocikit.js makes it from a command's first run): a user whose pulls
    // check signatures has one made from such a pull, not from an unchecked one
    const contender = (label: string, policy: string, repo: string) => ({
      name: label,
      argv: [
        'env',
        `XDG_CACHE_HOME=${join(work, `cache-${label.split(' ')[0]}`)}`,
        cli,
        '--root',
        rootOf(label),
        'pull',
        '--signature-policy',
        policy,
        `${host}/bench/${repo}:1`,
      ],
      setup: () => rmSync(rootOf(label), { recursive: true, force: true }),
    });
    const results = await compareAsync(
      [
        contender('unsigned pull (insecureAcceptAnything)', accept, `${img.name}-unsigned`),
        contender('signed pull (sigstoreSigned, key)', signedPolicy, `${img.name}-signed`),
      ],
      { runs, warmup: 1 },
    );
    out.push(
      report(`ocikit pull of ${img.name}, fresh root`, results, 'unsigned pull (insecureAcceptAnything)'),
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (process.env['BENCH_OUT']) writeFileSync(process.env['BENCH_OUT'], `${out.join('\n\n')}\n`);
