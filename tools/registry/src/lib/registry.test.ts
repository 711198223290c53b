import { createHash, randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { AbortedError, InvalidArgumentError, isUnavailable } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { startRegistry } from './registry.ts';

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Pushes a blob with plain fetch (POST then monolithic PUT) and returns its digest. */
async function pushBlob(url: string, repo: string, blob: Buffer, authorization?: string): Promise<string> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  await start.arrayBuffer();
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location') ?? '', url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: blob,
  });
  await put.arrayBuffer();
  expect(put.status).toBe(201);
  return digest;
}

describe('startRegistry', () => {
  it('anonymous: /v2/ answers 200 and a pushed blob can be pulled back', async () => {
    const registry = await startRegistry();
    try {
      expect(registry.url).toBe(`http://${registry.host}`);
      const res = await fetch(`${registry.url}/v2/`);
      expect(res.status).toBe(200);
      const blob = randomBytes(1000);
      const digest = await pushBlob(registry.url, 'anon/blob', blob);
      const got = await fetch(`${registry.url}/v2/anon/blob/blobs/${digest}`);
      expect(Buffer.from(await got.arrayBuffer()).equals(blob)).toBe(true);
      expect(registry.logs()).toContain('anon/blob');
      const mount = await fetch(
        `${registry.url}/v2/anon/other/blobs/uploads/?mount=${digest}&from=anon/blob`,
        { method: 'POST' },
      );
      await mount.arrayBuffer();
      expect(mount.status).toBe(201);
      expect(registry.logs()).toContain(
        `"POST /v2/anon/other/blobs/uploads/?mount=${digest}&from=anon/blob HTTP/1.1" 201`,
      );
    } finally {
      await registry.stop();
    }
    await expect(access(registry.dataDir)).rejects.toThrow();
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
  });

  it('basic: 401 with a Basic challenge, 200 with credentials, 401 with a wrong password', async () => {
    await using registry = await startRegistry({
      auth: 'basic',
      users: [
        { username: 'alice', password: 'a-secret' },
        { username: 'bob', password: 'b-secret' },
      ],
    });
    expect(registry.credentials).toEqual({ username: 'alice', password: 'a-secret' });
    const anon = await fetch(`${registry.url}/v2/`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('alice', 'a-secret') } })).status,
    ).toBe(200);
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('bob', 'b-secret') } })).status,
    ).toBe(200);
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('alice', 'wrong') } })).status,
    ).toBe(401);
  });

  it('token: Bearer challenge, issuer token accepted for a real blob push and pull, scopes recorded', async () => {
    await using registry = await startRegistry({ auth: 'token' });
    const issuer = registry.tokenIssuer;
    if (issuer === undefined) throw new Error('token mode must expose tokenIssuer');
    const { username, password } = registry.credentials;

    const anon = await fetch(`${registry.url}/v2/tok/blob/blobs/uploads/`, { method: 'POST' });
    expect(anon.status).toBe(401);
    const challenge = anon.headers.get('www-authenticate') ?? '';
    // distribution lists the actions in no fixed order (a Go map): pull,push or push,pull
    const [head, actions] = challenge.split(',scope=');
    expect(head).toBe(`Bearer realm="${issuer.realm}",service="${issuer.service}"`);
    expect(['"repository:tok/blob:pull,push"', '"repository:tok/blob:push,pull"']).toContain(actions);

    const scope = 'repository:tok/blob:pull,push';
    const tokenRes = await fetch(
      `${issuer.realm}?service=${issuer.service}&scope=${encodeURIComponent(scope)}`,
      {
        headers: { authorization: basic(username, password) },
      },
    );
    expect(tokenRes.status).toBe(200);
    const body = (await tokenRes.json()) as {
      token: string;
      access_token: string;
      expires_in: number;
      issued_at: string;
    };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
    expect(issuer.requests.at(-1)).toEqual({
      method: 'GET',
      scopes: [scope],
      service: issuer.service,
      username,
      grantType: undefined,
      status: 200,
    });

    const bearer = `Bearer ${body.token}`;
    const blob = randomBytes(5000);
    const digest = await pushBlob(registry.url, 'tok/blob', blob, bearer);
    const pulled = await fetch(`${registry.url}/v2/tok/blob/blobs/${digest}`, {
      headers: { authorization: bearer },
    });
    expect(pulled.status).toBe(200);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(blob)).toBe(true);

    // A token for another repository is refused by the registry.
    expect(
      (await fetch(`${registry.url}/v2/other/blobs/${digest}`, { headers: { authorization: bearer } }))
        .status,
    ).toBe(401);

    // The catalog needs `registry:catalog:*`: a repository token is refused, the issuer grants a
    // user the catalog scope, and the registry lists with it.
    expect((await fetch(`${registry.url}/v2/_catalog`, { headers: { authorization: bearer } })).status).toBe(
      401,
    );
    const catalogToken = (await (
      await fetch(
        `${issuer.realm}?service=${issuer.service}&scope=${encodeURIComponent('registry:catalog:*')}`,
        {
          headers: { authorization: basic(username, password) },
        },
      )
    ).json()) as { token: string };
    const catalog = await fetch(`${registry.url}/v2/_catalog`, {
      headers: { authorization: `Bearer ${catalogToken.token}` },
    });
    expect(catalog.status).toBe(200);
    expect(((await catalog.json()) as { repositories: string[] }).repositories).toContain('tok/blob');

    // Anonymous tokens carry pull only: pull works, push does not.
    const anonToken = (await (
      await fetch(`${issuer.realm}?service=${issuer.service}&scope=${encodeURIComponent(scope)}`)
    ).json()) as { token: string };
    const anonPull = await fetch(`${registry.url}/v2/tok/blob/blobs/${digest}`, {
      headers: { authorization: `Bearer ${anonToken.token}` },
    });
    expect(anonPull.status).toBe(200);
    await anonPull.arrayBuffer();
    const anonPush = await fetch(`${registry.url}/v2/tok/blob/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${anonToken.token}` },
    });
    expect(anonPush.status).toBe(401);

    // With anonymous pull switched off, the anonymous token grants nothing.
    issuer.anonymousPull = false;
    const noneToken = (await (
      await fetch(`${issuer.realm}?service=${issuer.service}&scope=${encodeURIComponent(scope)}`)
    ).json()) as { token: string };
    expect(
      (
        await fetch(`${registry.url}/v2/tok/blob/blobs/${digest}`, {
          headers: { authorization: `Bearer ${noneToken.token}` },
        })
      ).status,
    ).toBe(401);

    // offline_token=true with credentials adds a refresh token; anonymous requests never get one.
    const offline = (await (
      await fetch(
        `${issuer.realm}?service=${issuer.service}&scope=${encodeURIComponent(scope)}&offline_token=true`,
        {
          headers: { authorization: basic(username, password) },
        },
      )
    ).json()) as { refresh_token?: string };
    expect(typeof offline.refresh_token).toBe('string');
    const offlineAnon = (await (
      await fetch(`${issuer.realm}?service=${issuer.service}&offline_token=true`)
    ).json()) as {
      refresh_token?: string;
    };
    expect(offlineAnon.refresh_token).toBeUndefined();

    // Wrong credentials: the issuer answers 401 and records it.
    const bad = await fetch(`${issuer.realm}?service=${issuer.service}&scope=${encodeURIComponent(scope)}`, {
      headers: { authorization: basic(username, 'wrong') },
    });
    expect(bad.status).toBe(401);
    expect(issuer.requests.at(-1)?.status).toBe(401);
  });

  it('token: OAuth2 password grant gives a refresh token, and the refresh grant gives working tokens', async () => {
    await using registry = await startRegistry({ auth: 'token' });
    const issuer = registry.tokenIssuer;
    if (issuer === undefined) throw new Error('token mode must expose tokenIssuer');
    const { username, password } = registry.credentials;
    const scope = 'repository:oauth/blob:pull,push';
    const form = (fields: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    const first = await fetch(
      issuer.realm,
      form({
        grant_type: 'password',
        username,
        password,
        service: issuer.service,
        scope,
        client_id: 'ocikit',
      }),
    );
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as { access_token: string; refresh_token: string };
    expect(firstBody.refresh_token).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const second = await fetch(
      issuer.realm,
      form({
        grant_type: 'refresh_token',
        refresh_token: firstBody.refresh_token,
        service: issuer.service,
        scope,
        client_id: 'ocikit',
      }),
    );
    expect(second.status).toBe(200);
    const secondBody = (await second.json()) as { access_token: string };
    const blob = randomBytes(100);
    const digest = await pushBlob(registry.url, 'oauth/blob', blob, `Bearer ${secondBody.access_token}`);
    expect(digest).toMatch(/^sha256:/);
    expect(issuer.requests.map((r) => [r.method, r.grantType, r.username, r.scopes])).toEqual([
      ['POST', 'password', username, [scope]],
      ['POST', 'refresh_token', username, [scope]],
    ]);

    expect(
      (
        await fetch(
          issuer.realm,
          form({ grant_type: 'refresh_token', refresh_token: 'bogus', service: issuer.service }),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await fetch(
          issuer.realm,
          form({ grant_type: 'password', username, password: 'wrong', service: issuer.service }),
        )
      ).status,
    ).toBe(401);
  });

  it('is not ready when another server answers on its port: a port in use fails, never another registry', async () => {
    // another registry (any server) already on the port: the new one cannot listen, and the answer
    // /v2/ gives there must not pass for its own (an anonymous registry taken for a Basic one)
    const other = await startRegistry();
    try {
      const port = Number(other.host.split(':')[1]);
      const e = await startRegistry({ auth: 'basic', port }).then(
        async (wrong) => {
          await wrong.stop();
          return new Error(`started on ${wrong.host}, where the other registry answers`);
        },
        (err: unknown) => err,
      );
      expect(isUnavailable(e), String(e)).toBe(true);
      expect(String(e)).toMatch(/address already in use/);
    } finally {
      await other.stop();
    }
  });

  it('rejects bad options with InvalidArgumentError and an aborted signal with AbortedError', async () => {
    await expect(startRegistry({ users: [] })).rejects.toThrow(InvalidArgumentError);
    await expect(
      startRegistry({ auth: 'basic', users: [{ username: 'a:b', password: 'x' }] }),
    ).rejects.toThrow(/user name "a:b" must be non-empty without colons/);
    await expect(startRegistry({ auth: 'ldap' as 'none' })).rejects.toThrow(
      /auth must be none, basic or token, not "ldap"/,
    );
    await expect(startRegistry({ signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
  });
});
