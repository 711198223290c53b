import type { RequestEvent } from '@ocikit/registry';

/** Registry settings for pulls and pushes the local engine makes (the CLI's registry flags). */
export interface LocalRegistryOptions {
  /** Use plain HTTP for every registry. */
  plainHttp?: boolean | undefined;
  /** Skip TLS verification for every registry. */
  insecure?: boolean | undefined;
  /** Extra CA certificates (a PEM file). */
  caFile?: string | undefined;
  /** One certificates directory for every registry (`*.crt`, `*.cert`/`*.key`), instead of certs.d. */
  certDir?: string | undefined;
  /** Blobs a pull or push transfers at once (default 8). */
  concurrency?: number | undefined;
  /** Called after every HTTP exchange with a registry (method, URL, status, time; never credentials), for `--debug`. */
  onRequest?: ((event: RequestEvent) => void) | undefined;
  /**
   * The containers-policy.json(5) file pulls are checked against (`--signature-policy`); default
   * `$HOME/.config/containers/policy.json`, else `/etc/containers/policy.json`, else no check.
   */
  signaturePolicy?: string | undefined;
  /**
   * A sigstore trusted root file (trusted_root.json) whose CT logs check keyless signatures'
   * certificate SCTs (decision 177).
   */
  sigstoreTrustedRoot?: string | undefined;
}

/** How a local engine is set up. */
export interface LocalEngineOptions {
  /** The state root: `content/` (the image store), `snapshots/`, `containers/`, … */
  root: string;
  /** Environment to read settings from (`HOME`, `XDG_*`, `REGISTRY_AUTH_FILE`, proxies); default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Registry settings for pulls and pushes. */
  registry?: LocalRegistryOptions | undefined;
  /** The OCI runtime containers use unless their spec names one (default `runc`). */
  runtime?: string | undefined;
}

/** The resolved settings every part of the local engine shares. */
export interface LocalContext {
  /** The state root. */
  root: string;
  /** The environment settings are read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Registry settings. */
  registry: LocalRegistryOptions;
  /** The default runtime. */
  runtime: string;
}

/** Fills in the defaults of {@link LocalEngineOptions}. */
export function localContext(options: LocalEngineOptions): LocalContext {
  return {
    root: options.root,
    env: options.env ?? process.env,
    registry: options.registry ?? {},
    runtime: options.runtime ?? 'runc',
  };
}
