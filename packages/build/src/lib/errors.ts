// The build's failures as typed errors with a stable `details.reason`, so a caller (the CLI) can
// branch on what went wrong without reading messages.
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  type OcikitError,
  truncate,
} from '@ocikit/errors';
import type { SourceRange } from './ast.ts';

/**
 * Why a build failed, in `details.reason` of the error it throws:
 * - `bad-instruction`: an instruction or one of its flags is malformed (with `line`);
 * - `stage-not-found`: `--target` or a `--from` names no stage and is no image reference;
 * - `stage-cycle`: stages depend on each other in a cycle (`--from` / `FROM`);
 * - `base-not-found`: a base image is neither in the store nor given by `pull`;
 * - `platform-unsupported`: a platform other than the host's without qemu binfmt;
 * - `source-outside-context`: a COPY/ADD or bind-mount source leaves the context (`..`, a symlink);
 * - `source-not-found`: a COPY/ADD source matches nothing;
 * - `remote-unreachable`: an ADD URL could not be fetched;
 * - `checksum-mismatch`: what an ADD URL gave is not what `--checksum` says (DataLoss);
 * - `run-failed`: a RUN exited non-zero (`exitCode`, `output`: its last lines).
 */
export type BuildErrorReason =
  | 'bad-instruction'
  | 'stage-not-found'
  | 'stage-cycle'
  | 'base-not-found'
  | 'platform-unsupported'
  | 'source-outside-context'
  | 'source-not-found'
  | 'remote-unreachable'
  | 'checksum-mismatch'
  | 'run-failed';

/** Where in the Dockerfile, for messages: ` (line 4)` or ` (lines 4-6)`. */
export function at(range: SourceRange | undefined): string {
  if (!range) return '';
  return range.endLine > range.startLine
    ? ` (Dockerfile lines ${range.startLine}-${range.endLine})`
    : ` (Dockerfile line ${range.startLine})`;
}

/** A malformed instruction or flag: InvalidArgument, reason `bad-instruction`. */
export function badInstruction(message: string, range?: SourceRange, hint?: string): OcikitError {
  return new InvalidArgumentError(`${message}${at(range)}`, {
    details: { reason: 'bad-instruction', ...(range ? { line: range.startLine } : {}) },
    ...(hint ? { hint } : {}),
  });
}

/** A COPY/ADD/mount source that leaves the context: PermissionDenied-like InvalidArgument. */
export function outsideContext(source: string, range?: SourceRange): OcikitError {
  return new InvalidArgumentError(
    `${JSON.stringify(truncate(source, 120))} is outside the build context${at(range)}`,
    {
      details: { reason: 'source-outside-context', source: truncate(source, 200) },
      hint: 'COPY and ADD read only files inside the context directory (symbolic links may not leave it)',
    },
  );
}

/** A source that matches nothing: NotFound, reason `source-not-found`. */
export function sourceNotFound(source: string, range?: SourceRange): OcikitError {
  return new NotFoundError(
    `${JSON.stringify(truncate(source, 120))} not found in the build context${at(range)}`,
    {
      details: { reason: 'source-not-found', source: truncate(source, 200) },
      hint: 'check the path, and that .dockerignore does not exclude it',
    },
  );
}

/** A precondition of the build (platform, base image) that is not met. */
export function unmet(reason: BuildErrorReason, message: string, hint?: string): OcikitError {
  return new FailedPreconditionError(message, { details: { reason }, ...(hint ? { hint } : {}) });
}
