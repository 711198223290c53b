// Credentials from real files and real credential-helper executables (shell scripts on a private PATH).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFailedPrecondition, isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { loadCredentials, removeCredentials, saveCredentials } from './credentials.ts';

const SECRET = 's3cr3t:with:colons';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A private HOME, DOCKER_CONFIG and PATH; `helper` installs docker-credential-NAME backed by a JSON file. */
function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-creds-'));
  const bin = join(dir, 'bin');
  const docker = join(dir, 'docker');
  mkdirSync(bin);
  mkdirSync(docker);
  const env: NodeJS.ProcessEnv = { HOME: dir, DOCKER_CONFIG: docker, PATH: `${bin}:/usr/bin:/bin` };
  const helper = (
    name: string,
    store: Record<string, { Username: string; Secret: string }> = {},
    fail = false,
  ) => {
    const db = join(dir, `${name}.json`);
    writeFileSync(db, JSON.stringify(store));
    writeFileSync(
      join(bin, `docker-credential-${name}`),
      fail
        ? '#!/bin/sh\necho "keychain locked" >&2\nexit 1\n'
        : `#!/bin/sh
db=${JSON.stringify(db)}
read -r input || true
case "$1" in
  get) python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=sys.argv[2]
if k in d: print(json.dumps(dict(ServerURL=k, **d[k])))
else: print("credentials not found in native keychain"); sys.exit(1)' "$db" "$input" ;;
  store) printf '%s' "$input" | python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=json.load(sys.stdin); d[e["ServerURL"]]=dict(Username=e["Username"],Secret=e["Secret"]); json.dump(d,open(sys.argv[1],"w"))' "$db" ;;
  erase) python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop(sys.argv[2],None); json.dump(d,open(sys.argv[1],"w"))' "$db" "$input" ;;
esac
`,
    );
    chmodSync(join(bin, `docker-credential-${name}`), 0o755);
    return () => JSON.parse(readFileSync(db, 'utf8')) as Record<string, { Username: string; Secret: string }>;
  };
  const config = (value: unknown) => writeFileSync(join(docker, 'config.json'), JSON.stringify(value));
  return { dir, env, helper, config, docker };
}

describe('loadCredentials', () => {
  it('reads auths entries in every key form Docker accepts, passwords with colons intact', async () => {
    const s = sandbox();
    s.config({
      auths: {
        'https://localhost:5000/v1/': { auth: b64(`alice:${SECRET}`) },
        'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
        'token.example': { identitytoken: 'refresh-me' },
      },
    });
    expect(await loadCredentials('localhost:5000', { env: s.env })).toEqual({
      username: 'alice',
      password: SECRET,
    });
    for (const hub of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      expect(await loadCredentials(hub, { env: s.env })).toEqual({
        username: 'hubuser',
        password: 'hubpass',
      });
    }
    expect(await loadCredentials('token.example', { env: s.env })).toEqual({ identityToken: 'refresh-me' });
    expect(await loadCredentials('other.example', { env: s.env })).toBeUndefined();
  });

  it('prefers Podman auth files, then Docker; credHelpers over auths over credsStore', async () => {
    const s = sandbox();
    const runtime = join(s.dir, 'run');
    mkdirSync(join(runtime, 'containers'), { recursive: true });
    writeFileSync(
      join(runtime, 'containers', 'auth.json'),
      JSON.stringify({ auths: { 'reg.example': { auth: b64('podman:pw') } } }),
    );
    s.config({ auths: { 'reg.example': { auth: b64('docker:pw') } } });
    expect(await loadCredentials('reg.example', { env: { ...s.env, XDG_RUNTIME_DIR: runtime } })).toEqual({
      username: 'podman',
      password: 'pw',
    });
    const explicit = join(s.dir, 'explicit.json');
    writeFileSync(explicit, JSON.stringify({ auths: { 'reg.example': { auth: b64('explicit:pw') } } }));
    expect(
      await loadCredentials('reg.example', {
        env: { ...s.env, XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: explicit },
      }),
    ).toEqual({
      username: 'explicit',
      password: 'pw',
    });

    s.helper('per-host', { 'reg.example': { Username: 'from-helper', Secret: 'hpw' } });
    s.helper('store', { 'other.example': { Username: '<token>', Secret: 'identity' } });
    s.config({
      auths: { 'reg.example': { auth: b64('docker:pw') } },
      credHelpers: { 'reg.example': 'per-host' },
      credsStore: 'store',
    });
    expect(await loadCredentials('reg.example', { env: s.env })).toEqual({
      username: 'from-helper',
      password: 'hpw',
    });
    expect(await loadCredentials('other.example', { env: s.env })).toEqual({ identityToken: 'identity' });
    expect(await loadCredentials('nowhere.example', { env: s.env })).toBeUndefined();
  });

  it('names a malformed file without quoting it, and a failing helper without its secrets', async () => {
    const s = sandbox();
    writeFileSync(join(s.docker, 'config.json'), `{"auths": {"x": {"auth": "${b64(`u:${SECRET}`)}"}`);
    const bad = await loadCredentials('x', { env: s.env }).catch((e: unknown) => e);
    expect(isInvalidArgument(bad)).toBe(true);
    expect((bad as Error).message).toContain(join(s.docker, 'config.json'));
    expect(
      JSON.stringify({ m: (bad as Error).message, d: (bad as { details: unknown }).details }),
    ).not.toContain(b64(`u:${SECRET}`));

    s.helper('broken', {}, true);
    s.config({ credsStore: 'broken' });
    const failed = await loadCredentials('x', { env: s.env }).catch((e: unknown) => e);
    expect(isFailedPrecondition(failed)).toBe(true);
    expect((failed as Error).message).toMatch(/docker-credential-broken get exited with 1: keychain locked/);
    s.config({ credsStore: 'missing' });
    await expect(loadCredentials('x', { env: s.env })).rejects.toThrow(
      /docker-credential-missing is not installed/,
    );
  });
});

describe('saveCredentials and removeCredentials', () => {
  it('writes auths atomically with mode 0600, keeping other keys, and removes them again', async () => {
    const s = sandbox();
    s.config({ auths: { 'keep.example': { auth: b64('k:k') } }, psFormat: 'table' });
    const where = await saveCredentials(
      'localhost:5000',
      { username: 'alice', password: SECRET },
      { env: s.env },
    );
    const file = join(s.docker, 'config.json');
    expect(where).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      auths: Record<string, { auth: string }>;
      psFormat: string;
    };
    expect(saved.psFormat).toBe('table');
    expect(saved.auths['keep.example']).toBeDefined();
    expect(Buffer.from(saved.auths['localhost:5000']!.auth, 'base64').toString()).toBe(`alice:${SECRET}`);
    expect(await loadCredentials('localhost:5000', { env: s.env })).toEqual({
      username: 'alice',
      password: SECRET,
    });

    await saveCredentials('docker.io', { username: 'hub', identityToken: 'tok' }, { env: s.env });
    expect(JSON.parse(readFileSync(file, 'utf8')).auths['https://index.docker.io/v1/'].identitytoken).toBe(
      'tok',
    );

    expect(await removeCredentials('localhost:5000', { env: s.env })).toBe(true);
    expect(await removeCredentials('localhost:5000', { env: s.env })).toBe(false);
    expect(await loadCredentials('localhost:5000', { env: s.env })).toBeUndefined();
  });

  it('stores through the credential helper the config names', async () => {
    const s = sandbox();
    const read = s.helper('store');
    s.config({ credsStore: 'store' });
    expect(await saveCredentials('reg.example', { username: 'bob', password: 'pw' }, { env: s.env })).toBe(
      'docker-credential-store',
    );
    expect(read()).toEqual({ 'reg.example': { Username: 'bob', Secret: 'pw' } });
    expect(await loadCredentials('reg.example', { env: s.env })).toEqual({ username: 'bob', password: 'pw' });
    expect(JSON.parse(readFileSync(join(s.docker, 'config.json'), 'utf8')).auths).toBeUndefined();
    expect(await removeCredentials('reg.example', { env: s.env })).toBe(true);
    expect(read()).toEqual({});
  });
});
