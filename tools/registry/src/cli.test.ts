import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

describe('ocikit-test-registry CLI', () => {
  it('start --auth basic prints URL and credentials as JSON, serves, and cleans up on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@ocikit/source', CLI, 'start', '--auth', 'basic', '--user', 'carol:c-pass'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.on('exit', (code) => reject(new Error(`cli exited ${code}`)));
    });
    const info = JSON.parse(line) as {
      url: string;
      auth: string;
      credentials: { username: string; password: string };
      dataDir: string;
    };
    expect(info.auth).toBe('basic');
    expect(info.credentials).toEqual({ username: 'carol', password: 'c-pass' });
    const authorization = `Basic ${Buffer.from('carol:c-pass').toString('base64')}`;
    expect((await fetch(`${info.url}/v2/`, { headers: { authorization } })).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(access(info.dataDir)).rejects.toThrow();
    await expect(fetch(`${info.url}/v2/`)).rejects.toThrow();
  });

  it('rejects an unknown auth mode with exit status 2', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@ocikit/source', CLI, 'start', '--auth', 'kerberos'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--auth must be none, basic or token, not "kerberos"');
  });
});
