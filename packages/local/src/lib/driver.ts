import { isAbsolute, join, resolve } from 'node:path';
import type { Connection, Driver, Handlers } from '@ocikit/engine';
import { InvalidArgumentError } from '@ocikit/errors';
import { commitContainer } from './container-commit.ts';
import { containerHandlers } from './containers.ts';
import { type LocalEngineOptions, localContext } from './context.ts';
import { imageHistory } from './image-history.ts';
import { imageHandlers } from './images.ts';
import { networkHandlers } from './network-handlers.ts';
import { pruneHandlers } from './prune.ts';
import { volumeHandlers } from './volumes.ts';

/** Every operation of the local engine over the state root `options.root`. */
export function localHandlers(options: LocalEngineOptions): Partial<Handlers> {
  const ctx = localContext(options);
  return {
    ...imageHandlers(ctx),
    ...containerHandlers(ctx),
    ...volumeHandlers(ctx),
    ...networkHandlers(ctx),
    ...pruneHandlers(ctx),
    'images.history': (ref, options) => imageHistory(ctx, ref, options),
    'containers.commit': (id, spec, options) => commitContainer(ctx, id, spec, options),
  };
}

/**
 * The state root an address names: `local:/path` (or `local:///path`) is that directory; `local:`
 * is `$OCIKIT_ROOT`, else `$XDG_DATA_HOME/ocikit`, else `~/.local/share/ocikit` (DESIGN.md, "Local state").
 */
export function localRoot(
  address: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  if (!address.startsWith('local:'))
    throw new InvalidArgumentError(
      `local engine address ${JSON.stringify(address)} does not start with local:`,
      {
        hint: 'write local: or local:/path/to/state-root',
      },
    );
  const path = address.slice('local:'.length).replace(/^\/\/(?=\/)/, '');
  if (path !== '') {
    if (!isAbsolute(path))
      throw new InvalidArgumentError(
        `local engine address ${JSON.stringify(address)}: the state root must be an absolute path`,
      );
    return resolve(path);
  }
  if (env.OCIKIT_ROOT) return resolve(env.OCIKIT_ROOT);
  const data = env.XDG_DATA_HOME || join(env.HOME ?? '/root', '.local', 'share');
  return join(data, 'ocikit');
}

/**
 * The local engine as a driver: `Engine.connect(localDriver(), 'local:/var/lib/ocikit')`. Settings
 * other than the root (registry flags, the default runtime) are given here.
 */
export function localDriver(settings: Omit<LocalEngineOptions, 'root' | 'env'> = {}): Driver {
  return {
    name: 'local',
    async connect(address, options): Promise<Connection> {
      const env = options.env ?? process.env;
      const handlers = localHandlers({ ...settings, root: localRoot(address, env), env });
      return { handlers, close: async () => {} };
    },
  };
}
