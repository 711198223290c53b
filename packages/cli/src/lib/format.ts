// `--format` as docker and podman take it: Go text/template actions over one value per item, and
// the human-readable sizes their tables show (docker/go-units; durations are @ocikit/engine's humanDuration). A subset of Go's
// templates, evaluated here without a dependency (decision 024): text, `{{.Field.Field}}`, `{{.}}`,
// string/number/bool literals, pipelines (`|`), parentheses, the functions below and methods such as
// `{{.Label "name"}}`; `{{- … -}}` trimming and `{{/* comments */}}`. Control structures (`if`,
// `range`, `with`), variables and `define` are refused with a typed error, not half-done.
import { InvalidArgumentError } from '@ocikit/errors';
import type { Context } from './command.ts';

/** Go's `%.<precision>g` of a non-negative number. */
function goG(x: number, precision: number): string {
  if (x === 0) return '0';
  const [mantissa = '', exponent = '0'] = x.toExponential(precision - 1).split('e');
  const exp = Number(exponent);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= precision) {
    return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trim(x.toFixed(Math.max(0, precision - 1 - exp)));
}

/**
 * A byte count as docker and podman show it, go-units' `HumanSizeWithPrecision(size, precision)`:
 * precision 3 for image tables (`4.26MB`, `12B`), 4 — go-units' `HumanSize` — for `system df` and
 * reclaimed space (`15.35kB`).
 *
 * @example
 * ```ts
 * humanSize(4_260_000); // '4.26MB'
 * humanSize(15_345, 4); // '15.35kB'
 * ```
 */
export function humanSize(bytes: number, precision = 3): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${goG(size, precision)}${units[i]}`;
}

/** A time as Go's `time.Time.String()` prints it, in UTC: `2026-12-05 15:12:55 +0000 UTC`. */
export function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

// ---------------------------------------------------------------------------------------------
// The template language

/** What a missing map key prints as, as in Go (`<no value>`). */
const NO_VALUE: unique symbol = Symbol('no value');

type Node = { kind: 'text'; text: string } | { kind: 'action'; pipeline: Pipeline; source: string };
type Pipeline = Command[];
type Command = Operand[];
type Operand =
  | { kind: 'field'; base: Term | undefined; names: string[]; source: string }
  | { kind: 'function'; name: string }
  | { kind: 'literal'; value: string | number | boolean };
type Term = { kind: 'pipeline'; pipeline: Pipeline };

/** A function a template may call, with the piped value (if any) as its last argument. */
type TemplateFunction = (...args: unknown[]) => unknown;

/** Each function with the fewest and most arguments it takes (the piped value counts as the last). */
const functions: Readonly<Record<string, { fn: TemplateFunction; min: number; max: number }>> = {
  json: { min: 1, max: 1, fn: (v) => JSON.stringify(toJson(v)) ?? 'null' },
  join: {
    min: 2,
    max: 2,
    fn: (list, sep) => {
      if (!Array.isArray(list)) throw new Error(`join: ${typeName(list)} is not a list`);
      return list.map((x) => printValue(x)).join(String(sep));
    },
  },
  index: {
    min: 1,
    max: Number.POSITIVE_INFINITY,
    fn: (v, ...keys) => {
      let cur = v;
      for (const k of keys) {
        if (cur instanceof Map && typeof k === 'string') cur = cur.has(k) ? cur.get(k) : NO_VALUE;
        else if (Array.isArray(cur) && typeof k === 'number') {
          if (k < 0 || k >= cur.length) throw new Error(`index: ${k} is out of range (length ${cur.length})`);
          cur = cur[k];
        } else throw new Error(`index: cannot index ${typeName(cur)} with ${JSON.stringify(k)}`);
      }
      return cur;
    },
  },
  len: {
    min: 1,
    max: 1,
    fn: (v) => {
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (v instanceof Map) return v.size;
      throw new Error(`len: ${typeName(v)} has no length`);
    },
  },
  lower: { min: 1, max: 1, fn: (s) => printValue(s).toLowerCase() },
  upper: { min: 1, max: 1, fn: (s) => printValue(s).toUpperCase() },
  title: {
    min: 1,
    max: 1,
    fn: (s) =>
      printValue(s).replace(/(^|[^\p{L}\p{N}_])(\p{L})/gu, (_, a: string, b: string) => a + b.toUpperCase()),
  },
  truncate: {
    min: 2,
    max: 2,
    fn: (s, n) => {
      if (typeof n !== 'number') throw new Error('truncate: the length is not a number');
      return [...printValue(s)].slice(0, Math.max(0, n)).join('');
    },
  },
  split: { min: 2, max: 2, fn: (s, sep) => printValue(s).split(String(sep)) },
};

/** The names of the functions `--format` templates may call. */
export const templateFunctions: readonly string[] = Object.keys(functions);

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (v instanceof Map) return 'map';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'struct' : typeof v;
}

/** A value as JSON: maps as objects with sorted keys, methods left out, missing keys as null. */
function toJson(v: unknown): unknown {
  if (v === NO_VALUE || v === undefined) return null;
  if (v instanceof Map) {
    return Object.fromEntries([...v.keys()].sort().map((k) => [k, toJson(v.get(k))]));
  }
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => typeof x !== 'function')
        .map(([k, x]) => [k, toJson(x)]),
    );
  }
  return v;
}

/** A value as Go's `%v` prints it: lists `[a b]`, maps `map[k:v]`, structs `{a b}`, nil `<nil>`. */
function printValue(v: unknown): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (v instanceof Map) {
    return `map[${[...v.keys()]
      .sort()
      .map((k) => `${k}:${printValue(v.get(k))}`)
      .join(' ')}]`;
  }
  if (typeof v === 'object') {
    return `{${Object.values(v)
      .filter((x) => typeof x !== 'function')
      .map(printValue)
      .join(' ')}}`;
  }
  return String(v);
}

function formatError(source: string, message: string, hint?: string): InvalidArgumentError {
  return new InvalidArgumentError(`--format ${JSON.stringify(source)}: ${message}`, hint ? { hint } : {});
}

/** Splits a template into text and actions, applying `{{-` and `-}}` trimming and dropping comments. */
function scan(source: string): { text?: string; action?: string }[] {
  const parts: { text?: string; action?: string }[] = [];
  let at = 0;
  let trimNext = false;
  while (at <= source.length) {
    const open = source.indexOf('{{', at);
    let text = source.slice(at, open < 0 ? undefined : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      if (text) parts.push({ text });
      break;
    }
    let inner = source.indexOf('}}', open + 2);
    // a `}}` inside a quoted string does not close the action
    let body = '';
    for (;;) {
      if (inner < 0) throw formatError(source, 'unclosed action (no "}}" after "{{")');
      body = source.slice(open + 2, inner);
      if (/^(?:[^"`]|"(?:[^"\\]|\\.)*"|`[^`]*`)*$/.test(body)) break;
      inner = source.indexOf('}}', inner + 2);
    }
    if (/^-\s/.test(body)) text = text.replace(/\s+$/, '');
    if (text) parts.push({ text });
    trimNext = /\s-$/.test(body);
    body = body.replace(/^-\s/, '').replace(/\s-$/, '');
    if (!/^\s*\/\*[\s\S]*\*\/\s*$/.test(body)) parts.push({ action: body });
    at = inner + 2;
  }
  return parts;
}

type Token = { start: number; end: number } & (
  | { t: 'field'; names: string[]; text: string }
  | { t: 'ident'; text: string }
  | { t: 'string'; value: string; text: string }
  | { t: 'number'; value: number; text: string }
  | { t: 'bool'; value: boolean; text: string }
  | { t: 'pipe' | 'open' | 'close'; text: string }
);

function tokenize(action: string, source: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /\s*(?:(\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?)|("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+)(?![\w.])|([A-Za-z_][A-Za-z0-9_]*)|(\|)|(\()|(\))|(\S+))/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: the usual sticky-regexp loop
  while (re.lastIndex < action.length && (m = re.exec(action)) !== null) {
    const [whole, field, dq, raw, num, ident, pipe, open, close, other] = m;
    const end = re.lastIndex;
    const at = { start: end - whole.trimStart().length, end };
    if (field !== undefined) {
      tokens.push({ ...at, t: 'field', names: field.split('.').slice(1).filter(Boolean), text: field });
    } else if (dq !== undefined) {
      let value: string;
      try {
        value = JSON.parse(dq) as string;
      } catch {
        throw formatError(source, `bad string ${dq}`);
      }
      tokens.push({ ...at, t: 'string', value, text: dq });
    } else if (raw !== undefined) tokens.push({ ...at, t: 'string', value: raw.slice(1, -1), text: raw });
    else if (num !== undefined) tokens.push({ ...at, t: 'number', value: Number(num), text: num });
    else if (ident === 'true' || ident === 'false')
      tokens.push({ ...at, t: 'bool', value: ident === 'true', text: ident });
    else if (ident !== undefined) tokens.push({ ...at, t: 'ident', text: ident });
    else if (pipe) tokens.push({ ...at, t: 'pipe', text: pipe });
    else if (open) tokens.push({ ...at, t: 'open', text: open });
    else if (close) tokens.push({ ...at, t: 'close', text: close });
    else {
      const what = (other ?? '').startsWith('$') ? 'variables' : `"${other}"`;
      throw formatError(source, `ocikit's templates take no ${what} (in {{${action.trim()}}})`);
    }
  }
  return tokens;
}

const unsupported = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
  'nil',
]);

function parseAction(action: string, source: string): Pipeline {
  const tokens = tokenize(action, source);
  let at = 0;
  const where = `{{${action.trim()}}}`;
  function pipeline(): Pipeline {
    const commands: Command[] = [];
    for (;;) {
      const operands: Operand[] = [];
      while (at < tokens.length && tokens[at]?.t !== 'pipe' && tokens[at]?.t !== 'close')
        operands.push(operand());
      if (operands.length === 0) throw formatError(source, `missing value in ${where}`);
      commands.push(operands);
      if (tokens[at]?.t !== 'pipe') return commands;
      at++;
    }
  }
  function operand(): Operand {
    const tok = tokens[at++] as Token;
    switch (tok.t) {
      case 'field':
        return { kind: 'field', base: undefined, names: tok.names, source: tok.text };
      case 'string':
      case 'number':
      case 'bool':
        return { kind: 'literal', value: tok.value };
      case 'ident':
        if (unsupported.has(tok.text)) {
          throw formatError(
            source,
            `ocikit's templates take no {{${tok.text}}} (fields, literals, pipes and functions only)`,
          );
        }
        if (!Object.hasOwn(functions, tok.text)) {
          throw formatError(
            source,
            `function "${tok.text}" not defined`,
            `functions: ${templateFunctions.join(', ')}`,
          );
        }
        return { kind: 'function', name: tok.text };
      case 'open': {
        const inner = pipeline();
        const close = tokens[at];
        if (close?.t !== 'close') throw formatError(source, `unclosed "(" in ${where}`);
        at++;
        // `(…).Field.Field`: a field chain right after the parenthesis applies to its value
        const next = tokens[at];
        if (next?.t === 'field' && next.names.length > 0 && next.start === close.end) {
          at++;
          return {
            kind: 'field',
            base: { kind: 'pipeline', pipeline: inner },
            names: next.names,
            source: next.text,
          };
        }
        return { kind: 'field', base: { kind: 'pipeline', pipeline: inner }, names: [], source: '(…)' };
      }
      default:
        throw formatError(source, `unexpected "${tok.text}" in ${where}`);
    }
  }
  const result = pipeline();
  if (at < tokens.length) throw formatError(source, `unexpected "${tokens[at]?.text}" in ${where}`);
  return result;
}

/** A `--format` template, parsed once and run for each item. */
export interface Template {
  /** The template as given. */
  readonly source: string;
  /** The fields it reads from the item itself (`.Names` in `{{.Names}}`), for checking up front. */
  readonly fields: readonly string[];
  /** Runs the template on one item. */
  execute(data: unknown): string;
}

/**
 * Parses a Go-template `--format` string (`\t` and `\n` written as two characters become tab and
 * newline, as docker's formatter does). Throws InvalidArgumentError on what it cannot run.
 *
 * @example
 * ```ts
 * parseTemplate('{{.ID}}: {{json .Names}}').execute({ ID: 'abc', Names: 'web' }); // 'abc: "web"'
 * ```
 */
export function parseTemplate(source: string): Template {
  const text = source.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  const nodes: Node[] = scan(text).map((p) =>
    p.action === undefined
      ? { kind: 'text', text: p.text ?? '' }
      : { kind: 'action', pipeline: parseAction(p.action, source), source: p.action },
  );
  const fields = new Set<string>();
  const collect = (pipeline: Pipeline) => {
    for (const command of pipeline)
      for (const o of command) {
        if (o.kind !== 'field') continue;
        if (o.base) collect(o.base.pipeline);
        else if (o.names[0] !== undefined) fields.add(o.names[0]);
      }
  };
  for (const n of nodes) if (n.kind === 'action') collect(n.pipeline);

  const evalPipeline = (pipeline: Pipeline, dot: unknown): unknown => {
    let piped: { value: unknown } | undefined;
    for (const command of pipeline) piped = { value: evalCommand(command, dot, piped) };
    return piped?.value;
  };
  const evalField = (o: Extract<Operand, { kind: 'field' }>, dot: unknown): unknown => {
    let cur = o.base ? evalPipeline(o.base.pipeline, dot) : dot;
    for (const name of o.names) {
      if (cur instanceof Map) cur = cur.has(name) ? cur.get(name) : NO_VALUE;
      else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, name)) {
        cur = (cur as Record<string, unknown>)[name];
      } else {
        throw formatError(
          source,
          `can't evaluate field ${name} in ${o.source}${cur === null || cur === undefined || cur === NO_VALUE ? ' (it is nil)' : ''}`,
          cur !== null && typeof cur === 'object' && !Array.isArray(cur) && !(cur instanceof Map)
            ? `fields here: ${Object.keys(cur).join(', ')}`
            : undefined,
        );
      }
    }
    return cur;
  };
  const evalCommand = (command: Command, dot: unknown, piped: { value: unknown } | undefined): unknown => {
    const [first, ...rest] = command as [Operand, ...Operand[]];
    const args = rest.map((o) => evalOperand(o, dot));
    if (piped) args.push(piped.value);
    if (first.kind === 'function') return call(first.name, args);
    const value = evalOperand(first, dot);
    if (typeof value === 'function') return (value as TemplateFunction)(...args);
    if (args.length > 0) {
      const name = first.kind === 'field' ? first.source : JSON.stringify(first.value);
      throw formatError(source, `${name} is not a method or function, but has arguments`);
    }
    return value;
  };
  const evalOperand = (o: Operand, dot: unknown): unknown => {
    if (o.kind === 'literal') return o.value;
    if (o.kind === 'function') return call(o.name, []);
    return evalField(o, dot);
  };
  const call = (name: string, args: unknown[]): unknown => {
    const f = functions[name] as (typeof functions)[string];
    if (args.length < f.min || args.length > f.max) {
      const want =
        f.min === f.max
          ? `${f.min}`
          : f.max === Number.POSITIVE_INFINITY
            ? `at least ${f.min}`
            : `${f.min} to ${f.max}`;
      throw formatError(source, `wrong number of arguments for ${name}: want ${want}, got ${args.length}`);
    }
    try {
      return f.fn(...args);
    } catch (e) {
      throw formatError(source, (e as Error).message);
    }
  };

  return {
    source,
    fields: [...fields],
    execute(data) {
      let out = '';
      for (const n of nodes) out += n.kind === 'text' ? n.text : printValue(evalPipeline(n.pipeline, data));
      return out;
    },
  };
}

/** What {@link printFormatted} needs to know about the items of one command. */
export interface FormatFields {
  /** Every field an item has, with its table header (docker's and podman's names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The fields that are methods taking arguments (`Label` in `{{.Label "name"}}`). */
  readonly methods?: readonly string[];
}

/**
 * Aligns tab-separated lines as docker's tables do (Go's tabwriter, minimum width 10, padding 3):
 * every cell but a line's last is padded to its column's width.
 */
export function alignTabs(lines: readonly string[]): string[] {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows)
    r.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 10, [...cell].length + 3);
    });
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
      .join(''),
  );
}

/**
 * Prints items with a `--format` template, as `docker ps --format` does: one line per item, or with
 * `table …` a header line (each field's header) and aligned columns; `json` is `{{json .}}`. Fields
 * the items do not have fail up front, naming the field. `table` alone prints `defaultTable`.
 */
export function printFormatted<T>(
  ctx: Context,
  format: string,
  items: readonly T[],
  fields: FormatFields,
  defaultTable: () => void,
): void {
  const trimmed = format.trim();
  if (trimmed === 'table') {
    defaultTable();
    return;
  }
  const isTable = trimmed.startsWith('table ') || trimmed.startsWith('table\t');
  const template = parseTemplate(
    isTable ? trimmed.slice(6).replace(/^\s+/, '') : format === 'json' ? '{{json .}}' : format,
  );
  const unknown = template.fields.filter((f) => !Object.hasOwn(fields.headers, f));
  if (unknown.length > 0) {
    throw formatError(
      format,
      `no field ${unknown.map((f) => `.${f}`).join(', ')} here`,
      `fields: ${Object.keys(fields.headers).join(', ')}`,
    );
  }
  const lines = items.map((item) => template.execute(item));
  if (!isTable) {
    for (const l of lines) ctx.stdout.write(`${l}\n`);
    return;
  }
  const header: Record<string, unknown> = { ...fields.headers };
  // a method's header answers whatever it is asked (`{{.Label "x"}}` → LABEL)
  for (const k of fields.methods ?? []) header[k] = () => fields.headers[k];
  for (const l of alignTabs([template.execute(header), ...lines])) ctx.stdout.write(`${l.trimEnd()}\n`);
}
