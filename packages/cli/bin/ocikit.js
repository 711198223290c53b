#!/usr/bin/env node
// The loader of the `ocikit` executable: a committed file, so package managers can link it before the
// first build. bin/ocikit (the file package.json's `bin` names) runs it with malloc's tunables and
// V8's semi-space flags (decision 023); run directly (`node bin/ocikit.js`), it works the same, only
// without that tuning. It runs dist/bundle/ocikit.cjs, the whole CLI in one CommonJS file (decisions
// 022 and 106), as a vm.Script with a V8 code cache of its own: the cache is made after a command's
// first run, so it holds the bytecode of every function that command ran — Node's compile cache
// keeps only what compiles before the code runs, and compiling the rest took `run` ~9 ms on every
// start.
import {
  closeSync,
  constants as fs,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import module from 'node:module';
import { Script } from 'node:vm';

// bin/ocikit's malloc tunables are this process's alone: runc, conmon and mount start without them
if (process.env.GLIBC_TUNABLES === 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304')
  delete process.env.GLIBC_TUNABLES;
const argv = process.argv.slice(2);
// the command's name, as main finds it: after the global flags (`--root` takes a value)
let at = 0;
while (at < argv.length && argv[at]?.startsWith('-') && argv[at] !== '-') at += argv[at] === '--root' ? 2 : 1;
const command = /^[a-z][a-z0-9-]{0,31}$/.test(argv[at] ?? '') ? argv[at] : '_';
// libuv runs file-system calls on a pool of 4 threads by default; a transfer's fsyncs (one per blob,
// several at once) then hold every thread while reads and renames wait behind them, so transfers get
// 16. Other commands keep 4: the pool starts on the first asynchronous call, and starting 16 threads
// costs ~3 ms more (decision 103).
if (command === 'pull' || command === 'push' || command === 'copy') process.env.UV_THREADPOOL_SIZE ??= '16';

const file = new URL('../dist/bundle/ocikit.cjs', import.meta.url);
const source = readFileSync(file, 'utf8');
// first line: `// ocikit-bundle <sha256 of the rest>`, written by scripts/bundle.ts
const bundleId = source.slice(0, source.indexOf('\n')).split(' ')[2] ?? '';

// The code caches live in the user's own cache directory and are used only when this user owns it
// and nobody else can write to it: they are code that runs (as root, for `ocikit run`). Each names
// the bundle it was made for in its first line, so a cache for another build is never handed to V8
// (which checks little but the source's length).
const cacheDir = `${process.env.XDG_CACHE_HOME || `${process.env.HOME || process.getBuiltinModule('node:os').homedir()}/.cache`}/ocikit`;
const cacheFile = `${cacheDir}/${command}-${process.version}-${process.arch}.v8`;
const header = Buffer.from(`ocikit-bundle ${bundleId}\n`);
const uid = process.geteuid?.();
const ownedByUs = (fd) => {
  const st = fstatSync(fd);
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
};
/** Whether the cache directory is ours alone: true, false, or undefined when there is none. */
function cacheDirState() {
  let dir;
  try {
    dir = openSync(cacheDir, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW);
  } catch (e) {
    return e.code === 'ENOENT' ? undefined : false;
  }
  try {
    return ownedByUs(dir);
  } finally {
    closeSync(dir);
  }
}
/** This command's code cache for this bundle, when there is one we can trust. */
function readCache() {
  let fd;
  try {
    fd = openSync(cacheFile, fs.O_RDONLY | fs.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (!ownedByUs(fd)) return undefined;
    const data = readFileSync(fd);
    return data.subarray(0, header.length).equals(header) ? data.subarray(header.length) : undefined;
  } finally {
    closeSync(fd);
  }
}
let trusted = cacheDirState();
const cached = trusted ? readCache() : undefined;
// Node's own compile cache (for zod, loaded from node_modules when a config is validated), in there too
if (trusted) module.enableCompileCache?.(`${cacheDir}/node`);

// one line of wrapper, so that line numbers in stack traces are the file's own
const script = new Script(
  `(function (exports, require, module, __filename, __dirname, __ocikitUrl) {${source}\n})`,
  { filename: file.pathname, cachedData: cached ?? undefined },
);
const bundle = { exports: {} };
script.runInThisContext()(
  bundle.exports,
  module.createRequire(file),
  bundle,
  file.pathname,
  new URL('.', file).pathname,
  file.href,
);
const code = await bundle.exports.main(argv);

// Made from a run that went the whole way: not from help, a version query, or a failure, which
// would leave the command's usual path out of the cache for good.
const typical = code === 0 && !argv.some((a) => a === '--help' || a === '-h' || a === '--version');
if ((cached === undefined || script.cachedDataRejected) && typical && trusted !== false) {
  try {
    if (trusted === undefined) {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      trusted = cacheDirState();
    }
    if (trusted) {
      const tmp = `${cacheFile}.${process.pid}`;
      writeFileSync(tmp, Buffer.concat([header, script.createCachedData()]), { mode: 0o600 });
      renameSync(tmp, cacheFile);
    }
  } catch {
    // a read-only home: run without the cache
  }
}
// Every command has finished its work when main returns (it awaits everything it starts), so exit
// at once: Node's natural end (loop drain, environment teardown, heap disposal) costs ~5 ms more
// (decision 105). Output still queued on a pipe is let drain first.
if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
process.exitCode = code;
