import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { firstReleaseProblems, readChangesets } from './changesets.ts';
import { type PublicPackage, publicPackages } from './workspace.ts';

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function changesetDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-changesets-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
const pkg = (dirName: string, version = '0.0.0'): PublicPackage => ({
  dirName,
  dir: `/nowhere/${dirName}`,
  manifest: { name: `@ocikit/${dirName}`, version },
});
const entry = (releases: string, text: string) => `---\n${releases}\n---\n\n${text}\n`;

describe('the repository pending changesets', () => {
  it('give every never-released package one honest first-release entry', () => {
    expect(firstReleaseProblems(join(root, '.changeset'), publicPackages(root))).toEqual([]);
  });

  it('version packages independently: no fixed or linked groups, private tools left alone', () => {
    const config = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8')) as {
      fixed: unknown[];
      linked: unknown[];
      privatePackages?: { version: boolean };
    };
    expect(config.fixed).toEqual([]);
    expect(config.linked).toEqual([]);
    expect(config.privatePackages?.version).toBe(false);
  });
});

describe('firstReleaseProblems', () => {
  it('reads the frontmatter of each changeset', () => {
    const dir = changesetDir({ 'a.md': entry('"@ocikit/a": minor\n\'@ocikit/b\': patch', 'Text.') });
    expect(readChangesets(dir)).toEqual([
      { file: 'a.md', releases: { '@ocikit/a': 'minor', '@ocikit/b': 'patch' }, summary: 'Text.' },
    ]);
  });

  it('wants a first-release entry per never-released package, and none for released ones', () => {
    const dir = changesetDir({ 'a-initial.md': entry('"@ocikit/a": minor', 'Initial.') });
    expect(firstReleaseProblems(dir, [pkg('a'), pkg('b', '0.1.0')])).toEqual([
      '@ocikit/a was never released and has no .changeset/first-release-a.md',
    ]);
  });

  it('refuses a first-release entry that bumps other packages, or is not minor, or does not say so', () => {
    const dir = changesetDir({
      'first-release-a.md': entry('"@ocikit/a": minor\n"@ocikit/b": minor', 'First release. A.'),
      'first-release-b.md': entry('"@ocikit/b": patch', 'B, on undici.'),
    });
    expect(firstReleaseProblems(dir, [pkg('a'), pkg('b')])).toEqual([
      '.changeset/first-release-a.md must release @ocikit/a alone, as minor',
      '.changeset/first-release-b.md must release @ocikit/b alone, as minor',
      '.changeset/first-release-b.md must start "First release."',
      '.changeset/first-release-a.md is a second first-release entry for @ocikit/b',
    ]);
  });

  it('refuses a major bump of a never-released package, and accepts later changesets beside the entry', () => {
    const dir = changesetDir({
      'first-release-a.md': entry('"@ocikit/a": minor', 'First release. A.'),
      'a-later.md': entry('"@ocikit/a": patch', 'A fix made after the fold.'),
      'a-breaking.md': entry('"@ocikit/a": major', 'Breaks.'),
    });
    expect(firstReleaseProblems(dir, [pkg('a')])).toEqual([
      '.changeset/a-breaking.md takes never-released @ocikit/a to 1.0.0',
    ]);
  });
});
