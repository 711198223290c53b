// Child of the digest benchmark: prints the sha256 of a file and how long hashing alone took.
import { digestFile } from '@ocikit/digest';

const start = performance.now();
const d = await digestFile(process.argv[2] as string);
process.stdout.write(`${d} ${(performance.now() - start).toFixed(1)}ms\n`);
