import { main } from './lib/main.ts';

// The source entry point (tests run it with --conditions=@ocikit/source); the published executable
// is bin/ocikit.js, which runs the bundle of `main`.
process.exitCode = await main(process.argv.slice(2));
