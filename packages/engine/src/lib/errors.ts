import {
  AbortedError,
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  type OcikitError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from '@ocikit/errors';
import type { Operation } from './contract.ts';

/**
 * Which standard failure an engine error is, in `details.reason`: the same operation failing the
 * same way gives the same reason (and error kind) from every driver.
 */
export type EngineErrorReason =
  /** NotFound: no image by that name or id. */
  | 'image-not-found'
  /** NotFound: no container by that id, prefix or name. */
  | 'container-not-found'
  /** AlreadyExists: a container of that name exists. */
  | 'name-in-use'
  /** FailedPrecondition: the operation needs a running container (exec, pause, kill, attach). */
  | 'container-not-running'
  /** FailedPrecondition: the container runs and the operation needs it stopped (remove without force). */
  | 'container-running'
  /** FailedPrecondition: the container is paused (stop, exec, pause again). */
  | 'container-paused'
  /** FailedPrecondition: a container uses the image (remove without force). */
  | 'image-in-use'
  /** NotFound: no volume by that name. */
  | 'volume-not-found'
  /** FailedPrecondition: a container uses the volume (remove, or remove with force while it runs). */
  | 'volume-in-use'
  /** NotFound: no network by that name or id. */
  | 'network-not-found'
  /** FailedPrecondition: a container uses the network (remove). */
  | 'network-in-use'
  /** AlreadyExists: a network of that name exists, or its subnet overlaps another's. */
  | 'network-exists'
  /** FailedPrecondition: a host port asked for is taken (by another container or process). */
  | 'port-in-use'
  /** PermissionDenied: the image's signatures do not satisfy the trust policy. */
  | 'policy-rejected'
  /** Unauthenticated: the registry refused the credentials (or wants some). */
  | 'bad-credentials'
  /** InvalidArgument: the engine refused the input (a bad reference, flag, or spec). */
  | 'bad-argument'
  /** Unavailable: nothing answers at the address, or the connection broke. */
  | 'engine-unreachable'
  /** Unavailable: the engine answered something that is not its protocol. */
  | 'bad-response'
  /** Unavailable: the call's timeout passed. */
  | 'timeout'
  /** Unavailable: the engine failed on its side (HTTP 500) for a reason none of the above names. */
  | 'engine-error'
  /** Unimplemented: the driver does not offer the operation. */
  | 'unimplemented'
  /** Aborted: the caller's signal fired. */
  | 'aborted';

/** The facts every engine error carries in `details`. */
export interface EngineErrorDetails {
  /** The driver's name (`docker`, `podman`, `local`). */
  engine: string;
  /** The operation that failed. */
  operation: Operation | 'connect';
  /** Which standard failure it is. */
  reason: EngineErrorReason;
  /** The engine's HTTP status, for HTTP engines. */
  status?: number | undefined;
  /** The engine's own message, untouched. */
  engineMessage?: string | undefined;
}

const kinds: Record<
  EngineErrorReason,
  new (
    message: string,
    options?: ConstructorParameters<typeof NotFoundError>[1],
  ) => OcikitError
> = {
  'image-not-found': NotFoundError,
  'container-not-found': NotFoundError,
  'name-in-use': AlreadyExistsError,
  'container-not-running': FailedPreconditionError,
  'container-running': FailedPreconditionError,
  'container-paused': FailedPreconditionError,
  'image-in-use': FailedPreconditionError,
  'volume-not-found': NotFoundError,
  'volume-in-use': FailedPreconditionError,
  'network-not-found': NotFoundError,
  'network-in-use': FailedPreconditionError,
  'network-exists': AlreadyExistsError,
  'port-in-use': FailedPreconditionError,
  'policy-rejected': PermissionDeniedError,
  'bad-credentials': UnauthenticatedError,
  'bad-argument': InvalidArgumentError,
  'engine-unreachable': UnavailableError,
  'bad-response': UnavailableError,
  timeout: UnavailableError,
  'engine-error': UnavailableError,
  unimplemented: UnimplementedError,
  aborted: AbortedError,
};

/**
 * Makes the standard error for an engine failure: the kind follows from the reason, the message
 * names the engine and the operation (and quotes the engine's own message), the details carry all
 * of it for code to branch on.
 *
 * @example
 * ```ts
 * throw engineError('container-not-found', { engine: 'docker', operation: 'containers.start',
 *   message: 'no container abc', status: 404, engineMessage: 'No such container: abc' });
 * ```
 */
export function engineError(
  reason: EngineErrorReason,
  facts: Omit<EngineErrorDetails, 'reason'> & {
    /** What failed, in the contract's terms. */
    message: string;
    /** The underlying error. */
    cause?: unknown;
    /** What the user can do about it. */
    hint?: string | undefined;
    /** More facts for `details` (`image`, `container`, `name`); never overriding the standard ones. */
    extra?: Readonly<Record<string, string | number | boolean>> | undefined;
  },
): OcikitError {
  const { message, cause, hint, extra, ...rest } = facts;
  const said =
    rest.engineMessage && !message.includes(rest.engineMessage)
      ? ` (${rest.engine} said: ${rest.engineMessage})`
      : '';
  const details: EngineErrorDetails = { ...rest, reason };
  const Kind = kinds[reason];
  return new Kind(`${rest.engine}: ${rest.operation}: ${message}${said}`, {
    details: Object.fromEntries(Object.entries({ ...extra, ...details }).filter(([, v]) => v !== undefined)),
    ...(cause === undefined ? {} : { cause }),
    ...(hint === undefined ? {} : { hint }),
  });
}
