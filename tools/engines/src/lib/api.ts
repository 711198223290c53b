// Plain HTTP over an engine's unix socket (node:http with socketPath): enough for the fixtures to
// wait for an engine, read its version and clean up after it, without the driver under test.
import { request } from 'node:http';

/** An engine's answer: status and body text. */
export interface SocketResponse {
  /** HTTP status code. */
  status: number;
  /** The body as UTF-8 text. */
  body: string;
}

/**
 * Sends `method path` to the HTTP server on the unix socket `socketPath` and reads the whole answer.
 *
 * @example
 * const { status, body } = await socketRequest('/tmp/d/docker.sock', 'GET', '/_ping');
 */
export function socketRequest(
  socketPath: string,
  method: string,
  path: string,
  timeoutMs = 30_000,
): Promise<SocketResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method, path, timeout: timeoutMs, headers: { host: 'localhost' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Whether `GET /_ping` on the socket answers 200 `OK`. */
export async function pingOk(socketPath: string): Promise<boolean> {
  try {
    const res = await socketRequest(socketPath, 'GET', '/_ping', 2000);
    return res.status === 200 && res.body.trim() === 'OK';
  } catch {
    return false;
  }
}
