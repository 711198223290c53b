// registries.conf end to end: the real CLI against two real registries, one the primary and one its
// mirror (both CNCF distribution on loopback), configured through CONTAINERS_REGISTRIES_CONF. Which
// registry served what is read from their access logs.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { freePort, type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/test-cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ocikit-cli-regconf-'));
const run = async (cmd: string, args: string[]) =>
  (await promisify(execFile)(cmd, args, { encoding: 'utf8' })).stdout;

let primary: RunningRegistry;
let mirror: RunningRegistry;
/** Plain HTTP on a non-loopback address: reachable only when registries.conf marks it insecure. */
let plain: RunningRegistry;
let image: BuiltImage;
let home: string;

/** Runs the CLI with a registries.conf of `text`, on a fresh root (or `root`). */
function cli(conf: string, args: string[], root = tmp()) {
  const file = join(tmp(), 'registries.conf');
  writeFileSync(file, conf);
  return runCli(['--root', root, ...args], {
    env: {
      HOME: home,
      CONTAINERS_REGISTRIES_CONF: file,
      DOCKER_CONFIG: tmp(),
      REGISTRY_AUTH_FILE: join(home, 'none.json'),
    },
  });
}
const seed = (registry: RunningRegistry, repo: string) =>
  run('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${image.layout}:busybox`,
    `docker://${registry.host}/${repo}`,
  ]);
/** Whether a registry's access log shows a GET of `repo`'s manifests or blobs. */
const served = (registry: RunningRegistry, repo: string) =>
  new RegExp(`"GET /v2/${repo}/(manifests|blobs)/`).test(registry.logs());

beforeAll(async () => {
  [primary, mirror, plain] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startRegistry({ external: true }),
  ]);
  image = buildBusyboxImage(join(tmp(), 'layout'), 'busybox');
  home = tmp();
  await Promise.all([
    seed(primary, 'both/app:v1'),
    seed(mirror, 'both/app:v1'),
    seed(primary, 'only/primary:v1'),
    seed(plain, 'plain/app:v1'),
  ]);
});
afterAll(async () => {
  await Promise.all([primary?.stop(), mirror?.stop(), plain?.stop()]);
});

const withMirror = (mirrorHost: string) => `
[[registry]]
location = "${primary.host}"
[[registry.mirror]]
location = "${mirrorHost}"
`;

describe('registries.conf mirrors, blocked registries and short names', () => {
  it('pulls from the mirror when it has the image, storing it under the name asked for', async () => {
    const r = await cli(withMirror(mirror.host), ['--json', 'pull', `${primary.host}/both/app:v1`]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).reference ?? r.stdout).toContain(`${primary.host}/both/app:v1`);
    expect(served(mirror, 'both/app')).toBe(true);
    expect(served(primary, 'both/app')).toBe(false);
  });

  it('falls back to the primary when the mirror lacks the image or is down', async () => {
    const lacking = await cli(withMirror(mirror.host), ['pull', `${primary.host}/only/primary:v1`]);
    expect(lacking.code, lacking.stderr).toBe(0);
    expect(served(mirror, 'only/primary')).toBe(false);
    expect(served(primary, 'only/primary')).toBe(true);

    const down = await cli(withMirror(`127.0.0.1:${await freePort()}`), [
      'pull',
      `${primary.host}/both/app:v1`,
    ]);
    expect(down.code, down.stderr).toBe(0);
    expect(served(primary, 'both/app')).toBe(true);
  });

  it('pushes to the primary only, never to a mirror', async () => {
    // only what came after the seeding: skopeo's blob-info cache (the machine's, kept across runs)
    // makes it try mounts from repositories an earlier registry on the same port had (/v2/pushed/)
    const mirrorBefore = mirror.logs().length;
    const r = await cli(withMirror(mirror.host), [
      'push',
      `oci:${image.layout}:busybox`,
      `${primary.host}/pushed/app:v1`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(primary.logs()).toMatch(/"PUT \/v2\/pushed\/app\/manifests\/v1/);
    expect(mirror.logs().slice(mirrorBefore)).not.toMatch(/\/v2\/pushed\//);
  });

  it('refuses a blocked registry for pull, push and copy, naming the file', async () => {
    const conf = `[[registry]]\nlocation = "${primary.host}"\nblocked = true\n`;
    const primaryBefore = primary.logs().length;
    for (const args of [
      ['pull', `${primary.host}/both/app:v1`],
      ['push', `oci:${image.layout}:busybox`, `${primary.host}/blocked/app:v1`],
      ['copy', `${mirror.host}/both/app:v1`, `${primary.host}/blocked/app:v1`],
    ]) {
      const r = await cli(conf, args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/blocked in .*registries\.conf/);
    }
    expect(primary.logs().slice(primaryBefore)).not.toMatch(/\/v2\/blocked\//);
  });

  it('speaks plain HTTP to a registry marked insecure, and only then', async () => {
    const refused = await cli('', ['pull', `${plain.host}/plain/app:v1`]);
    expect(refused.code).not.toBe(0);
    const r = await cli(`[[registry]]\nlocation = "${plain.host}"\ninsecure = true\n`, [
      'pull',
      `${plain.host}/plain/app:v1`,
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('resolves short names: aliases, then unqualified-search-registries in order', async () => {
    const conf = `unqualified-search-registries = ["${mirror.host}", "${primary.host}"]
short-name-mode = "permissive"
[aliases]
"aliased" = "${primary.host}/only/primary"
`;
    const searched = await cli(conf, ['--json', 'pull', 'only/primary:v1']);
    expect(searched.code, searched.stderr).toBe(0);
    expect(searched.stdout).toContain(`${primary.host}/only/primary:v1`);
    const first = await cli(conf, ['--json', 'pull', 'both/app:v1']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`${mirror.host}/both/app:v1`);
    const aliased = await cli(conf, ['--json', 'pull', 'aliased:v1']);
    expect(aliased.code, aliased.stderr).toBe(0);
    expect(aliased.stdout).toContain(`${primary.host}/only/primary:v1`);

    const enforcing = await cli(conf.replace('permissive', 'enforcing'), ['pull', 'both/app:v1']);
    expect(enforcing.code).not.toBe(0);
    expect(enforcing.stderr).toMatch(/ambiguous/);

    // run finds a short name it pulled so in the local store, without pulling again
    const root = tmp();
    expect((await cli(conf, ['pull', 'only/primary:v1'], root)).code).toBe(0);
    const ran = await cli(conf, ['run', '--rm', '--pull', 'never', 'only/primary:v1', 'true'], root);
    expect(ran.code, ran.stderr).toBe(0);
  });
});
