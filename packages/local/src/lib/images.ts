import type { Handlers } from '@ocikit/engine';
import type { LocalContext } from './context.ts';

/** The image and system operations of the local engine. */
export function imageHandlers(_ctx: LocalContext): Partial<Handlers> {
  return {};
}
