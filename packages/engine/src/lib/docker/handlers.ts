// Every handler of the contract over the Docker Engine API, built for an API prefix so the podman
// driver can reuse them over Podman's compatible API (`/v1.41`) or where libpod answers alike.
import type { Handlers } from '../contract.ts';
import { containerHandlers } from './containers.ts';
import { historyCommitHandlers } from './history-commit.ts';
import type { EngineHttp } from './http.ts';
import { imageHandlers } from './images.ts';
import { networkHandlers } from './networks.ts';
import { pruneHandlers } from './prune.ts';
import { systemHandlers } from './system.ts';
import { volumeHandlers } from './volumes.ts';

/** Options of {@link dockerHandlers}. */
export interface DockerHandlersOptions {
  /** The API's path prefix (`/v1.41`). */
  prefix: string;
}

/** The handlers of a Docker-API engine reached through `http`. */
export function dockerHandlers(http: EngineHttp, options: DockerHandlersOptions): Partial<Handlers> {
  const { prefix } = options;
  const images = imageHandlers(http, prefix);
  return {
    ...systemHandlers(http, prefix),
    ...images,
    ...containerHandlers(http, prefix, images['images.pull']),
    ...volumeHandlers(http, prefix),
    ...networkHandlers(http, prefix),
    ...historyCommitHandlers(http, prefix),
    ...pruneHandlers(http, prefix),
  };
}
