#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304 node --max-semi-space-size=2
// The `ocikit` executable: a committed file, so package managers can link it before the first build.
// A small young generation (2 MB semi-spaces) makes V8 collect the chunk buffers of a transfer soon
// after use: pulling 1 GiB peaks at ~120 MB instead of ~175 MB, and runs faster; short commands are
// unaffected (measured in docs/benchmarks.md). Node's on-disk compile cache (in the OS temp dir, or
// $NODE_COMPILE_CACHE) spares re-parsing the CLI's modules on every run, and the build bundles them
// into a few chunks (dist/bundle, decision 022) so that a command loads a handful of files.
// glibc.malloc.hugetlb=1 lets malloc back its heap with transparent huge pages (where the kernel's
// THP mode is `madvise`, Debian's default): every socket read gets a fresh 64 KiB buffer, and
// faulting those in 4 KiB pages cost more than the transfer itself — pulling 1 GiB: 3.7 → 2.8 s,
// same peak RSS (docs/benchmarks.md). mmap_threshold=4 MiB keeps the 256 KiB buffers of a blob read
// from a layout on that heap too, reused once freed: by default glibc maps each one afresh, and
// faulting them in cost a push of 49 MB ~40 ms. Older glibc and other libcs ignore the tunables; the
// processes ocikit starts (runc, conmon, mount) do not inherit them.
import module from 'node:module';

if (process.env.GLIBC_TUNABLES === 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304')
  delete process.env.GLIBC_TUNABLES;
// libuv runs file-system calls on a pool of 4 threads by default; a transfer's fsyncs (one per blob,
// several at once) then hold every thread while reads and renames wait behind them, so transfers get
// 16. Other commands keep 4: the pool starts on the first asynchronous call, and starting 16 threads
// costs ~3 ms more (decision 103).
if (process.argv.some((a) => a === 'pull' || a === 'push' || a === 'copy'))
  process.env.UV_THREADPOOL_SIZE ??= '16';

module.enableCompileCache?.();
await import('../dist/bundle/bin.js');
