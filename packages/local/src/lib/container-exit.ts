// The exit command conmon runs when a detached container exits (decision 131):
// `node container-exit.js ROOT ID [remove] [--cni-path DIRS]` records the container's `die` event with its exit
// code, takes it off its networks, and removes it and what it holds when it is an autoRemove one. Shipped with @ocikit/local
// and run with the Node that made the container, so none of it needs the CLI.

import { recordDie } from './container-events.ts';
import { removeContainer } from './container-remove.ts';
import { containersOf } from './container-store.ts';
import { localContext } from './context.ts';
import { detachNetworks } from './network.ts';

const [root, id, ...rest] = process.argv.slice(2);
const then = rest[0] === 'remove' ? 'remove' : undefined;
const at = rest.indexOf('--cni-path');
const cniPath = at >= 0 ? rest[at + 1] : undefined;
if (root && id) {
  // the engine's CNI_PATH (see exitCommand), for this container's DEL
  const ctx = localContext({ root, ...(cniPath ? { env: { ...process.env, CNI_PATH: cniPath } } : {}) });
  const record = await containersOf(ctx)
    .get(id)
    .catch(() => undefined);
  // an exited container is off its networks: its address and host ports are free again (DEL
  // while its die is recorded)
  const detaching = then !== 'remove' ? detachNetworks(ctx, id, { behind: true }).catch(() => {}) : undefined;
  if (record) await recordDie(ctx, record);
  await detaching;
  if (then === 'remove') {
    await removeContainer(ctx, id, { force: true }).catch(() => {
      // removed already (`rm -f` raced us), or the root is gone: nothing left to do
    });
  }
}
