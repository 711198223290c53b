// SIGINT during a pull names what was interrupted and exits 130, as shells expect (issue 19 item 10).
// The "registry" accepts connections and never answers: a real registry would not hang on cue.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'ocikit-interrupt-'));
let server: Server;
let port = 0;
const sockets: Socket[] = [];
let connected: () => void = () => {};

beforeAll(async () => {
  server = createServer((s) => {
    sockets.push(s);
    connected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe('SIGINT', () => {
  it('during a pull: "pull of REF interrupted", exit 130', async () => {
    const ref = `127.0.0.1:${port}/x:1`;
    const child = spawn(process.execPath, ['--conditions=@ocikit/source', bin, '--root', root, 'pull', ref], {
      env: { ...process.env, DOCKER_CONFIG: root, REGISTRY_AUTH_FILE: join(root, 'none.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // interrupt once the pull is waiting on the registry
    await new Promise<void>((resolve) => (connected = resolve));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe(`ocikit: pull of ${ref} interrupted\n`);
    expect(code).toBe(130);
  });
});
