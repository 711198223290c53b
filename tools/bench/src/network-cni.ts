// Run by network.ts INSIDE the network sandbox: CNI ADD then DEL of one container on the default
// bridge network with @ocikit/network, in this process (no CLI, no Node start-up, no runtime), N
// rounds; as the local engine runs them: after ensureNetworkRules (decision 193), without the
// plugins that would do nothing (tuning with no settings; portmap with no ports). Prints one JSON line: per round the ADD, DEL and whole (netns made → netns removed) times.
// Usage: node --conditions=@ocikit/source network-cni.ts ROOT ROUNDS [CNI_PATH]
import { join } from 'node:path';
import {
  addNetwork,
  createNetns,
  delNetwork,
  ensureDefaultNetwork,
  ensureNetworkRules,
  removeNetns,
} from '@ocikit/network';

const [root, roundsArg, cniPath] = process.argv.slice(2);
const plugins = cniPath ? { cniPath } : {};
if (!root) throw new Error('usage: network-cni.ts ROOT ROUNDS');
const rounds = Number(roundsArg ?? 10);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

const ruled = await ensureNetworkRules(root, await ensureDefaultNetwork(root));
const network = {
  ...ruled,
  config: { ...ruled.config, plugins: ruled.config.plugins.filter((p) => p.type === 'bridge') },
};
const out: { add: number[]; del: number[]; whole: number[] } = { add: [], del: [], whole: [] };
for (let i = 0; i < rounds; i++) {
  const id = `bench-${process.pid}-${i}`;
  const t0 = process.hrtime.bigint();
  const netns = await createNetns(join(root, 'netns'), id);
  const t1 = process.hrtime.bigint();
  await addNetwork(root, network, { containerId: id, netns, ...plugins });
  out.add.push(ms(t1));
  const t2 = process.hrtime.bigint();
  await delNetwork(root, 'bridge', { containerId: id, netns, ...plugins });
  out.del.push(ms(t2));
  await removeNetns(netns);
  out.whole.push(ms(t0));
}
process.stdout.write(`${JSON.stringify(out)}\n`);
