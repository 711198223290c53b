// The local engine's container failures as the contract's standard errors (issue 14).
import { type EngineErrorReason, engineError, type Operation } from '@ocikit/engine';
import { isInvalidArgument, isOcikitError, type OcikitError } from '@ocikit/errors';

/**
 * A standard engine error of the local engine: the kind from `reason`, `details.engine` `local`,
 * plus `extra` facts (a container's `name`, an `exitCode`) for callers to branch on.
 */
export function localError(
  reason: EngineErrorReason,
  operation: Operation,
  message: string,
  options: {
    details?: Readonly<Record<string, unknown>> | undefined;
    hint?: string | undefined;
    cause?: unknown;
  } = {},
): OcikitError {
  const extra = Object.fromEntries(
    Object.entries(options.details ?? {}).filter((e): e is [string, string | number | boolean] =>
      ['string', 'number', 'boolean'].includes(typeof e[1]),
    ),
  );
  return engineError(reason, {
    engine: 'local',
    operation,
    message,
    extra,
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    ...(options.hint === undefined ? {} : { hint: options.hint }),
  });
}

/**
 * The shim's container errors as standard ones: `no-such-container` → `container-not-found`,
 * `ambiguous` → `bad-argument` (with `details.matches`), `name-in-use` stays, `not-stopped` →
 * `container-running`, any other InvalidArgument (a bad container name) → `bad-argument`; their
 * facts (`name`, `ref`, `matches`, `id`) and hints kept. Anything else
 * is returned as it is (a missing runtime keeps its `runtime-not-installed`).
 */
export function standardError(e: unknown, operation: Operation): unknown {
  if (!isOcikitError(e)) return e;
  const reasons: Record<string, EngineErrorReason> = {
    'no-such-container': 'container-not-found',
    ambiguous: 'bad-argument',
    'name-in-use': 'name-in-use',
    'not-stopped': 'container-running',
  };
  const reason =
    (typeof e.details.reason === 'string' ? reasons[e.details.reason] : undefined) ??
    (isInvalidArgument(e) ? 'bad-argument' : undefined);
  if (!reason) return e;
  const { reason: _shim, ...facts } = e.details;
  return localError(reason, operation, e.message, { details: facts, hint: e.hint, cause: e });
}

/** Runs `fn`, its shim errors made standard (see {@link standardError}). */
export async function standard<T>(operation: Operation, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw standardError(e, operation);
  }
}
