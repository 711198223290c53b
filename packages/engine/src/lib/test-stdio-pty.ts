// Run by stdio.test.ts on a real pseudo-terminal: relays a process of its own making (which echoes
// its input and reports its terminal size) to this process's stdio with a terminal.
import type { Attachment, OutputChunk } from './contract.ts';
import { relayStdio } from './stdio.ts';

const queue: OutputChunk[] = [];
let wake: (() => void) | undefined;
let closed = false;
const say = (s: string) => {
  queue.push({ stream: 'stdout', data: Buffer.from(s) });
  wake?.();
};
const attachment: Attachment = {
  output: {
    async *[Symbol.asyncIterator]() {
      while (!closed) {
        const chunk = queue.shift();
        if (chunk) yield chunk;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  },
  async write(data) {
    say(`[got ${JSON.stringify(Buffer.from(data).toString())}]\r\n`);
  },
  async closeStdin() {},
  async resize(size) {
    say(`[size ${size.rows}x${size.columns}]\r\n`);
  },
  close() {
    closed = true;
    wake?.();
  },
};
say('ready\r\n');
const r = await relayStdio(
  attachment,
  { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  { tty: true, onSignal: (s) => say(`[signal ${s}]\r\n`) },
);
process.stdout.write(`relay ${JSON.stringify(r)} raw=${process.stdin.isRaw}\n`);
