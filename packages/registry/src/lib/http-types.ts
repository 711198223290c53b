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
}

/** An error with a Node-style `code`, as the transport's retry rules read them. */
export function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A body with at most this much left is read to its end to keep the connection; a longer one drops it. */
export const MAX_DUMP = 128 * 1024;
