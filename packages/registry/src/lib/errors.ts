import {
  DataLossError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  type OcikitError,
  PermissionDeniedError,
  truncate,
  UnauthenticatedError,
  UnavailableError,
} from '@ocikit/errors';

/** One entry of a registry's error body (`{"errors": [{"code", "message", "detail"}]}`). */
export interface RegistryErrorEntry {
  /** The distribution-spec error code, e.g. `MANIFEST_UNKNOWN`, `DENIED`. */
  readonly code: string;
  /** The registry's message. */
  readonly message: string;
}

/** What a request was doing, for error messages (never holds credentials). */
export interface RequestContext {
  /** The HTTP method. */
  readonly method: string;
  /** The URL without credentials or query secrets. */
  readonly url: string;
  /** What the request was for, e.g. `manifest registry.example/app:1`. */
  readonly what: string;
}

/** Parses a registry error body; an empty list when it is not one. */
export function parseErrorBody(body: string): RegistryErrorEntry[] {
  try {
    const parsed: unknown = JSON.parse(body);
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors.flatMap((e: unknown) => {
      if (typeof e !== 'object' || e === null) return [];
      const { code, message } = e as { code?: unknown; message?: unknown };
      return [
        {
          code: typeof code === 'string' ? truncate(code, 64) : 'UNKNOWN',
          message: typeof message === 'string' ? truncate(message, 200) : '',
        },
      ];
    });
  } catch {
    return [];
  }
}

const dataLossCodes = new Set(['DIGEST_INVALID', 'SIZE_INVALID', 'BLOB_UPLOAD_INVALID']);
const invalidCodes = new Set([
  'MANIFEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'TAG_INVALID',
  'PAGINATION_NUMBER_INVALID',
  'RANGE_INVALID',
]);

/**
 * Turns a registry's failure response into a typed error: 401 → Unauthenticated, 403 →
 * PermissionDenied, 404 → NotFound, 405 → FailedPrecondition (the registry does not allow it),
 * 408/429/5xx → Unavailable, digest and size complaints → DataLoss, other 4xx → InvalidArgument.
 * `details` holds `status`, `errors` (the registry's codes and messages), `method` and `url`.
 */
export function responseError(status: number, body: string, context: RequestContext): OcikitError {
  const errors = parseErrorBody(body);
  const said = errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ');
  const message = `${context.what}: ${context.method} ${context.url} → ${status}${said ? ` (${said})` : ''}`;
  const details = { status, errors, method: context.method, url: context.url };
  const codes = new Set(errors.map((e) => e.code));
  if (status === 401) {
    return new UnauthenticatedError(message, {
      details: { ...details, reason: 'credentials-required' },
      hint: 'give credentials for this registry, or check the ones given (the `credentials` option, or a Docker config)',
    });
  }
  if (status === 403 || codes.has('DENIED')) {
    return new PermissionDeniedError(message, {
      details,
      hint: 'the credentials were accepted but do not allow this; check the repository name and your access',
    });
  }
  if (status === 404) {
    return new NotFoundError(message, {
      details,
      hint: 'check the reference: registry, repository, tag or digest',
    });
  }
  if (status === 405 || codes.has('UNSUPPORTED')) {
    return new FailedPreconditionError(message, {
      details,
      hint: 'the registry does not allow this operation (deletion may be disabled)',
    });
  }
  if (status === 408 || status === 429 || status >= 500) {
    return new UnavailableError(message, {
      details,
      hint: 'the registry is busy or failing; try again later',
    });
  }
  if ([...codes].some((c) => dataLossCodes.has(c))) return new DataLossError(message, { details });
  if ([...codes].some((c) => invalidCodes.has(c)) || status < 500) {
    return new InvalidArgumentError(message, { details });
  }
  return new UnavailableError(message, { details });
}
