import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, isUnavailable } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { engineSession } from './engine.ts';
import { runCli } from './test-cli.ts';

const root = mkdtempSync(join(tmpdir(), 'ocikit-engine-'));

describe('engineSession', () => {
  it('is the local engine on the state root when nothing names another, connected once', async () => {
    const session = engineSession({ root, env: {} });
    expect(await session.host()).toEqual({ driver: 'local', address: `local:${root}`, source: 'default' });
    const engine = await session.engine();
    expect(engine.engine).toBe('local');
    expect(engine.address).toBe(`local:${root}`);
    expect(await session.engine()).toBe(engine);
    expect(await session.engine({})).toBe(engine);
    // other registry settings: a local engine of their own
    const insecure = await session.engine({ registry: { insecure: true } });
    expect(insecure).not.toBe(engine);
    expect(await session.engine({ registry: { insecure: true } })).toBe(insecure);
    await session.close();
    // closed: the next call connects again
    expect(await session.engine()).not.toBe(engine);
    await session.close();
  });

  it('gives local: the state root, so --root holds for it; local:/dir names its own', async () => {
    expect(await engineSession({ root, host: 'local:', env: {} }).host()).toMatchObject({
      address: `local:${root}`,
    });
    expect(await engineSession({ root, host: 'local:/srv/x', env: {} }).host()).toMatchObject({
      address: 'local:/srv/x',
    });
    // a relative --root is made absolute (the local driver takes absolute roots only)
    const rel = engineSession({ root: 'state', env: {} });
    expect((await rel.host()).address).toBe(`local:${join(process.cwd(), 'state')}`);
  });

  it('takes --host over CONTAINER_HOST over DOCKER_HOST, with their drivers', async () => {
    const env = { CONTAINER_HOST: 'unix:///run/p.sock', DOCKER_HOST: 'unix:///run/d.sock' };
    expect(await engineSession({ root, host: 'tcp://127.0.0.1:1', env }).host()).toMatchObject({
      driver: 'docker',
      source: 'flag',
    });
    expect(await engineSession({ root, env }).host()).toMatchObject({ driver: 'podman' });
    expect(await engineSession({ root, env: { DOCKER_HOST: env.DOCKER_HOST } }).host()).toMatchObject({
      driver: 'docker',
    });
  });

  it('fails a bad address with InvalidArgumentError, and a dead socket as unavailable', async () => {
    await expect(engineSession({ root, host: '/var/run/docker.sock', env: {} }).engine()).rejects.toThrow(
      InvalidArgumentError,
    );
    const dead = engineSession({ root, host: `unix://${join(root, 'none.sock')}`, env: {} });
    const e = await dead.engine().then(
      async (engine) => engine.system.ping(),
      (err: unknown) => err,
    );
    expect(isUnavailable(e), String(e)).toBe(true);
    expect(e).toMatchObject({ details: { engine: 'docker', reason: 'engine-unreachable' } });
    await dead.close();
  });
});

describe('ocikit --host / -H', () => {
  it('takes its value before the command (-H ADDR is not the command name)', async () => {
    const r = await runCli(['-H', 'unix:///run/none.sock', 'digest', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: ocikit digest');
    expect(r.stdout).toMatch(/-H, --host VALUE/);
    const long = await runCli(['--host', 'unix:///run/none.sock', '--version']);
    expect(long.code).toBe(0);
  });
});
