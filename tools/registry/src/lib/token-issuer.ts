import { execFile } from 'node:child_process';
import { createPrivateKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A user the token issuer (and the htpasswd file) accepts. */
export interface Credentials {
  /** User name. */
  username: string;
  /** Password, in clear text (test fixture only). */
  password: string;
}

/** One request the token issuer answered, recorded so tests can assert the scopes a client asked for. */
export interface TokenRequest {
  /** `GET` (Docker token flow) or `POST` (OAuth2 form flow). */
  method: 'GET' | 'POST';
  /** Every `scope` value requested, split on spaces, in order. */
  scopes: string[];
  /** The `service` parameter, if sent. */
  service: string | undefined;
  /** The authenticated user name, or undefined for anonymous requests. */
  username: string | undefined;
  /** The OAuth2 `grant_type` for POST requests. */
  grantType: string | undefined;
  /** The HTTP status the issuer answered with. */
  status: number;
}

/** One access entry of a registry token (`access` claim). */
export interface AccessEntry {
  /** Resource type, e.g. `repository`. */
  type: string;
  /** Resource name, e.g. `library/busybox`. */
  name: string;
  /** Granted actions, e.g. `['pull', 'push']`. */
  actions: string[];
}

/** Options of {@link startTokenIssuer}. */
export interface TokenIssuerOptions {
  /** Directory for the key and certificate (created by the caller). */
  dir: string;
  /** Users accepted with Basic credentials or the OAuth2 password grant. */
  users: Credentials[];
  /** The `service` (JWT `aud`) the registry is configured with. */
  service: string;
  /** The `issuer` (JWT `iss`) the registry is configured with. */
  issuer: string;
  /** Grant `pull` to anonymous requests (default true). */
  anonymousPull?: boolean;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

/** A running token issuer. */
export interface TokenIssuer {
  /** The realm URL, `http://127.0.0.1:PORT/token`. */
  realm: string;
  /** The service name (JWT `aud`). */
  service: string;
  /** The issuer name (JWT `iss`). */
  issuer: string;
  /** Path of the PEM certificate the registry trusts (`rootcertbundle`). */
  certificatePath: string;
  /** Every request answered so far, oldest first. */
  requests: TokenRequest[];
  /** Whether anonymous requests get `pull`; tests may switch it at run time. */
  anonymousPull: boolean;
  /** Signs a token with the given access entries (for tests that craft tokens directly). */
  issue(access: AccessEntry[], subject?: string): string;
  /** Stops the HTTP server. */
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Parses `repository:NAME:pull,push` (NAME may contain colons for ports) into an access entry. */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== ''),
  };
}

function basicUser(req: IncomingMessage, users: Credentials[]): Credentials | undefined | null {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return users.find((u) => u.username === username && u.password === password) ?? null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Writes a fresh RSA key and a self-signed certificate for it (valid two days) with
 * `openssl req -x509`; `ip` adds an IP subject alternative name, for TLS servers.
 */
export async function selfSignedCertificate(options: {
  keyPath: string;
  certificatePath: string;
  name: string;
  ip?: string;
  /** More `-addext` extensions (e.g. `basicConstraints=critical,CA:TRUE` for a CA). */
  extensions?: string[];
}): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    options.keyPath,
    '-out',
    options.certificatePath,
    '-days',
    '2',
    '-subj',
    `/CN=${options.name}`,
    ...(options.ip ? ['-addext', `subjectAltName=IP:${options.ip}`] : []),
    ...(options.extensions ?? []).flatMap((e) => ['-addext', e]),
  ]);
}

/**
 * Starts a small Docker-registry token issuer on a free loopback port with a fresh self-signed
 * certificate (made with `openssl req -x509`). Tokens are RS256 JWTs with an `x5c` header, as
 * distribution 2.8 expects.
 *
 * @example
 * const issuer = await startTokenIssuer({ dir, users, service: 'reg', issuer: 'iss' });
 */
export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const keyPath = join(options.dir, 'token.key');
  const certificatePath = join(options.dir, 'token.crt');
  await selfSignedCertificate({ keyPath, certificatePath, name: 'ocikit-test-token-issuer' });
  const key: KeyObject = createPrivateKey(await readFile(keyPath));
  const pem = await readFile(certificatePath, 'utf8');
  const der = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const expiresIn = options.expiresIn ?? 300;
  const refreshTokens = new Map<string, string>();

  const issue = (access: AccessEntry[], subject = ''): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der] };
    const claims = {
      iss: options.issuer,
      sub: subject,
      aud: options.service,
      exp: now + expiresIn,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
  };

  const issuerState: TokenIssuer = {
    realm: '',
    service: options.service,
    issuer: options.issuer,
    certificatePath,
    requests: [],
    anonymousPull: options.anonymousPull ?? true,
    issue,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const grant = (scopes: string[], user: string | undefined): AccessEntry[] => {
    const access: AccessEntry[] = [];
    for (const scope of scopes) {
      const entry = parseScope(scope);
      if (entry === undefined) continue;
      if (user === undefined) {
        if (!issuerState.anonymousPull) continue;
        entry.actions = entry.actions.filter((a) => a === 'pull');
        if (entry.actions.length === 0) continue;
      }
      access.push(entry);
    }
    return access;
  };

  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record = (entry: Omit<TokenRequest, 'method'>): void => {
      issuerState.requests.push({ method: req.method === 'POST' ? 'POST' : 'GET', ...entry });
    };
    if (url.pathname !== '/token') return answer(res, 404, { error: 'not found' });
    let scopes: string[];
    let service: string | undefined;
    let username: string | undefined;
    let grantType: string | undefined;
    let offline = false;
    if (req.method === 'GET') {
      scopes = url.searchParams
        .getAll('scope')
        .flatMap((s) => s.split(' '))
        .filter((s) => s !== '');
      service = url.searchParams.get('service') ?? undefined;
      offline = url.searchParams.get('offline_token') === 'true';
      const user = basicUser(req, options.users);
      if (user === null) {
        record({ scopes, service, username: undefined, grantType, status: 401 });
        res.setHeader('www-authenticate', 'Basic realm="ocikit-test-token-issuer"');
        return answer(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
      }
      username = user?.username;
    } else if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
      service = form.get('service') ?? undefined;
      grantType = form.get('grant_type') ?? undefined;
      offline = true;
      if (grantType === 'password') {
        const user = options.users.find(
          (u) => u.username === form.get('username') && u.password === form.get('password'),
        );
        if (user === undefined) {
          record({ scopes, service, username: undefined, grantType, status: 401 });
          return answer(res, 401, { error: 'invalid_grant' });
        }
        username = user.username;
      } else if (grantType === 'refresh_token') {
        username = refreshTokens.get(form.get('refresh_token') ?? '');
        if (username === undefined) {
          record({ scopes, service, username: undefined, grantType, status: 401 });
          return answer(res, 401, { error: 'invalid_grant' });
        }
      } else {
        record({ scopes, service, username: undefined, grantType, status: 400 });
        return answer(res, 400, { error: 'unsupported_grant_type' });
      }
    } else {
      return answer(res, 405, { error: 'method not allowed' });
    }
    record({ scopes, service, username, grantType, status: 200 });
    const token = issue(grant(scopes, username), username ?? '');
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date().toISOString(),
    };
    if (offline && username !== undefined) {
      const refresh = randomBytes(24).toString('base64url');
      refreshTokens.set(refresh, username);
      body.refresh_token = refresh;
    }
    answer(res, 200, body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) answer(res, 500, { error: 'internal' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  issuerState.realm = `http://127.0.0.1:${port}/token`;
  return issuerState;
}
