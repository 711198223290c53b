// One client of the engine benchmark, in a process of its own so every client is measured alike:
//   node src/engine-client.ts CLIENT SCENARIO SOCKET IMAGE [COUNT] [CONCURRENCY]
// CLIENT: `ocikit` (@ocikit/engine's docker driver, as built in dist), `dockerode`, or `none` (loads
// nothing: the floor of a Node process). SCENARIO: `cycle` (COUNT containers of IMAGE running `true`
// with no network: create, start, wait, remove; CONCURRENCY of them in flight) or `pull` (IMAGE from
// its registry). Prints one JSON line: the scenario's wall time (after the client is loaded and
// connected), the process's peak RSS and the peak V8 heap seen while the scenario ran.

interface Client {
  cycle(image: string): Promise<void>;
  pull(image: string): Promise<void>;
  close(): Promise<void>;
}

const [clientName, scenario, socket, image, countArg, concurrencyArg] = process.argv.slice(2);
if (!clientName || !scenario || !socket || !image) {
  process.stderr.write(
    'usage: engine-client.ts ocikit|dockerode|none cycle|pull SOCKET IMAGE [COUNT] [CONCURRENCY]\n',
  );
  process.exit(2);
}
const count = Number(countArg ?? 1);
const concurrency = Number(concurrencyArg ?? 1);

async function ocikitClient(socketPath: string): Promise<Client> {
  const { Engine, dockerDriver } = await import('@ocikit/engine');
  const engine = await Engine.connect(dockerDriver, `unix://${socketPath}`);
  return {
    async cycle(ref) {
      const { id } = await engine.containers.create(
        { image: ref, cmd: ['true'], network: 'none' },
        { pull: 'never' },
      );
      await engine.containers.start(id);
      const code = await engine.containers.wait(id);
      if (code !== 0) throw new Error(`container ${id} exited ${code}`);
      await engine.containers.remove(id);
    },
    async pull(ref) {
      await engine.images.pull(ref);
    },
    close: () => engine.close(),
  };
}

async function dockerodeClient(socketPath: string): Promise<Client> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker({ socketPath });
  return {
    async cycle(ref) {
      const container = await docker.createContainer({
        Image: ref,
        Cmd: ['true'],
        HostConfig: { NetworkMode: 'none' },
      });
      await container.start();
      const { StatusCode } = await container.wait();
      if (StatusCode !== 0) throw new Error(`container ${container.id} exited ${StatusCode}`);
      await container.remove();
    },
    async pull(ref) {
      const stream = await docker.pull(ref);
      const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
        docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out))),
      );
      const failed = events.find((e) => e.error);
      if (failed) throw new Error(`pull of ${ref}: ${failed.error}`);
    },
    close: async () => {},
  };
}

const noClient: Client = { cycle: async () => {}, pull: async () => {}, close: async () => {} };

const client =
  clientName === 'ocikit'
    ? await ocikitClient(socket)
    : clientName === 'dockerode'
      ? await dockerodeClient(socket)
      : noClient;

let peakHeap = process.memoryUsage().heapUsed;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 5);
const start = process.hrtime.bigint();
if (scenario === 'pull') {
  await client.pull(image);
} else {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await client.cycle(image);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
const ms = Number(process.hrtime.bigint() - start) / 1e6;
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
clearInterval(sampler);
await client.close();
process.stdout.write(
  `${JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, peakHeapBytes: peakHeap })}\n`,
);
