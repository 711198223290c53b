import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the release tools read from a package's package.json. */
export interface PackageManifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: string | Record<string, string>;
  exports?: unknown;
  publishConfig?: { registry?: string; exports?: unknown };
  dependencies?: Record<string, string>;
  files?: string[];
}

/** A package of the workspace that is published. */
export interface PublicPackage {
  /** The directory name under `packages/`. */
  dirName: string;
  /** Absolute directory. */
  dir: string;
  manifest: PackageManifest;
}

/** Every package under `ROOT/packages/` that is not private, sorted by directory name. */
export function publicPackages(root: string): PublicPackage[] {
  return readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((dirName) => {
      const dir = join(root, 'packages', dirName);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest;
      return { dirName, dir, manifest };
    })
    .filter((p) => !p.manifest.private);
}
