// Podman's failures where the shared Docker-API mapping (../docker/errors.ts) would call them a bare
// engine failure: podman answers HTTP 500 (or an error line in a 200 stream) for input it refuses,
// where dockerd answers 400. Every podman handler's errors pass through here, so the same failure
// gives the same reason from the podman driver as from the docker driver.
import { isOcikitError } from '@ocikit/errors';
import type { Handlers } from '../contract.ts';
import { describe } from '../docker/errors.ts';
import type { EngineHttp } from '../docker/http.ts';
import type { EngineErrorDetails, EngineErrorReason } from '../errors.ts';

const byMessage: readonly [RegExp, EngineErrorReason][] = [
  [
    /invalid reference format|repository name must be (lowercase|canonical)|unsupported pull policy|invalid platform|unknown (os|architecture)|must be a docker reference|unsupported transport/i,
    'bad-argument',
  ],
];

/** The reason podman's own words give a failure the Docker mapping left as `engine-error`, if any. */
export function podmanReason(engineMessage: string): EngineErrorReason | undefined {
  for (const [re, reason] of byMessage) if (re.test(engineMessage)) return reason;
  return undefined;
}

/** `e` with the reason podman's message gives it, when the Docker mapping called it `engine-error`. */
export function remapError(e: unknown, http: EngineHttp): unknown {
  if (!isOcikitError(e)) return e;
  const details = e.details as Partial<EngineErrorDetails> & Record<string, unknown>;
  if (details.reason !== 'engine-error' || typeof details.engineMessage !== 'string') return e;
  const reason = podmanReason(details.engineMessage);
  if (reason === undefined || details.operation === undefined) return e;
  const target = typeof details['target'] === 'string' ? details['target'] : undefined;
  return http.fail(
    reason,
    { operation: details.operation },
    {
      message: describe(reason, target, details.status ?? 0),
      status: details.status,
      engineMessage: details.engineMessage,
      cause: e.cause,
    },
  );
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v !== null && typeof v === 'object' && Symbol.asyncIterator in v;
}

/** The handlers with every failure (of a call, or of iterating what it gave) passed through {@link remapError}. */
export function withPodmanErrors(handlers: Partial<Handlers>, http: EngineHttp): Partial<Handlers> {
  const out: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    if (typeof handler !== 'function') continue;
    const fn = handler as (...args: unknown[]) => unknown;
    out[name] = (...args: unknown[]) => {
      let result: unknown;
      try {
        result = fn.apply(handlers, args);
      } catch (e) {
        throw remapError(e, http);
      }
      if (result instanceof Promise) return result.catch((e: unknown) => Promise.reject(remapError(e, http)));
      if (isAsyncIterable(result)) {
        const source = result;
        return {
          async *[Symbol.asyncIterator]() {
            try {
              yield* source;
            } catch (e) {
              throw remapError(e, http);
            }
          },
        };
      }
      return result;
    };
  }
  return out as Partial<Handlers>;
}
