/**
 * The closed set of error kinds every ocikit package throws. Each kind has a stable `code`
 * (safe to compare across duplicate copies of this package) and an `isX()` predicate.
 */
export const ErrorCode = {
  NotFound: 'ERR_OCIKIT_NOT_FOUND',
  AlreadyExists: 'ERR_OCIKIT_ALREADY_EXISTS',
  InvalidArgument: 'ERR_OCIKIT_INVALID_ARGUMENT',
  FailedPrecondition: 'ERR_OCIKIT_FAILED_PRECONDITION',
  Unavailable: 'ERR_OCIKIT_UNAVAILABLE',
  DataLoss: 'ERR_OCIKIT_DATA_LOSS',
  Unauthenticated: 'ERR_OCIKIT_UNAUTHENTICATED',
  PermissionDenied: 'ERR_OCIKIT_PERMISSION_DENIED',
  Aborted: 'ERR_OCIKIT_ABORTED',
  Unimplemented: 'ERR_OCIKIT_UNIMPLEMENTED',
} as const;

/** One of the stable error codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const brand = Symbol.for('@ocikit/errors.OcikitError');
const codes = new Set<string>(Object.values(ErrorCode));

/** Options accepted by every ocikit error constructor. */
export interface OcikitErrorOptions {
  /** The underlying error, kept as the standard `Error.cause`. */
  cause?: unknown;
  /** Structured, credential-free facts about the failure (a digest, a path, an HTTP status). */
  details?: Readonly<Record<string, unknown>>;
  /** A short suggestion of what the user can do about it. */
  hint?: string;
}

/**
 * The base class of every ocikit error. `instanceof` works across duplicate copies of the
 * package because it checks a `Symbol.for` brand rather than the prototype chain.
 *
 * @example
 * ```ts
 * try { await store.fetch(desc); } catch (e) { if (isNotFound(e)) console.error(e.message); }
 * ```
 */
export class OcikitError extends Error {
  /** The stable code of this error's kind. */
  readonly code: ErrorCode;
  /** Structured facts about the failure; never holds credentials. */
  readonly details: Readonly<Record<string, unknown>>;
  /** A short suggestion of what to do, if there is one. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: OcikitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.hint = options.hint;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === OcikitError) return hasBrand(value);
    return Function.prototype[Symbol.hasInstance].call(this, value) || matchesSubclass(this, value);
  }
}

function hasBrand(value: unknown): value is OcikitError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

const subclassCodes = new WeakMap<object, ErrorCode>();

function matchesSubclass(cls: object, value: unknown): boolean {
  const code = subclassCodes.get(cls);
  return code !== undefined && hasBrand(value) && value.code === code;
}

function define<N extends string>(name: N, code: ErrorCode) {
  const cls = class extends OcikitError {
    constructor(message: string, options?: OcikitErrorOptions) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  subclassCodes.set(cls, code);
  return cls;
}

/** Something asked for (a blob, a manifest, a tag, a container) does not exist. */
export const NotFoundError = define('NotFoundError', ErrorCode.NotFound);
/** @see NotFoundError */
export type NotFoundError = InstanceType<typeof NotFoundError>;
/** Something to be created exists already. */
export const AlreadyExistsError = define('AlreadyExistsError', ErrorCode.AlreadyExists);
/** @see AlreadyExistsError */
export type AlreadyExistsError = InstanceType<typeof AlreadyExistsError>;
/** Input was malformed: bad JSON, a bad digest, a bad reference, a bad flag. */
export const InvalidArgumentError = define('InvalidArgumentError', ErrorCode.InvalidArgument);
/** @see InvalidArgumentError */
export type InvalidArgumentError = InstanceType<typeof InvalidArgumentError>;
/** The system is not in a state that allows the operation (a container still running, a missing tool). */
export const FailedPreconditionError = define('FailedPreconditionError', ErrorCode.FailedPrecondition);
/** @see FailedPreconditionError */
export type FailedPreconditionError = InstanceType<typeof FailedPreconditionError>;
/** A service could not be reached or answered with a transient failure; a retry may help. */
export const UnavailableError = define('UnavailableError', ErrorCode.Unavailable);
/** @see UnavailableError */
export type UnavailableError = InstanceType<typeof UnavailableError>;
/** Bytes did not match their digest or size, or stored data is corrupt. */
export const DataLossError = define('DataLossError', ErrorCode.DataLoss);
/** @see DataLossError */
export type DataLossError = InstanceType<typeof DataLossError>;
/** Credentials are missing or were rejected. */
export const UnauthenticatedError = define('UnauthenticatedError', ErrorCode.Unauthenticated);
/** @see UnauthenticatedError */
export type UnauthenticatedError = InstanceType<typeof UnauthenticatedError>;
/** Credentials were accepted but do not allow the operation. */
export const PermissionDeniedError = define('PermissionDeniedError', ErrorCode.PermissionDenied);
/** @see PermissionDeniedError */
export type PermissionDeniedError = InstanceType<typeof PermissionDeniedError>;
/** The operation was cancelled (an AbortSignal fired) or lost a race it cannot win. */
export const AbortedError = define('AbortedError', ErrorCode.Aborted);
/** @see AbortedError */
export type AbortedError = InstanceType<typeof AbortedError>;
/**
 * The operation exists in the contract but this implementation does not offer it (an engine driver
 * that leaves an operation out, an API version that lacks it). Not a bug: ask another way.
 */
export const UnimplementedError = define('UnimplementedError', ErrorCode.Unimplemented);
/** @see UnimplementedError */
export type UnimplementedError = InstanceType<typeof UnimplementedError>;

/** True when `value` is any ocikit error. */
export function isOcikitError(value: unknown): value is OcikitError {
  return hasBrand(value) && codes.has(value.code);
}

const is =
  (code: ErrorCode) =>
  (value: unknown): value is OcikitError =>
    hasBrand(value) && value.code === code;

/** True when `value` is a {@link NotFoundError}. */
export const isNotFound: (value: unknown) => value is NotFoundError = is(ErrorCode.NotFound);
/** True when `value` is an {@link AlreadyExistsError}. */
export const isAlreadyExists: (value: unknown) => value is AlreadyExistsError = is(ErrorCode.AlreadyExists);
/** True when `value` is an {@link InvalidArgumentError}. */
export const isInvalidArgument: (value: unknown) => value is InvalidArgumentError = is(
  ErrorCode.InvalidArgument,
);
/** True when `value` is a {@link FailedPreconditionError}. */
export const isFailedPrecondition: (value: unknown) => value is FailedPreconditionError = is(
  ErrorCode.FailedPrecondition,
);
/** True when `value` is an {@link UnavailableError}. */
export const isUnavailable: (value: unknown) => value is UnavailableError = is(ErrorCode.Unavailable);
/** True when `value` is a {@link DataLossError}. */
export const isDataLoss: (value: unknown) => value is DataLossError = is(ErrorCode.DataLoss);
/** True when `value` is an {@link UnauthenticatedError}. */
export const isUnauthenticated: (value: unknown) => value is UnauthenticatedError = is(
  ErrorCode.Unauthenticated,
);
/** True when `value` is a {@link PermissionDeniedError}. */
export const isPermissionDenied: (value: unknown) => value is PermissionDeniedError = is(
  ErrorCode.PermissionDenied,
);
/** True when `value` is an {@link AbortedError}. */
export const isAborted: (value: unknown) => value is AbortedError = is(ErrorCode.Aborted);
/** True when `value` is an {@link UnimplementedError}. */
export const isUnimplemented: (value: unknown) => value is UnimplementedError = is(ErrorCode.Unimplemented);

/**
 * Throws an {@link AbortedError} when `signal` has fired; call it at the top of every I/O step.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new AbortedError('operation aborted', { cause: signal.reason });
  }
}

/**
 * Shortens `input` for use in an error message: at most `max` characters, with an ellipsis.
 */
export function truncate(input: string, max = 80): string {
  return input.length <= max ? input : `${input.slice(0, max - 1)}…`;
}
