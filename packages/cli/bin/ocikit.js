#!/usr/bin/env -S node --max-semi-space-size=2
// The `ocikit` executable: a committed file, so package managers can link it before the first build.
// A small young generation (2 MB semi-spaces) makes V8 collect the chunk buffers of a transfer soon
// after use: pulling 1 GiB peaks at ~120 MB instead of ~175 MB, and runs faster; short commands are
// unaffected (measured in docs/benchmarks.md). Node's on-disk compile cache (in the OS temp dir, or
// $NODE_COMPILE_CACHE) spares re-parsing the CLI's modules on every run, and the build bundles them
// into a few chunks (dist/bundle, decision 022) so that a command loads a handful of files.
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/bundle/bin.js');
