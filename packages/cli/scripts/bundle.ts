// Bundles the `ocikit` executable (dist/bin.js and everything it imports, @ocikit/* included) into
// dist/bundle/, one chunk per lazily loaded command, so a command loads a few files instead of ~60
// modules: `run` reaches its first step ~30 ms sooner (decision 022).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('../dist/bundle', import.meta.url).pathname;
// chunk names carry content hashes: clear out the last build's
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: [new URL('../dist/bin.js', import.meta.url).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // zod stays outside: runtime-spec loads it with require() on the first parse, resolved from here
  external: ['zod'],
  // CommonJS dependencies (tar-stream and its stream stack) call require() for Node's built-ins; the
  // require function is made on first use (createRequire costs ~0.1 ms, and most chunks never call it)
  banner: {
    js: "import { createRequire as __ocikitRequire } from 'node:module'; let __ocikitReq; const require = (id) => (__ocikitReq ??= __ocikitRequire(import.meta.url))(id);",
  },
  legalComments: 'eof',
  logLevel: 'warning',
});
