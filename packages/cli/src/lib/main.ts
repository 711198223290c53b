import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { InvalidArgumentError } from '@ocikit/errors';
import type { Command, Context } from './command.ts';
import { commands } from './commands.ts';
import { engineSession } from './engine.ts';
import { groupAliases } from './group-aliases.ts';
import { reportError } from './hints.ts';

// an ESM import of node:util evaluates its lazy members (worker_threads, diff and colour tables):
// ~2.5 ms of every command's start; the CommonJS object keeps them lazy
const { parseArgs } = process.getBuiltinModule('node:util');

/** The flags every command accepts, before or after its name. */
export const globalOptions = {
  root: { type: 'string' },
  host: { type: 'string', short: 'H' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

const globalHelp: Record<keyof typeof globalOptions, string> = {
  root: 'state root (default $OCIKIT_ROOT, else $XDG_DATA_HOME/ocikit)',
  host: 'engine: unix:///….sock, tcp://HOST:PORT, podman+unix:///….sock, local:[DIR] (default $CONTAINER_HOST, else $DOCKER_HOST, else local)',
  json: 'machine-readable output on stdout',
  quiet: 'print only what was asked for',
  debug: 'show stack traces on errors',
  help: 'show help',
  version: 'print the version',
};

/** The streams and environment `main` runs against; defaults to the process's own. */
export interface MainOptions {
  stdin?: Context['stdin'];
  stdout?: Context['stdout'];
  stderr?: Context['stderr'];
  env?: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
}

/** The CLI's version, written into the bundle by scripts/bundle.ts; not defined when run from source. */
declare const OCIKIT_VERSION: string | undefined;

/** The version of the `ocikit` CLI: its package.json's, as built into the executable. */
export async function cliVersion(): Promise<string> {
  if (typeof OCIKIT_VERSION === 'string') return OCIKIT_VERSION;
  const { readFile } = process.getBuiltinModule('node:fs/promises');
  const raw = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(raw) as { version: string }).version;
}

/** Resolves the state root: `--root`, else `$OCIKIT_ROOT`, else `$XDG_DATA_HOME/ocikit`. */
export function resolveRoot(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (flag) return flag;
  if (env['OCIKIT_ROOT']) return env['OCIKIT_ROOT'];
  const data = env['XDG_DATA_HOME'] || join(env['HOME'] || homedir(), '.local', 'share');
  return join(data, 'ocikit');
}

function splitGlobals(argv: readonly string[]): {
  globals: string[];
  name: string | undefined;
  rest: string[];
} {
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') break;
    globals.push(arg);
    if (arg === '--root' || arg === '--host' || arg === '-H') globals.push(argv[++i] ?? '');
  }
  return { globals, name: argv[i], rest: argv.slice(i + 1) };
}

/** `container ls …` as `ps …`, `image rm …` as `rmi …`: a group's verb that is a top-level command ({@link groupAliases}). */
function aliased(line: ReturnType<typeof splitGlobals>): ReturnType<typeof splitGlobals> {
  const [verb, ...rest] = line.rest;
  const command = line.name === undefined || verb === undefined ? undefined : groupAliases[line.name]?.[verb];
  return command === undefined ? line : { globals: line.globals, name: command, rest };
}

function flagLines(
  options: ParseArgsOptionsConfig,
  help: Readonly<Record<string, string | undefined>>,
): string[] {
  return Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    return `  ${flag.padEnd(28)} ${help[name] ?? ''}`.trimEnd();
  });
}

function usageText(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: ocikit [global flags] COMMAND [flags] [args]',
    '',
    'A daemonless tool for OCI images and containers: pull, inspect, copy, push, unpack and run them.',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${commands[n]?.summary ?? ''}`),
    '',
    'Global flags:',
    ...flagLines(globalOptions, globalHelp),
    '',
    "Run 'ocikit COMMAND --help' for a command's flags.",
  ].join('\n');
}

function commandHelp(command: Command): string {
  const help = (command.help ?? {}) as Record<string, string | undefined>;
  return [
    `Usage: ${command.usage}`,
    '',
    command.summary,
    ...(command.description ? ['', command.description] : []),
    ...(Object.keys(command.options).length ? ['', 'Flags:', ...flagLines(command.options, help)] : []),
    '',
    'Global flags:',
    ...flagLines(
      Object.fromEntries(Object.entries(flagsOf(command)).filter(([k]) => k in globalOptions)),
      globalHelp,
    ),
  ].join('\n');
}

/** Splits `args` before the first positional (the flags' values kept with their flags). */
function splitAtFirstPositional(
  options: ParseArgsOptionsConfig,
  args: readonly string[],
): [string[], string[]] {
  const takesValue = (arg: string): boolean => {
    if (arg.startsWith('--')) return !arg.includes('=') && options[arg.slice(2)]?.type === 'string';
    const last = arg.at(-1);
    return arg.length >= 2 && Object.values(options).some((o) => o.short === last && o.type === 'string');
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') return [args.slice(0, i), args.slice(i + 1)];
    if (!arg.startsWith('-') || arg === '-') return [args.slice(0, i), args.slice(i)];
    if (takesValue(arg)) i++;
  }
  return [[...args], []];
}

/**
 * Docker's and podman's way of giving a boolean flag a value, `--rm=false` or `--json=true`, in
 * the form parseArgs takes (`--no-rm`, `--json`). Nothing after `--` is touched.
 */
function booleanValues(options: ParseArgsOptionsConfig, args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return args.map((arg, i) => {
    const m = /^--([a-z][a-z0-9-]*)=(true|false)$/.exec(arg);
    if (!m || (end >= 0 && i > end) || options[m[1] as string]?.type !== 'boolean') return arg;
    return m[2] === 'true' ? `--${m[1]}` : `--no-${m[1]}`;
  });
}

/**
 * The global flags and a command's: a short letter the command gives one of its own flags is that
 * flag's (`run -h` is --hostname, as docker's and podman's; `--help` still shows help).
 */
function flagsOf(command: Command | undefined): ParseArgsOptionsConfig {
  const own = command?.options ?? {};
  const taken = new Set(Object.values(own).map((o) => o.short));
  const globals: ParseArgsOptionsConfig = {};
  for (const [name, o] of Object.entries(globalOptions)) {
    if (!('short' in o) || !taken.has(o.short)) globals[name] = o;
    else globals[name] = { type: o.type };
  }
  return { ...globals, ...own };
}

function parseFlags(command: Command | undefined, args: readonly string[]) {
  const options = flagsOf(command);
  const parse = (flags: readonly string[]) =>
    parseArgs({
      args: booleanValues(options, flags),
      options,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  try {
    if (command?.stopAtFirstPositional) {
      // the flags end at the first positional: what follows is the container's command line
      const [flags, rest] = splitAtFirstPositional(options, args);
      const parsed = parse(flags);
      return { values: parsed.values, positionals: [...parsed.positionals, ...rest] };
    }
    return parse(args);
  } catch (e) {
    const where = command ? `ocikit ${command.name}` : 'ocikit';
    throw new InvalidArgumentError(`${where}: ${(e as Error).message.replace(/\. To specify.*$/s, '')}`, {
      cause: e,
      hint: `run '${where} --help' to see its flags`,
    });
  }
}

/**
 * Runs the `ocikit` command line and resolves to the exit code; never throws.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  let debug = argv.includes('--debug');
  let failure = 1;
  try {
    const { globals, name, rest } = aliased(splitGlobals(argv));
    const pre = parseFlags(undefined, globals).values;
    if (pre.version) {
      stdout.write(`ocikit ${await cliVersion()}\n`);
      return 0;
    }
    if (name === undefined || name === 'help') {
      (name === undefined && !pre.help ? stderr : stdout).write(`${usageText()}\n`);
      return name === undefined && !pre.help ? 1 : 0;
    }
    const entry = commands[name];
    if (!entry) {
      throw new InvalidArgumentError(`ocikit: unknown command "${name}"`, {
        hint: "run 'ocikit --help' for the list",
      });
    }
    const command = await entry.load();
    failure = command.failureExitCode ?? 1;
    const { values, positionals } = parseFlags(command, [...globals, ...rest]);
    debug = values.debug === true;
    if (values.help) {
      stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    const controller = new AbortController();
    let caught: 'SIGINT' | 'SIGTERM' | undefined;
    const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
      caught ??= signal;
      controller.abort(new Error('interrupted'));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const signal = options.signal
        ? AbortSignal.any([options.signal, controller.signal])
        : controller.signal;
      const root = resolveRoot(values.root as string | undefined, env);
      const engines = engineSession({ host: values.host as string | undefined, root, env, signal });
      const ctx: Context = {
        root,
        json: values.json === true,
        quiet: values.quiet === true,
        debug,
        // made on first use: process.stdin builds a stream (~1 ms) that most commands never read
        get stdin() {
          return options.stdin ?? process.stdin;
        },
        stdout,
        stderr,
        env,
        signal,
        engine: (request) => engines.engine(request),
      };
      try {
        return await command.run(ctx, { values, positionals } as Parameters<Command['run']>[1]);
      } catch (e) {
        // a signal stopped the work: say what was interrupted and exit as a shell expects (130)
        if (caught === undefined) throw e;
        if (debug) reportError(stderr, e, true);
        // loaded only now: the reference parser stays out of every command's start-up
        const { interruptedExitCode, interruptedMessage } = await import('./interrupt.ts');
        stderr.write(`ocikit: ${interruptedMessage(command.name, positionals)}\n`);
        return interruptedExitCode(caught);
      } finally {
        await engines.close();
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } catch (e) {
    reportError(stderr, e, debug);
    return failure;
  }
}
