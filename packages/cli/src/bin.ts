import { main } from './lib/main.ts';

const code = await main(process.argv.slice(2));
// Every command has finished its work when main returns (it awaits everything it starts), so exit
// at once: the natural end (loop drain, environment teardown, heap disposal) costs ~5 ms more
// (decision 105). Output still queued on a pipe is let drain first.
if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
process.exitCode = code;
