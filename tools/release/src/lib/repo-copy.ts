import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const gitIdentity = ['-c', 'user.name=ocikit release test', '-c', 'user.email=release-test@ocikit.invalid'];

/**
 * Copies the repository's working tree (tracked and untracked files git does not ignore — no
 * node_modules, dist or caches) into a fresh temp directory, makes it a git repository of its own
 * with one commit (changesets reads commits and tags releases), and installs its dependencies from
 * the local pnpm store, offline. Returns the copy's root; the caller removes it.
 */
export function copyRepository(root: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'ocikit-release-repo-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter((f) => f !== '');
  for (const f of new Set(files)) {
    const from = join(root, f);
    if (!existsSync(from)) continue; // deleted in the working tree
    const to = join(copy, f);
    mkdirSync(dirname(to), { recursive: true });
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
  }
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: copy });
  execFileSync('git', ['add', '-A'], { cwd: copy });
  execFileSync('git', [...gitIdentity, 'commit', '-q', '-m', 'release test copy'], { cwd: copy });
  execFileSync('pnpm', ['install', '--offline', '--frozen-lockfile', '--reporter=silent'], {
    cwd: copy,
    stdio: 'pipe',
  });
  return copy;
}

/** Commits everything in a copy made by {@link copyRepository} (as a release PR would be merged). */
export function commitAll(copy: string, message: string): void {
  execFileSync('git', ['add', '-A'], { cwd: copy });
  execFileSync('git', [...gitIdentity, 'commit', '-q', '--allow-empty', '-m', message], { cwd: copy });
}
