import { type Digest, digestOfSync } from '@ocikit/digest';
import { InvalidArgumentError } from '@ocikit/errors';

/**
 * The ChainID of a stack of layers (config.md): ChainID(L0) = DiffID(L0), and
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 */
export function chainId(diffIds: readonly Digest[]): Digest {
  const [first, ...rest] = diffIds;
  if (first === undefined) throw new InvalidArgumentError('chainId needs at least one diffID');
  let chain = first;
  for (const diffId of rest) chain = digestOfSync(`${chain} ${diffId}`);
  return chain;
}
