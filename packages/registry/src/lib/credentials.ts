import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { FailedPreconditionError, InvalidArgumentError, throwIfAborted } from '@ocikit/errors';

/** Credentials for one registry. */
export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker's `identitytoken`). */
  identityToken?: string;
  /** A bearer token sent as is (Docker's `registrytoken`). */
  registryToken?: string;
}

/** Where credentials are looked up; defaults to the process's environment and home directory. */
export interface CredentialStoreOptions {
  /** Docker's config directory (default `$DOCKER_CONFIG`, else `~/.docker`). */
  dockerConfig?: string;
  /** A Podman/containers auth file (default `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`). */
  authFile?: string;
  /** The environment to read `DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `HOME` and `PATH` from. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'registry-1.docker.io',
  'docker.io',
];

/** The host part of an `auths` key (`https://host/v1/` → `host`), as Docker's ConvertToHostname. */
function keyHost(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0] ?? key;
}

function normalizeRegistry(registry: string): string {
  const host = keyHost(registry);
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The `auths` keys under which a registry's entry may be stored. */
function matchesKey(key: string, registry: string): boolean {
  const host = normalizeRegistry(registry);
  if (host === 'docker.io') return DOCKER_HUB_KEYS.includes(key) || DOCKER_HUB_KEYS.includes(keyHost(key));
  return keyHost(key) === host;
}

/** The key `ocikit login` writes: Docker's for Docker Hub, the bare host otherwise. */
function storeKey(registry: string): string {
  const host = normalizeRegistry(registry);
  return host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
}

function envOf(options: CredentialStoreOptions): NodeJS.ProcessEnv {
  return options.env ?? process.env;
}

function dockerConfigPath(options: CredentialStoreOptions): string {
  const env = envOf(options);
  const dir = options.dockerConfig ?? (env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'));
  return join(dir, 'config.json');
}

function authFilePaths(options: CredentialStoreOptions): string[] {
  if (options.authFile !== undefined) return [options.authFile];
  const env = envOf(options);
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  return paths;
}

async function readConfig(path: string): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FailedPreconditionError(
      `cannot read the credentials file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // never quote the file: it holds secrets
    throw new InvalidArgumentError(`the credentials file ${path} is not valid JSON`, {
      details: { path },
      hint: 'fix or remove the file',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`the credentials file ${path} is not a JSON object`, {
      details: { path },
    });
  }
  return parsed as ConfigFile;
}

function fromEntry(entry: AuthEntry, path: string): Credential | undefined {
  const out: Credential = {};
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) {
      throw new InvalidArgumentError(`an "auth" entry in ${path} is not base64 of user:password`, {
        details: { path },
      });
    }
    out.username = decoded.slice(0, i);
    out.password = decoded.slice(i + 1);
  }
  if (typeof entry.username === 'string' && entry.username !== '') out.username = entry.username;
  if (typeof entry.password === 'string' && entry.password !== '') out.password = entry.password;
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '')
    out.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '')
    out.registryToken = entry.registrytoken;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin; its stdout, or undefined when it found nothing. */
async function runHelper(
  helper: string,
  action: 'get' | 'store' | 'erase',
  input: string,
  options: CredentialStoreOptions,
): Promise<string | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new InvalidArgumentError(`invalid credential helper name ${JSON.stringify(helper.slice(0, 40))}`);
  }
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    // node:child_process loads only when a credential helper is configured (~3–5 ms of start-up)
    const child = process.getBuiltinModule('node:child_process').spawn(program, [action], {
      env: envOf(options),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(
          new FailedPreconditionError(`the credential helper ${program} is not installed`, {
            hint: `install it, or remove it from your Docker config.json`,
          }),
        );
      } else
        reject(
          new FailedPreconditionError(
            `the credential helper ${program} failed to start: ${e.code ?? e.message}`,
          ),
        );
    });
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      // Helpers print "credentials not found in native keychain" on stdout for a missing entry.
      const said = `${stdout}\n${stderr}`;
      if (/credentials not found/i.test(said)) return resolve(undefined);
      const first = (stderr.trim() || stdout.trim()).split('\n')[0] ?? '';
      // The helper's own words, minus anything that looks like it could echo a secret back.
      const safe = first.length > 120 || /secret|password|token/i.test(first) ? '' : `: ${first}`;
      reject(
        new FailedPreconditionError(`the credential helper ${program} ${action} exited with ${code}${safe}`, {
          details: { helper: program, action, exitCode: code },
        }),
      );
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

async function helperGet(
  helper: string,
  registry: string,
  options: CredentialStoreOptions,
): Promise<Credential | undefined> {
  const out = await runHelper(helper, 'get', serverUrl(registry), options);
  if (out === undefined || out.trim() === '') return undefined;
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(out) as typeof parsed;
  } catch {
    throw new FailedPreconditionError(
      `the credential helper docker-credential-${helper} printed something that is not JSON`,
    );
  }
  const username = typeof parsed.Username === 'string' ? parsed.Username : '';
  const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
  if (secret === '') return undefined;
  return username === '<token>' ? { identityToken: secret } : { username, password: secret };
}

/** The server URL a helper is asked about: Docker's for Docker Hub, the host otherwise. */
function serverUrl(registry: string): string {
  return storeKey(registry);
}

/**
 * Finds the credentials for a registry host the way Podman and Docker do: the containers auth
 * file first (`REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`), then Docker's
 * `config.json` — in each, `credHelpers[host]`, then `auths` (any of the key forms Docker
 * accepts), then `credsStore`. Undefined when nothing is stored.
 *
 * @example
 * const cred = await loadCredentials('localhost:5000'); // { username, password } | undefined
 */
export async function loadCredentials(
  registry: string,
  options: CredentialStoreOptions = {},
): Promise<Credential | undefined> {
  const host = normalizeRegistry(registry);
  for (const path of [...authFilePaths(options), dockerConfigPath(options)]) {
    throwIfAborted(options.signal);
    const config = await readConfig(path);
    if (!config) continue;
    const helper =
      config.credHelpers?.[host] ??
      (host === 'docker.io' ? config.credHelpers?.['index.docker.io'] : undefined);
    if (typeof helper === 'string' && helper !== '') {
      const cred = await helperGet(helper, host, options);
      if (cred) return cred;
    }
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      if (!matchesKey(key, host) || typeof entry !== 'object' || entry === null) continue;
      const cred = fromEntry(entry, path);
      if (cred) return cred;
    }
    if (typeof config.credsStore === 'string' && config.credsStore !== '') {
      const cred = await helperGet(config.credsStore, host, options);
      if (cred) return cred;
    }
  }
  return undefined;
}

async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * Stores credentials as `ocikit login` does: through the credential helper Docker's config names
 * for the host (`credHelpers`, else `credsStore`), else in its `auths` (file 0600, written atomically,
 * other keys kept). Returns the file or helper used.
 */
export async function saveCredentials(
  registry: string,
  credential: Credential,
  options: CredentialStoreOptions = {},
): Promise<string> {
  const host = normalizeRegistry(registry);
  const path = dockerConfigPath(options);
  const config = (await readConfig(path)) ?? {};
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  if (typeof helper === 'string' && helper !== '') {
    const secret = credential.identityToken ?? credential.password ?? '';
    const username = credential.identityToken !== undefined ? '<token>' : (credential.username ?? '');
    await runHelper(
      helper,
      'store',
      JSON.stringify({ ServerURL: serverUrl(host), Username: username, Secret: secret }),
      options,
    );
    return `docker-credential-${helper}`;
  }
  const auths = { ...(config.auths ?? {}) };
  for (const key of Object.keys(auths)) if (matchesKey(key, host)) delete auths[key];
  const entry: AuthEntry = {};
  if (credential.identityToken !== undefined) {
    if (credential.username !== undefined)
      entry.auth = Buffer.from(`${credential.username}:`).toString('base64');
    entry.identitytoken = credential.identityToken;
  } else {
    entry.auth = Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64');
  }
  auths[storeKey(host)] = entry;
  await writeConfig(path, { ...config, auths });
  return path;
}

/**
 * Forgets a registry's credentials as `ocikit logout` does (the helper's `erase`, or the `auths`
 * entry); true when something was removed.
 */
export async function removeCredentials(
  registry: string,
  options: CredentialStoreOptions = {},
): Promise<boolean> {
  const host = normalizeRegistry(registry);
  const path = dockerConfigPath(options);
  const config = await readConfig(path);
  if (!config) return false;
  let removed = false;
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  if (typeof helper === 'string' && helper !== '') {
    if ((await runHelper(helper, 'erase', serverUrl(host), options)) !== undefined) removed = true;
  }
  const auths = { ...(config.auths ?? {}) };
  for (const key of Object.keys(auths)) {
    if (matchesKey(key, host)) {
      delete auths[key];
      removed = true;
    }
  }
  if (removed && config.auths) await writeConfig(path, { ...config, auths });
  return removed;
}
