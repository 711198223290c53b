import { createRequire } from 'node:module';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { decodeJson } from '@ocikit/image-spec';
import type { z } from 'zod';
import { buildSchemas, type Schemas } from './schema.ts';
import type { Features, Spec, State } from './types.ts';

let schemas: Schemas | undefined;

/** The schemas, built on first use with zod loaded then (synchronously, through `require`). */
function loadSchemas(): Schemas {
  schemas ??= buildSchemas((createRequire(import.meta.url)('zod') as typeof import('zod')).z);
  return schemas;
}

function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(document)';
}

/** A short copy of an offending value, never the whole document. */
function got(input: unknown): string {
  return input === undefined || typeof input === 'object'
    ? ''
    : ` (got ${truncate(JSON.stringify(input), 40)})`;
}

function invalid(what: string, issues: string[]): InvalidArgumentError {
  return new InvalidArgumentError(
    `invalid ${what}: ${issues.slice(0, 3).join('; ')}${issues.length > 3 ? `; and ${issues.length - 3} more` : ''}`,
    {
      details: { reason: 'invalid', issues },
    },
  );
}

function validate<T>(schema: z.ZodType, input: unknown, what: string): T {
  const result = schema.safeParse(decodeJson(input, what), { reportInput: true });
  if (result.success) return result.data as T;
  throw invalid(
    what,
    result.error.issues.map((i) =>
      /received undefined$/.test(i.message)
        ? `${pathOf(i.path)}: is required`
        : `${pathOf(i.path)}: ${i.message}${got(i.input)}`,
    ),
  );
}

const STATUSES: readonly string[] = ['creating', 'created', 'running', 'stopped'];

/**
 * A container state checked by hand, to the same rules as the zod schemas: the local engine asks the
 * runtime for a state on every start, and loading zod for these six fields cost ~85 ms of CPU there
 * (decision 192).
 */
function checkState(value: unknown): State {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('container state', [`(document): expected object${got(value)}`]);
  const v = value as Record<string, unknown>;
  const issues: string[] = [];
  const required = (key: string, ok: (x: unknown) => boolean, expected: string) => {
    if (v[key] === undefined) issues.push(`${key}: is required`);
    else if (!ok(v[key])) issues.push(`${key}: ${expected}${got(v[key])}`);
  };
  const isString = (x: unknown) => typeof x === 'string';
  required('ociVersion', isString, 'expected string');
  required('id', isString, 'expected string');
  required(
    'status',
    (x) => typeof x === 'string' && STATUSES.includes(x),
    `expected one of ${STATUSES.map((x) => `"${x}"`).join('|')}`,
  );
  if (v['pid'] !== undefined) {
    const pid = v['pid'];
    if (typeof pid !== 'number' || !Number.isInteger(pid)) issues.push(`pid: must be an integer${got(pid)}`);
    else if (pid < 0) issues.push(`pid: must not be negative${got(pid)}`);
  }
  required('bundle', isString, 'expected string');
  const annotations = v['annotations'];
  if (annotations !== undefined) {
    if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations))
      issues.push(`annotations: expected record${got(annotations)}`);
    else
      for (const [k, x] of Object.entries(annotations))
        if (typeof x !== 'string') issues.push(`annotations.${k}: expected string${got(x)}`);
  }
  if (issues.length > 0) throw invalid('container state', issues);
  return v as unknown as State;
}

/**
 * Parses a runtime config (`config.json`) from bytes, a string or a JSON value; throws an
 * InvalidArgumentError listing every problem with its JSON path.
 *
 * @example
 * ```ts
 * const spec = parseSpec(await readFile('bundle/config.json'));
 * ```
 */
export function parseSpec(input: unknown): Spec {
  return validate<Spec>(loadSchemas().specSchema, input, 'runtime config');
}

/** Parses a container state (`runtime state ID` output) from bytes, a string or a JSON value. */
export function parseState(input: unknown): State {
  return checkState(decodeJson(input, 'container state'));
}

/** Parses a runtime's features document (`runc features`) from bytes, a string or a JSON value. */
export function parseFeatures(input: unknown): Features {
  return validate<Features>(loadSchemas().featuresSchema, input, 'runtime features');
}
