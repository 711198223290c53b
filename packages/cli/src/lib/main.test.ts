import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRoot } from './main.ts';
import { runCli } from './test-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocikit-cli-'));

describe('ocikit (global behaviour)', () => {
  it("prints its package's version", async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(r.stdout).toBe(`ocikit ${pkg.version}\n`);
  });

  it('lists the commands on --help and fails without a command', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Commands:');
    expect(help.stdout).toContain('validate');
    const none = await runCli([]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Usage: ocikit');
  });

  it('shows a command its own help', async () => {
    const r = await runCli(['digest', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: ocikit digest');
    expect(r.stdout).toContain('--algorithm');
  });

  it('rejects an unknown command and an unknown flag with one line and no stack trace', async () => {
    const cmd = await runCli(['frobnicate']);
    expect(cmd.code).toBe(1);
    expect(cmd.stderr).toBe(`ocikit: unknown command "frobnicate" (run 'ocikit --help' for the list)\n`);
    const flag = await runCli(['digest', '--bogus']);
    expect(flag.code).toBe(1);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    expect(flag.stderr).toContain("'--bogus'");
    expect(flag.stderr).not.toMatch(/\n\s+at /);
  });

  it('shows the stack trace only with --debug', async () => {
    const r = await runCli(['--debug', 'digest', join(dir, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('resolveRoot', () => {
  it('prefers --root, then OCIKIT_ROOT, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(resolveRoot('/r', { OCIKIT_ROOT: '/o' })).toBe('/r');
    expect(resolveRoot(undefined, { OCIKIT_ROOT: '/o', XDG_DATA_HOME: '/x' })).toBe('/o');
    expect(resolveRoot(undefined, { XDG_DATA_HOME: '/x' })).toBe('/x/ocikit');
    expect(resolveRoot(undefined, { HOME: '/home/u' })).toBe('/home/u/.local/share/ocikit');
  });
});

describe('ocikit digest', () => {
  const file = join(dir, 'blob');
  const bytes = Buffer.from('hello, ocikit\n');
  writeFileSync(file, bytes);
  const sha256 = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

  it('digests a file, stdin, and with sha512', async () => {
    expect((await runCli(['digest', file])).stdout).toBe(`${sha256}\n`);
    expect((await runCli(['digest', '-'], { stdin: bytes })).stdout).toBe(`${sha256}\n`);
    expect((await runCli(['digest'], { stdin: bytes })).stdout).toBe(`${sha256}\n`);
    const sha512 = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
    expect((await runCli(['digest', '-a', 'sha512', file])).stdout).toBe(`${sha512}\n`);
  });

  it('prints JSON with --json', async () => {
    const r = await runCli(['--json', 'digest', file]);
    expect(JSON.parse(r.stdout)).toEqual({ digest: sha256, file });
  });

  it("takes a boolean flag's value as Docker does (--json=false), and --no-FLAG, but not after --", async () => {
    expect(JSON.parse((await runCli(['digest', '--json=true', file])).stdout)).toEqual({
      digest: sha256,
      file,
    });
    expect((await runCli(['--json', 'digest', '--json=false', file])).stdout).toBe(`${sha256}\n`);
    expect((await runCli(['--json', 'digest', '--no-json', file])).stdout).toBe(`${sha256}\n`);
    const after = await runCli(['digest', '--', '--json=false']);
    // taken as the thing to digest, as it was written
    expect(after.stderr).toContain('"--json=false"');
    const bad = await runCli(['digest', '--json=maybe', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--json');
  });

  it('names a missing file and an unknown algorithm', async () => {
    const missing = await runCli(['digest', join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(dir, 'nope')}: no such file or directory`);
    const alg = await runCli(['digest', '-a', 'md5', file]);
    expect(alg.code).toBe(1);
    expect(alg.stderr).toContain('md5');
  });
});

describe('the command list', () => {
  it('repeats each command summary exactly (kept in commands.ts so --help loads no command module)', async () => {
    const { commands } = await import('./commands.ts');
    for (const [name, entry] of Object.entries(commands)) {
      const command = await entry.load();
      expect(command.name).toBe(name);
      expect(command.summary).toBe(entry.summary);
    }
  });
});
