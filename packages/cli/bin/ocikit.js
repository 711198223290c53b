#!/usr/bin/env node
// The `ocikit` executable: a committed file, so package managers can link it before the first build.
// Node's on-disk compile cache (in the OS temp dir, or $NODE_COMPILE_CACHE) spares re-parsing the
// CLI's modules on every run: about 40 ms of a short command's start-up.
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/bin.js');
