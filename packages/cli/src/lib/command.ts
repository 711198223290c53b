import type { ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { Engine } from '@ocikit/engine';
import { InvalidArgumentError } from '@ocikit/errors';
import type { EngineRequest } from './engine.ts';

/** Where a command reads and writes, and the global flags it was run with. */
export interface Context {
  /** The local state root (`--root`, `$OCIKIT_ROOT`, `$XDG_DATA_HOME/ocikit`). */
  readonly root: string;
  /** `--json`: machine-readable output on stdout. */
  readonly json: boolean;
  /** `-q/--quiet`: print only what was asked for (digests, ids). */
  readonly quiet: boolean;
  /** `--debug`: stack traces on errors. */
  readonly debug: boolean;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Fires on SIGINT/SIGTERM; pass it to every I/O call. */
  readonly signal: AbortSignal;
  /**
   * The container engine this command works on, connected on first use and closed when the command
   * ends: `--host`/`-H`, else `$CONTAINER_HOST` (podman's libpod API), else `$DOCKER_HOST` (the
   * Docker Engine API), else ocikit's local engine on {@link Context.root} (decision 137). A command
   * with registry flags passes them (`ctx.engine({ registry: { insecure: true } })`) for the local
   * engine's pulls and pushes. Fails with InvalidArgumentError for a bad address, UnavailableError
   * when nothing answers there.
   */
  engine(request?: EngineRequest): Promise<Engine>;
}

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
>;

/** The parsed flags and positional arguments of one invocation. */
export interface Args<O extends ParseArgsOptionsConfig> {
  readonly values: Parsed<O>['values'];
  readonly positionals: string[];
}

/** One `ocikit` subcommand: its help text, its flags (node:util parseArgs form) and what it does. */
export interface Command<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis, e.g. `ocikit copy SRC DST`. */
  readonly usage: string;
  /** Extra help: what the arguments mean, examples. */
  readonly description?: string;
  readonly options: O;
  /** Short help for each flag, by flag name. */
  readonly help?: { readonly [K in keyof O]?: string };
  /**
   * Flags stop at the first positional argument: the rest (a container's command and its own
   * flags) are positionals as written, as in `ocikit run IMAGE sh -c …`.
   */
  readonly stopAtFirstPositional?: boolean;
  /** The exit code when the command itself fails (default 1; 125 for commands that run containers, as Docker). */
  readonly failureExitCode?: number;
  /** Runs the command; resolves to the process exit code. */
  run(ctx: Context, args: Args<O>): Promise<number>;
}

/** Declares a command with its flags typed from `options`. */
export function defineCommand<const O extends ParseArgsOptionsConfig>(command: Command<O>): Command<O> {
  return command;
}

/** Fails with an InvalidArgumentError unless `min` to `max` positional arguments were given. */
export function expectPositionals(
  command: { name: string; usage: string },
  positionals: readonly string[],
  min: number,
  max = min,
): void {
  if (positionals.length < min || positionals.length > max) {
    throw new InvalidArgumentError(
      `ocikit ${command.name}: expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${positionals.length}`,
      { hint: `usage: ${command.usage}` },
    );
  }
}
