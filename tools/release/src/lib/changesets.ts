import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PublicPackage } from './workspace.ts';

/** One pending changeset: its file, the bump per package, and its text. */
export interface Changeset {
  file: string;
  releases: Record<string, string>;
  summary: string;
}

/** The pending changesets in a `.changeset` directory (frontmatter `"@scope/name": bump`). */
export function readChangesets(dir: string): Changeset[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      const releases: Record<string, string> = {};
      for (const line of (match?.[1] ?? '').split('\n')) {
        const entry = /^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch|none)\s*$/.exec(line);
        if (entry?.[1] !== undefined && entry[2] !== undefined) releases[entry[1]] = entry[2];
      }
      return { file, releases, summary: (match?.[2] ?? '').trim() };
    });
}

/**
 * What is wrong with the pending changesets for a first release: every public package never
 * released (version 0.0.0) must have exactly one `first-release-<dir>.md`, a `minor` entry for that
 * package alone saying "First release." (so its CHANGELOG starts with one honest description, not
 * a history of a package nobody installed), and no changeset may take it to 1.0.0 (`major`).
 * Changesets for released packages, and later ones for unreleased packages, are fine.
 */
export function firstReleaseProblems(dir: string, packages: PublicPackage[]): string[] {
  const changesets = readChangesets(dir);
  const problems: string[] = [];
  for (const pkg of packages) {
    const name = pkg.manifest.name;
    if (pkg.manifest.version !== '0.0.0') continue;
    const file = `first-release-${pkg.dirName}.md`;
    const first = changesets.find((c) => c.file === file);
    if (first === undefined) {
      problems.push(`${name} was never released and has no .changeset/${file}`);
    } else {
      if (JSON.stringify(first.releases) !== JSON.stringify({ [name]: 'minor' })) {
        problems.push(`.changeset/${file} must release ${name} alone, as minor`);
      }
      if (!first.summary.startsWith('First release.'))
        problems.push(`.changeset/${file} must start "First release."`);
    }
    const others = changesets.filter(
      (c) => c !== first && c.summary.startsWith('First release') && name in c.releases,
    );
    for (const c of others) problems.push(`.changeset/${c.file} is a second first-release entry for ${name}`);
    for (const c of changesets) {
      if (c.releases[name] === 'major')
        problems.push(`.changeset/${c.file} takes never-released ${name} to 1.0.0`);
    }
  }
  return problems;
}
