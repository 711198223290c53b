// Scope precedence checked against skopeo 1.9 on a real registry: for each policy and image, skopeo
// `--policy` and ocikit's evaluatePolicy must both accept or both reject.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOfSync } from '@ocikit/digest';
import { buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluatePolicy, loadPolicy } from './policy.ts';

describe('scope precedence: skopeo 1.9 and ocikit agree', () => {
  let dir: string;
  let registry: RunningRegistry;
  let host: string;
  const accept = [{ type: 'insecureAcceptAnything' }];
  const reject = [{ type: 'reject' }];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocikit-policy-interop-'));
    registry = await startRegistry();
    host = registry.host;
    const layout = join(dir, 'layout');
    buildBusyboxImage(layout);
    for (const ref of ['ns/app:v1', 'ns/app:v2', 'ns/other:1', 'top:1', 'ns/deep/er:1']) {
      const r = spawnSync(
        'skopeo',
        ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:busybox`, `docker://${host}/${ref}`],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(r.stderr);
    }
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const policies = (h: string): Record<string, unknown> => ({
    layered: {
      default: reject,
      transports: {
        docker: { [`${h}/ns/app:v1`]: reject, [`${h}/ns/app`]: accept, [`${h}/ns`]: reject, [h]: accept },
      },
    },
    wildcard: { default: reject, transports: { docker: { '*.0.1': accept, [`${h}/ns/other`]: reject } } },
    transportDefault: { default: accept, transports: { docker: { '': reject, [`${h}/ns/deep`]: accept } } },
  });

  it.each([
    ['layered', 'ns/app:v1', false],
    ['layered', 'ns/app:v2', true],
    ['layered', 'ns/other:1', false],
    ['layered', 'ns/deep/er:1', false],
    ['layered', 'top:1', true],
    ['wildcard', 'top:1', true],
    ['wildcard', 'ns/other:1', false],
    ['transportDefault', 'top:1', false],
    ['transportDefault', 'ns/deep/er:1', true],
  ] as const)(
    'policy %s, image %s → accepted %s',
    async (policyName, ref, accepted) => {
      const file = join(dir, `${policyName}.json`);
      writeFileSync(file, JSON.stringify(policies(host)[policyName]));
      const r = spawnSync(
        'skopeo',
        [
          '--policy',
          file,
          'copy',
          '-q',
          '--src-tls-verify=false',
          `docker://${host}/${ref}`,
          `oci:${join(dir, 'out')}:${policyName}`,
        ],
        { encoding: 'utf8' },
      );
      const skopeoAccepts = r.status === 0;
      if (!skopeoAccepts) expect(r.stderr).toMatch(/rejected/);
      const manifest = await fetch(`${registry.url}/v2/${ref.replace(':', '/manifests/')}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      }).then(async (res) => new Uint8Array(await res.arrayBuffer()));
      const ocikitAccepts = await evaluatePolicy(await loadPolicy({ path: file }), {
        transport: 'docker',
        name: `${host}/${ref}`,
        manifestDigest: digestOfSync(manifest),
        manifest,
        signatures: { sigstore: async () => [], simpleSigning: async () => [] },
      }).then(
        () => true,
        () => false,
      );
      expect({ ocikit: ocikitAccepts, skopeo: skopeoAccepts }).toEqual({
        ocikit: accepted,
        skopeo: accepted,
      });
    },
    60_000,
  );
});
