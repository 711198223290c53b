// Registry authentication, the transport's upper half (as containerd's remotes/docker/auth and
// go-containerregistry's transport.bearer): challenges learnt from 401s, Basic credentials,
// Bearer tokens per scope set (cached until they expire, refreshed with an identity token where
// one is known), and the `docker login` exchange for an identity token.
import { isOcikitError, truncate, UnauthenticatedError, UnavailableError } from '@ocikit/errors';
import type { Credential } from './credentials.ts';
import { responseError } from './errors.ts';
import type { HttpResponse } from './http.ts';
import { type RegistryRequest, type RegistryResponse, readBody } from './request.ts';
import { type AuthChallenge, parseWwwAuthenticate } from './www-authenticate.ts';

/** Where credentials for a registry come from: fixed, or looked up per registry host. */
export type CredentialSource =
  | Credential
  | ((registry: string, options: { signal?: AbortSignal }) => Promise<Credential | undefined>);

/** One request to a token service (never retried: a refused credential must not be resent). */
export type TokenRequester = (
  method: 'GET' | 'POST',
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  body?: string,
) => Promise<HttpResponse>;

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

const MAX_TOKEN_BODY = 1024 * 1024;

/** The `Authorization` value for Basic auth. */
export function basicAuth(cred: Credential): string {
  return `Basic ${Buffer.from(`${cred.username ?? ''}:${cred.password ?? ''}`).toString('base64')}`;
}

/** The challenges, credentials and tokens of one transport, per registry host. */
export class Authenticator {
  readonly #source: CredentialSource | undefined;
  readonly #request: TokenRequester;
  readonly #challenges = new Map<string, AuthChallenge | null>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();
  readonly #credentials = new Map<string, Promise<Credential | undefined>>();

  constructor(source: CredentialSource | undefined, request: TokenRequester) {
    this.#source = source;
    this.#request = request;
  }

  #credentialFor(registry: string, signal?: AbortSignal): Promise<Credential | undefined> {
    const source = this.#source;
    if (source === undefined) return Promise.resolve(undefined);
    if (typeof source !== 'function') return Promise.resolve(source);
    let p = this.#credentials.get(registry);
    if (!p) {
      p = source(registry, signal ? { signal } : {});
      this.#credentials.set(registry, p);
      p.catch(() => this.#credentials.delete(registry));
    }
    return p;
  }

  /** Remembers the best challenge of a 401 (Bearer with a realm, else Basic) for the registry. */
  learnChallenge(registry: string, headers: RegistryResponse['headers']): AuthChallenge | undefined {
    const raw = headers['www-authenticate'];
    const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    let chosen: AuthChallenge | undefined;
    for (const v of values) {
      let parsed: AuthChallenge[];
      try {
        parsed = parseWwwAuthenticate(v);
      } catch {
        continue;
      }
      chosen =
        parsed.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined) ??
        parsed.find((c) => c.scheme === 'basic') ??
        chosen;
    }
    if (chosen) this.#challenges.set(registry, chosen);
    return chosen;
  }

  /** The Authorization header for a request, fetching a token if needed; undefined when anonymous. */
  async authorization(req: RegistryRequest, force: boolean): Promise<string | undefined> {
    const challenge = this.#challenges.get(req.registry);
    if (!challenge) return undefined;
    const cred = await this.#credentialFor(req.registry, req.signal ?? undefined);
    if (challenge.scheme === 'basic') {
      if (cred?.username === undefined || cred.password === undefined) return undefined;
      return basicAuth(cred);
    }
    if (cred?.registryToken !== undefined) return `Bearer ${cred.registryToken}`;
    const scopes = [...new Set(req.scopes)].sort();
    const key = `${req.registry}|${scopes.join(' ')}`;
    const cached = this.#tokens.get(key);
    if (!force && cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return `Bearer ${token.token}`;
      if (this.#tokens.get(key) !== cached) return this.authorization(req, false);
    }
    // One token request per scope set at a time: concurrent requests share it.
    const pending = this.#fetchToken(req, challenge, scopes, cred);
    this.#tokens.set(key, pending);
    pending.catch(() => {
      if (this.#tokens.get(key) === pending) this.#tokens.delete(key);
    });
    return `Bearer ${(await pending).token}`;
  }

  async #fetchToken(
    req: RegistryRequest,
    challenge: AuthChallenge,
    scopes: readonly string[],
    cred: Credential | undefined,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (realm === undefined) {
      throw new UnauthenticatedError(
        `${req.what}: ${req.registry} asked for a Bearer token but named no realm`,
      );
    }
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new UnauthenticatedError(
        `${req.what}: ${req.registry} named an invalid token realm: ${truncate(realm, 80)}`,
      );
    }
    if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') {
      throw new UnauthenticatedError(`${req.what}: unsupported token realm scheme ${realmUrl.protocol}`);
    }
    const service = challenge.params.service;
    const what = `token for ${req.registry}`;
    let data: HttpResponse | undefined;
    try {
      if (cred?.identityToken !== undefined) {
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: cred.identityToken,
          client_id: 'ocikit',
        });
        if (service !== undefined) form.set('service', service);
        if (scopes.length > 0) form.set('scope', scopes.join(' '));
        data = await this.#request(
          'POST',
          realmUrl,
          { 'content-type': 'application/x-www-form-urlencoded' },
          req.signal,
          form.toString(),
        );
        if (data.statusCode === 404 || data.statusCode === 405) {
          await data.body.dump().catch(() => {});
          data = undefined; // the issuer has no OAuth2 endpoint: fall back to the Docker token flow
        }
      }
      if (data === undefined) {
        const url = new URL(realmUrl);
        if (service !== undefined) url.searchParams.set('service', service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = {};
        if (cred?.username !== undefined && cred.password !== undefined) {
          url.searchParams.set('account', cred.username);
          headers.authorization = basicAuth(cred);
        }
        data = await this.#request('GET', url, headers, req.signal);
      }
    } catch (e) {
      if (isOcikitError(e)) throw e;
      throw new UnavailableError(
        `${what}: cannot reach the token service at ${realmUrl.origin}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    const text = (await readBody(data.body, MAX_TOKEN_BODY, what)).toString('utf8');
    if (data.statusCode === 401 || data.statusCode === 403) {
      throw new UnauthenticatedError(
        `${what}: the token service at ${realmUrl.origin} refused the credentials (${data.statusCode})`,
        {
          details: { reason: 'credentials-refused', registry: req.registry, status: data.statusCode },
          hint: 'check the credentials given for this registry',
        },
      );
    }
    if (data.statusCode !== 200) {
      throw responseError(data.statusCode, text, {
        method: 'GET',
        url: `${realmUrl.origin}${realmUrl.pathname}`,
        what,
      });
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new UnauthenticatedError(`${what}: the token service answered with something that is not JSON`);
    }
    const token = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new UnauthenticatedError(`${what}: the token service's answer holds no token`);
    }
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    const issued = typeof parsed.issued_at === 'string' ? Date.parse(parsed.issued_at) : Number.NaN;
    const start = Number.isNaN(issued) || issued > Date.now() ? Date.now() : issued;
    // Renew a little early so a token never expires in flight.
    return { token, expiresAt: start + expiresIn * 1000 - Math.min(10_000, (expiresIn * 1000) / 4) };
  }

  /**
   * The identity (refresh) token a Bearer challenge's token service gives for username and
   * password (`offline_token=true`, as `docker login`); undefined when it gives none.
   * UnauthenticatedError when the service refuses the credentials.
   */
  async identityToken(
    registry: string,
    challenge: AuthChallenge,
    credential: Credential,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const realm = challenge.params.realm;
    if (realm === undefined)
      throw new UnauthenticatedError(`login to ${registry}: the Bearer challenge names no realm`);
    const url = new URL(realm);
    if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('offline_token', 'true');
    url.searchParams.set('client_id', 'ocikit');
    url.searchParams.set('account', credential.username ?? '');
    const data = await this.#request('GET', url, { authorization: basicAuth(credential) }, signal);
    const text = (await readBody(data.body, MAX_TOKEN_BODY, `login to ${registry}`)).toString('utf8');
    if (data.statusCode !== 200) {
      throw new UnauthenticatedError(
        `login to ${registry}: the token service refused the credentials (${data.statusCode})`,
        {
          details: { status: data.statusCode },
        },
      );
    }
    try {
      const parsed = JSON.parse(text) as { refresh_token?: unknown };
      return typeof parsed.refresh_token === 'string' && parsed.refresh_token !== ''
        ? parsed.refresh_token
        : undefined;
    } catch {
      throw new UnauthenticatedError(
        `login to ${registry}: the token service answered with something that is not JSON`,
      );
    }
  }
}
