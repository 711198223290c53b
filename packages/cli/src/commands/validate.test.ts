import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocikit-validate-'));
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('a'), size: 7023 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('b'), size: 32654 }],
};
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('ocikit validate', () => {
  it('accepts a valid manifest from a file and from stdin', async () => {
    const path = file('manifest.json', manifest);
    const r = await runCli(['validate', '--kind', 'manifest', path]);
    expect(r).toMatchObject({ code: 0, stdout: `${path}: valid manifest\n` });
    const s = await runCli(['validate', '--kind', 'manifest', '-'], { stdin: JSON.stringify(manifest) });
    expect(s.code).toBe(0);
  });

  it('rejects a manifest with a bad digest, naming the field', async () => {
    const bad = { ...manifest, layers: [{ ...manifest.layers[0], digest: 'sha256:xyz' }] };
    const r = await runCli(['validate', '--kind', 'manifest', file('bad.json', bad)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not a valid manifest');
    expect(r.stderr).toContain('layers');
    const j = await runCli(['--json', 'validate', '--kind', 'manifest', file('bad2.json', bad)]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: false, kind: 'manifest' });
  });

  it('rejects malformed JSON and an index given as a manifest', async () => {
    expect((await runCli(['validate', '-k', 'manifest', file('m.json', '{"schemaVersion": 2,')])).code).toBe(
      1,
    );
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
    expect((await runCli(['validate', '-k', 'index', file('i.json', index)])).code).toBe(0);
    expect((await runCli(['validate', '-k', 'manifest', file('i2.json', index)])).code).toBe(1);
  });

  it('validates the runtime config that `runc spec` writes, and rejects a broken one', async () => {
    const bundle = mkdtempSync(join(dir, 'bundle-'));
    execFileSync('runc', ['spec'], { cwd: bundle });
    const config = join(bundle, 'config.json');
    expect((await runCli(['validate', '-k', 'runtime-config', config])).code).toBe(0);
    const broken = JSON.parse(readFileSync(config, 'utf8')) as { process: { cwd: unknown } };
    broken.process.cwd = 42;
    const r = await runCli(['validate', '-k', 'runtime-config', file('rc.json', broken)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cwd');
  });

  it('requires a known --kind', async () => {
    const none = await runCli(['validate', file('x.json', manifest)]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--kind is required');
    const bogus = await runCli(['validate', '-k', 'bogus', file('y.json', manifest)]);
    expect(bogus.stderr).toContain('unknown kind "bogus"');
  });
});
