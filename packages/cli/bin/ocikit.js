#!/usr/bin/env node
// The `ocikit` executable: a committed file, so package managers can link it before the first build.
import '../dist/bin.js';
