// The built executable (bin/ocikit → bin/ocikit.js running dist/bundle/ocikit.cjs) and its code cache
// (decision 106). Needs `pnpm build`, as the README's test command does first.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/ocikit', import.meta.url));
const bundle = fileURLToPath(new URL('../../dist/bundle/ocikit.cjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ocikit-exe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const data = join(work, 'data.txt');
writeFileSync(data, 'hello world');
const expected = 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';

function ocikit(args: string[], cacheHome: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { ...process.env, XDG_CACHE_HOME: cacheHome } }, (error, stdout) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

describe('the ocikit executable', () => {
  const id = readFileSync(bundle, 'utf8').split('\n')[0]?.split(' ')[2] ?? '';
  const header = `ocikit-bundle ${id}\n`;
  const cacheOf = (home: string) => join(home, 'ocikit', `digest-${process.version}-${process.arch}.v8`);

  it('keeps a private code cache per command, made for this build, and runs the same with it', async () => {
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const home = join(work, 'fresh');
    const first = await ocikit(['digest', data], home);
    expect(first.stdout.trim()).toBe(expected);
    const cache = cacheOf(home);
    expect(readFileSync(cache).subarray(0, header.length).toString()).toBe(header);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'ocikit')).mode & 0o777).toBe(0o700);
    const before = readFileSync(cache);
    const second = await ocikit(['digest', data], home);
    expect(second.stdout.trim()).toBe(expected);
    expect(readFileSync(cache).equals(before)).toBe(true); // accepted, so not rewritten
  });

  it('replaces a cache V8 rejects or one made for another build', async () => {
    const home = join(work, 'stale');
    await ocikit(['digest', data], home);
    const cache = cacheOf(home);
    const bytecode = readFileSync(cache).subarray(header.length);
    const otherBuild = Buffer.concat([Buffer.from(`ocikit-bundle ${'0'.repeat(64)}\n`), bytecode]);
    for (const bad of [Buffer.from(`${header}not bytecode`), otherBuild]) {
      writeFileSync(cache, bad);
      const r = await ocikit(['digest', data], home);
      expect(r.stdout.trim()).toBe(expected);
      const now = readFileSync(cache);
      expect(now.subarray(0, header.length).toString()).toBe(header);
      expect(now.length).toBeGreaterThan(1000);
    }
  });

  it('neither reads nor writes caches in a directory others can write', async () => {
    const home = join(work, 'shared');
    await ocikit(['digest', data], home);
    const cache = cacheOf(home);
    writeFileSync(cache, `${header}planted`);
    chmodSync(join(home, 'ocikit'), 0o777);
    const r = await ocikit(['digest', data], home);
    expect(r.stdout.trim()).toBe(expected);
    expect(readFileSync(cache, 'utf8')).toBe(`${header}planted`);
  });

  it('replaces a cache file others could write, inside its own private directory', async () => {
    const home = join(work, 'loose');
    await ocikit(['digest', data], home);
    const cache = cacheOf(home);
    writeFileSync(cache, `${header}planted`);
    chmodSync(cache, 0o666);
    const r = await ocikit(['digest', data], home);
    expect(r.stdout.trim()).toBe(expected);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(readFileSync(cache).length).toBeGreaterThan(1000);
  });

  it('writes no cache for --help, --version or a failed run', async () => {
    const home = join(work, 'help');
    expect((await ocikit(['digest', '--help'], home)).code).toBe(0);
    expect((await ocikit(['--version'], home)).stdout).toMatch(/^ocikit /);
    expect((await ocikit(['digest', join(work, 'no-such-file')], home)).code).not.toBe(0);
    expect(() => statSync(cacheOf(home))).toThrow();
  });

  it("prints its package's version, built into the bundle", async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = await ocikit(['--version'], join(work, 'version'));
    expect(r.stdout).toBe(`ocikit ${pkg.version}\n`);
    // the loader and the bundle alone, with no package.json beside them: the build names its version
    const alone = join(work, 'alone');
    mkdirSync(join(alone, 'bin'), { recursive: true });
    mkdirSync(join(alone, 'dist', 'bundle'), { recursive: true });
    copyFileSync(
      fileURLToPath(new URL('../../bin/ocikit.js', import.meta.url)),
      join(alone, 'bin', 'ocikit.js'),
    );
    copyFileSync(bundle, join(alone, 'dist', 'bundle', 'ocikit.cjs'));
    const copied = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(alone, 'bin', 'ocikit.js'), '--version'], (error, stdout, stderr) =>
        error ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(copied).toBe(`ocikit ${pkg.version}\n`);
  });
});
