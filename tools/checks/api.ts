// API reports (decision 057): for every public package and every entry point in its `exports`,
// API Extractor reads the built declarations (dist/*.d.ts) and writes what the entry point exports
// to packages/<pkg>/etc/<pkg>[-<subpath>].api.md, which is committed. `pnpm api` rewrites the
// reports; `pnpm check:api` (in `pnpm test`) fails when one differs from what the build exports, so
// a change to a package's API shows in review beside the changeset that must match it.
//
//   node tools/checks/api.ts           rewrite the reports (after `pnpm build`)
//   node tools/checks/api.ts --check   fail, with the difference, when a report is out of date
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const root = fileURLToPath(new URL('../..', import.meta.url));
const check = process.argv.includes('--check');
const temp = mkdtempSync(join(tmpdir(), 'ocikit-api-'));
const problems: string[] = [];

interface Manifest {
  name: string;
  private?: boolean;
  exports?: Record<string, string | { types?: string }>;
}

/** The entry points of a package: subpath (`.`, `./testsuite`) → its declaration file. */
function entryPoints(manifest: Manifest): [string, string][] {
  return Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]): [string, string][] => {
    const types = typeof target === 'string' ? undefined : target.types;
    return types === undefined ? [] : [[subpath, types]];
  });
}

/** `content` for `.`, `content-testsuite` for `./testsuite`. */
function reportName(unscoped: string, subpath: string): string {
  return subpath === '.' ? unscoped : `${unscoped}-${subpath.slice(2).replaceAll('/', '-')}`;
}

try {
  for (const dirName of readdirSync(join(root, 'packages')).sort()) {
    const pkgDir = join(root, 'packages', dirName);
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Manifest;
    if (manifest.private) continue;
    const unscoped = manifest.name.replace(/^@[^/]+\//, '');
    for (const [subpath, types] of entryPoints(manifest)) {
      const entry = join(pkgDir, types);
      const name = reportName(unscoped, subpath);
      if (!existsSync(entry)) {
        problems.push(`${manifest.name} ${subpath}: ${types} is missing; run \`pnpm build\` first`);
        continue;
      }
      if (!check) mkdirSync(join(pkgDir, 'etc'), { recursive: true });
      const config = ExtractorConfig.prepare({
        configObjectFullPath: undefined,
        packageJsonFullPath: join(pkgDir, 'package.json'),
        configObject: {
          projectFolder: pkgDir,
          mainEntryPointFilePath: entry,
          newlineKind: 'lf',
          compiler: {
            overrideTsconfig: {
              compilerOptions: {
                target: 'es2024',
                lib: ['es2024', 'esnext.disposable'],
                module: 'nodenext',
                moduleResolution: 'nodenext',
                types: ['node'],
                strict: true,
                skipLibCheck: true,
              },
              files: [entry],
            },
          },
          apiReport: {
            enabled: true,
            reportFileName: name,
            reportFolder: join(pkgDir, 'etc'),
            reportTempFolder: join(temp, dirName),
          },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          messages: {
            // The reports record the API's shape: release tags, TSDoc style and links are not checked
            // here; a type the API uses but does not export is noted in the report for review.
            extractorMessageReporting: {
              default: { logLevel: ExtractorLogLevel.None },
              'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
              'ae-wrong-input-file-type': { logLevel: ExtractorLogLevel.Error },
            },
            tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
          },
        },
      });
      const messages: string[] = [];
      const result = Extractor.invoke(config, {
        localBuild: !check,
        messageCallback: (message) => {
          if (
            message.logLevel === ExtractorLogLevel.Error ||
            message.logLevel === ExtractorLogLevel.Warning
          ) {
            messages.push(message.formatMessageWithLocation(pkgDir));
          }
          message.handled = true;
        },
      });
      const report = `packages/${dirName}/etc/${name}.api.md`;
      if (check && result.apiReportChanged) {
        // the difference, as `pnpm api` would write it (the report may also be missing)
        const diff = spawnSync(
          'diff',
          [
            '-u',
            '--label',
            report,
            '--label',
            'built',
            join(pkgDir, 'etc', `${name}.api.md`),
            join(temp, dirName, `${name}.api.md`),
          ],
          { encoding: 'utf8' },
        ).stdout.split('\n');
        problems.push(
          `${report} is out of date: ${manifest.name}${subpath === '.' ? '' : subpath.slice(1)} exports something else now; run \`pnpm api\`, review the difference and commit it with a changeset that matches it\n${diff.slice(0, 60).join('\n')}${diff.length > 60 ? '\n...' : ''}`,
        );
      } else if (!result.succeeded && !result.apiReportChanged) {
        problems.push(`${report}: API Extractor failed:\n  ${messages.join('\n  ')}`);
      } else if (!check) {
        console.log(`${result.apiReportChanged ? 'updated' : 'unchanged'} ${report}`);
      }
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exitCode = 1;
} else if (check) {
  console.log('API reports are up to date');
}
