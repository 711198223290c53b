// Bundles the `ocikit` executable's code — `main` (dist/lib/main.js) and everything it imports,
// @ocikit/* and tar-stream included — into one CommonJS file, dist/bundle/ocikit.cjs, that
// bin/ocikit.js runs as a vm.Script with a code cache per command (decisions 022 and 106).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('../dist/bundle/', import.meta.url);
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const outfile = new URL('ocikit.cjs', outdir).pathname;

await build({
  entryPoints: [new URL('../dist/lib/main.js', import.meta.url).pathname],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  // zod stays outside: runtime-spec loads it with require() on the first parse, resolved from here
  // undici too: only proxied registry requests load it (decision 060), with require() from here
  external: ['zod', 'undici'],
  // the loader passes the bundle's own URL (for resolving zod); the version is the package's, fixed
  // at build time, so `ocikit --version` reads no file and names the build it runs
  define: {
    'import.meta.url': '__ocikitUrl',
    OCIKIT_VERSION: JSON.stringify(
      (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
        .version,
    ),
  },
  // whitespace and syntax minified (identifiers kept, so stack traces under --debug still name
  // functions): 473 → 328 KB, and reading the file and its code cache costs ~5 ms less per start
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

// The first line names the build: the loader keys its code cache on it (V8 itself checks little more
// than the source's length before trusting a cache).
const code = readFileSync(outfile, 'utf8');
const id = createHash('sha256').update(code).digest('hex');
writeFileSync(outfile, `// ocikit-bundle ${id}\n${code}`);
