/**
 * Packs every public package the way `pnpm publish` would, once, for the checks that look at the
 * tarballs (pack.ts, types.ts): `pnpm pack` into `<work>/<dir>/`, each tarball also unpacked into
 * `<work>/<dir>/package/`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One public package, packed. */
export interface Packed {
  /** The package's name, `@ocikit/x`. */
  readonly name: string;
  /** Its directory under packages/. */
  readonly dirName: string;
  /** The `.tgz` that `pnpm pack` wrote. */
  readonly tarball: string;
  /** The tarball unpacked: what an install puts in `node_modules/@ocikit/x`. */
  readonly dir: string;
}

/** The directories under `<root>/packages` of the packages that are published, sorted. */
export function publicPackageDirs(root: string): string[] {
  return readdirSync(join(root, 'packages'))
    .sort()
    .filter((d) => {
      const m = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as {
        private?: boolean;
      };
      return !m.private;
    });
}

/**
 * Runs `pnpm pack` for every public package (all at once) into `work`, and unpacks each tarball.
 * Throws naming the package when one writes no tarball.
 */
export async function packPublic(root: string, work: string): Promise<Packed[]> {
  const dirs = publicPackageDirs(root);
  await Promise.all(
    dirs.map(async (d) => {
      const out = join(work, d);
      mkdirSync(out, { recursive: true });
      await run('pnpm', ['pack', '--pack-destination', out], { cwd: join(root, 'packages', d) });
      const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
      if (!tarball) throw new Error(`packages/${d}: pnpm pack wrote no tarball`);
      await run('tar', ['-xzf', join(out, tarball), '-C', out]);
    }),
  );
  return readPacked(work);
}

/** The packages `packPublic` left in `work` (by an earlier run, e.g. `pack.ts --keep`), sorted. */
export function readPacked(work: string): Packed[] {
  return readdirSync(work)
    .sort()
    .map((d) => {
      const out = join(work, d);
      const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
      if (!tarball) throw new Error(`${out}: no tarball (run tools/checks/pack.ts --keep ${work} first)`);
      const dir = join(out, 'package');
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
      return { name, dirName: d, tarball: join(out, tarball), dir };
    });
}
