// The shapes the transport sees of an HTTP exchange, shared by both clients (http.ts, http1.ts).

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
