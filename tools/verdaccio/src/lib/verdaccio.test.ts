import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgumentError } from '@ocikit/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningVerdaccio, startVerdaccio } from './verdaccio.ts';

const run = promisify(execFile);

describe('startVerdaccio', () => {
  let registry: RunningVerdaccio;
  let work: string;
  beforeAll(async () => {
    registry = await startVerdaccio({ uplink: false });
    work = await mkdtemp(join(tmpdir(), 'ocikit-verdaccio-test-'));
  });
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function writePackage(name: string): Promise<string> {
    const dir = join(work, name.replace('/', '+'));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
    await writeFile(join(dir, 'index.js'), 'module.exports = 42;\n');
    return dir;
  }

  it('listens on loopback and writes an npmrc with the token', async () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const npmrc = await readFile(registry.npmrc, 'utf8');
    expect(npmrc).toContain(`registry=${registry.url}\n`);
    expect(npmrc).toContain(`:_authToken=${registry.token}`);
    const res = await fetch(`${registry.url}-/whoami`, {
      headers: { authorization: `Bearer ${registry.token}` },
    });
    expect(await res.json()).toEqual({ username: registry.username });
  });

  it('takes a publish with the token, and serves it to an install', async () => {
    const dir = await writePackage('@ocikit/fixture-probe');
    const env = registry.env();
    await run('npm', ['publish'], { cwd: dir, env });
    expect(existsSync(join(registry.storage, '@ocikit', 'fixture-probe'))).toBe(true);
    const project = join(work, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), '{"name":"p","private":true}');
    await run('npm', ['install', '--no-audit', '--no-fund', '@ocikit/fixture-probe@1.0.0'], {
      cwd: project,
      env,
    });
    const { stdout } = await run(process.execPath, ['-p', "require('@ocikit/fixture-probe')"], {
      cwd: project,
    });
    expect(stdout.trim()).toBe('42');
  });

  it('refuses a publish without the token', async () => {
    const dir = await writePackage('@ocikit/fixture-anonymous');
    const npmrc = join(work, 'anonymous-npmrc');
    await writeFile(npmrc, `registry=${registry.url}\n`);
    const publish = run('npm', ['publish'], {
      cwd: dir,
      env: { ...registry.env(), NPM_CONFIG_USERCONFIG: npmrc },
    });
    await expect(publish).rejects.toThrow(/E401|ENEEDAUTH|401/);
    const res = await fetch(`${registry.url}@ocikit%2ffixture-anonymous`);
    expect(res.status).toBe(404);
  });

  it('answers 404 for a package it does not store, with no uplink', async () => {
    const res = await fetch(`${registry.url}zod`);
    expect(res.status).toBe(404);
  });

  it('removes its storage on stop', async () => {
    const other = await startVerdaccio({ uplink: false });
    await other.stop();
    expect(existsSync(other.storage)).toBe(false);
    await expect(fetch(`${other.url}-/ping`)).rejects.toThrow();
  });

  it('rejects a bad uplink', async () => {
    await expect(startVerdaccio({ uplink: 'ftp://x' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
