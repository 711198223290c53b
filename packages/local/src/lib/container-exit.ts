// The exit command conmon runs when an autoRemove container exits (decision 131):
// `node container-exit.js ROOT ID` removes the container and what it holds. Shipped with
// @ocikit/local and run with the Node that made the container, so removing it needs no CLI.

import { removeContainer } from './container-remove.ts';
import { localContext } from './context.ts';

const [root, id] = process.argv.slice(2);
if (root && id) {
  await removeContainer(localContext({ root }), id, { force: true }).catch(() => {
    // removed already (`rm -f` raced us), or the root is gone: nothing left to do
  });
}
