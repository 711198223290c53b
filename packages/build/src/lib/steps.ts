// What a stage knows as its steps run (ARGs in effect, SHELL, directories WORKDIR asked for), and
// the instructions that change only the image config — with the semantics Docker's builder and
// buildah share (ENV values expand with the variables before the instruction; ENTRYPOINT resets a
// CMD not set in the same stage; shell forms wrap in the stage's SHELL; …).
import { posix } from 'node:path';
import type { ImageConfig, ImageExecConfig } from '@ocikit/image-spec';
import type { CommandForm, Instruction } from './ast.ts';
import { badInstruction } from './errors.ts';
import { expand, expandWords } from './expand.ts';
import { parseDuration } from './parse.ts';

/** The default SHELL of a Linux image. */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** A stage's state beyond its image config. */
export interface StageScope {
  /** The Dockerfile's escape character. */
  escape: '\\' | '`';
  /** ARGs declared in the stage so far, and their values (undefined: declared without one). */
  args: Map<string, string | undefined>;
  /** Build args given to the build (`--build-arg`). */
  buildArgs: Readonly<Record<string, string>>;
  /** Values of the global ARGs (before the first FROM), for `ARG NAME` redeclared in a stage. */
  globalArgs: ReadonlyMap<string, string | undefined>;
  /** Directories WORKDIR named (and the USER then), made by the next step that writes a layer. */
  pendingDirs: { path: string; user: string }[];
  /** True once CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

/** `NAME=value` entries as a map (the last one of a name wins). */
export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return out;
}

/** The ARGs in effect with a value, sorted by name. */
export function argsInEffect(scope: StageScope): [string, string][] {
  return [...scope.args.entries()]
    .filter((e): e is [string, string] => e[1] !== undefined)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The variables words expand with: the ARGs in effect, overridden by the config's Env. */
export function variables(scope: StageScope, config: ImageConfig): Map<string, string> {
  const vars = new Map(argsInEffect(scope));
  for (const [k, v] of envMap(config.config?.Env)) vars.set(k, v);
  return vars;
}

/** Expands one word with the stage's variables. */
export function expandIn(scope: StageScope, config: ImageConfig, word: string): string {
  return expand(word, variables(scope, config), { escape: scope.escape });
}

/** The SHELL of a stage (the config's `Shell`, else `/bin/sh -c`). */
export function shellOf(config: ImageConfig): string[] {
  const shell = config.config?.['Shell'];
  return Array.isArray(shell) && shell.length > 0 ? shell.map(String) : [...DEFAULT_SHELL];
}

/** The argv of a command: exec form as it is, shell form through the stage's SHELL. */
export function argvOf(command: CommandForm, config: ImageConfig): string[] {
  return command.form === 'exec' ? [...command.args] : [...shellOf(config), command.text];
}

/**
 * The history wording buildah gives an instruction that only changes the config: the instruction
 * as written, except ARG, which buildah 1.28 records as the names of the ARGs in effect after it
 * (`/bin/sh -c #(nop) ARG X Y`).
 */
export function nopCreatedBy(inst: Instruction, scope: StageScope): string {
  if (inst.kind === 'ARG')
    return `/bin/sh -c #(nop) ARG ${argsInEffect(scope)
      .map(([k]) => k)
      .join(' ')}`;
  return `/bin/sh -c #(nop) ${inst.source.trim()}`;
}

const PORT = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i;

/** The `ExposedPorts` keys of one EXPOSE word (`80`, `80/udp`, `8000-8002/tcp`). */
function ports(word: string, inst: Instruction): string[] {
  const m = PORT.exec(word);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (!m || first > 65535 || last > 65535 || last < first)
    throw badInstruction(`EXPOSE: invalid port ${JSON.stringify(word)}`, inst.range);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = first; p <= last; p++) out.push(`${p}/${proto}`);
  return out;
}

function flag(inst: Instruction, name: string): string | undefined {
  const f = inst.flags.find((x) => x.name === name);
  return f === undefined || f.value === true ? undefined : f.value;
}

/**
 * Applies a config-only instruction (ENV, LABEL, ARG, WORKDIR, USER, EXPOSE, VOLUME, ENTRYPOINT,
 * CMD, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER) to a copy of `config`, updating the
 * stage's scope; returns the new config.
 */
export function applyConfigInstruction(
  inst: Instruction,
  config: ImageConfig,
  scope: StageScope,
): ImageConfig {
  const next = structuredClone(config);
  const exec: ImageExecConfig = next.config ?? {};
  next.config = exec;
  const vars = variables(scope, config);
  const x = (word: string) => expand(word, vars, { escape: scope.escape });
  switch (inst.kind) {
    case 'ENV': {
      const env = envMap(exec.Env);
      // every value expands with the variables from before this instruction, as Docker's builder does
      for (const p of inst.pairs) env.set(x(p.key), x(p.value ?? ''));
      exec.Env = [...env].map(([k, v]) => `${k}=${v}`);
      break;
    }
    case 'LABEL': {
      const labels = { ...exec.Labels };
      for (const p of inst.pairs) labels[x(p.key)] = x(p.value ?? '');
      exec.Labels = labels;
      break;
    }
    case 'ARG': {
      for (const p of inst.pairs) {
        const given = Object.hasOwn(scope.buildArgs, p.key) ? scope.buildArgs[p.key] : undefined;
        const value =
          given ??
          (p.value !== undefined ? x(p.value) : scope.globalArgs.get(p.key)) ??
          predefinedArg(p.key, next);
        scope.args.set(p.key, value);
      }
      break;
    }
    case 'WORKDIR': {
      const dir = x(inst.value);
      if (dir === '') throw badInstruction('WORKDIR needs a path', inst.range);
      const path = posix.resolve(exec.WorkingDir || '/', dir);
      exec.WorkingDir = path;
      scope.pendingDirs.push({ path, user: exec.User ?? '' });
      break;
    }
    case 'USER':
      exec.User = x(inst.value);
      break;
    case 'MAINTAINER':
      next.author = inst.value;
      break;
    case 'STOPSIGNAL': {
      const signal = x(inst.value);
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(signal) && !/^\d+$/.test(signal))
        throw badInstruction(`STOPSIGNAL: invalid signal ${JSON.stringify(signal)}`, inst.range);
      exec.StopSignal = signal;
      break;
    }
    case 'EXPOSE': {
      const exposed = { ...exec.ExposedPorts };
      for (const word of inst.words)
        for (const w of expandWords(word, vars, { escape: scope.escape }))
          for (const p of ports(w, inst)) exposed[p] = {};
      exec.ExposedPorts = exposed;
      break;
    }
    case 'VOLUME': {
      const volumes = { ...exec.Volumes };
      for (const word of inst.words) {
        const path = x(word);
        if (path.trim() === '')
          throw badInstruction('VOLUME specified can not be an empty string', inst.range);
        volumes[path] = {};
      }
      exec.Volumes = volumes;
      break;
    }
    case 'CMD':
      exec.Cmd = argvOf(inst.command, config);
      scope.cmdSet = true;
      break;
    case 'ENTRYPOINT':
      exec.Entrypoint = argvOf(inst.command, config);
      // an ENTRYPOINT drops the base image's CMD, unless this stage set one (Docker, buildah)
      if (!scope.cmdSet) delete exec.Cmd;
      break;
    case 'SHELL':
      if (inst.command.form !== 'exec')
        throw badInstruction('SHELL requires the arguments to be in JSON form', inst.range);
      if (inst.command.args.length === 0)
        throw badInstruction('SHELL needs at least one argument', inst.range);
      exec['Shell'] = [...inst.command.args];
      break;
    case 'HEALTHCHECK': {
      if (!inst.command) {
        exec['Healthcheck'] = { Test: ['NONE'] };
        break;
      }
      const test =
        inst.command.form === 'exec' ? ['CMD', ...inst.command.args] : ['CMD-SHELL', inst.command.text];
      const check: Record<string, unknown> = { Test: test };
      for (const [name, field] of [
        ['interval', 'Interval'],
        ['timeout', 'Timeout'],
        ['start-period', 'StartPeriod'],
        ['start-interval', 'StartInterval'],
      ] as const) {
        const value = flag(inst, name);
        if (value !== undefined && value !== '' && parseDuration(value) !== 0)
          check[field] = parseDuration(value);
      }
      const retries = flag(inst, 'retries');
      if (retries !== undefined && Number(retries) !== 0) check['Retries'] = Number(retries);
      exec['Healthcheck'] = check;
      break;
    }
    case 'ONBUILD':
      exec['OnBuild'] = [...((exec['OnBuild'] as string[] | undefined) ?? []), inst.trigger];
      break;
    default:
      throw badInstruction(`${inst.kind} does not change only the image config`, inst.range);
  }
  return next;
}

/** BuildKit's automatic platform ARGs (`TARGETARCH`, …): their values when declared without one. */
function predefinedArg(name: string, config: ImageConfig): string | undefined {
  const os = config.os || 'linux';
  const arch = config.architecture;
  const variant = typeof config.variant === 'string' ? config.variant : '';
  const platform = `${os}/${arch}${variant ? `/${variant}` : ''}`;
  const values: Record<string, string> = {
    TARGETPLATFORM: platform,
    TARGETOS: os,
    TARGETARCH: arch,
    TARGETVARIANT: variant,
    BUILDPLATFORM: platform,
    BUILDOS: os,
    BUILDARCH: arch,
    BUILDVARIANT: variant,
  };
  return values[name];
}
