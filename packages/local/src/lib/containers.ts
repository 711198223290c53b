import type { Handlers } from '@ocikit/engine';
import type { LocalContext } from './context.ts';

/** The container operations of the local engine. */
export function containerHandlers(_ctx: LocalContext): Partial<Handlers> {
  return {};
}
