// What both HTTP clients (http.ts, http1.ts) share: the shapes the transport sees of an exchange,
// and errors with the Node-style `code` its retry rules read.

/** A response body: its bytes as an async iterable. */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  /** Reads and discards the rest (a small rest: the connection is kept), or drops the connection. */
  dump(): Promise<void>;
  /** Stops reading and closes the connection. */
  destroy(): void;
}

/** A response as the transport sees it. */
export interface HttpResponse {
  readonly statusCode: number;
  /** Lower-case names; a header sent more than once has every value, in order. */
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: ResponseBody;
}

/** A request body: bytes, a string, or a stream of bytes (sent once). */
export type HttpBody = Uint8Array | string | AsyncIterable<Uint8Array>;

/** TLS settings of one registry (certs.d, CA file, `insecure`), replacing the client's defaults. */
export interface ConnectTls {
  /** Trusted CAs (PEM), replacing Node's default set. */
  readonly ca?: readonly string[] | undefined;
  /** Client certificate chains (PEM) for mutual TLS, each with its key at the same index in `key`. */
  readonly cert?: readonly string[] | undefined;
  /** Private keys (PEM) of the client certificates. */
  readonly key?: readonly string[] | undefined;
  /** Skip certificate verification. */
  readonly insecure?: boolean | undefined;
}

/** One request as the transport hands it to a client. */
export interface HttpRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: HttpBody | undefined;
  signal?: AbortSignal | undefined;
  /** TLS for this request's origin (the same object for the same settings: connections are pooled by it). */
  tls?: ConnectTls | undefined;
  /** The HTTP proxy to go through (undici carries proxied requests), or undefined to connect directly. */
  proxy?: URL | undefined;
}

/** How the client connects. */
export interface HttpClientOptions {
  /** Connections kept per host. */
  connections: number;
  /** Milliseconds without progress (connecting, waiting for headers, between body bytes). */
  timeout: number;
  /** TLS: trusted CAs (PEM), replacing Node's default set. */
  ca?: string[];
  /** TLS: skip certificate verification. */
  insecure?: boolean;
  /** `undici`: every request through undici (for measuring it against our own client, decision 060). */
  engine?: 'builtin' | 'undici';
}

/** An error with a Node-style `code`, as the transport's retry rules read them. */
export function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A body with at most this much left is read to its end to keep the connection; a longer one drops it. */
export const MAX_DUMP = 128 * 1024;
