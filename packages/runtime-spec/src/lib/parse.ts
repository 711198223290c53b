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

function validate<T>(schema: z.ZodType, input: unknown, what: string): T {
  const result = schema.safeParse(decodeJson(input, what), { reportInput: true });
  if (result.success) return result.data as T;
  const issues = result.error.issues.map((i) => {
    if (/received undefined$/.test(i.message)) return `${pathOf(i.path)}: is required`;
    // A short copy of the offending value, never the whole document.
    const got =
      i.input === undefined || typeof i.input === 'object'
        ? ''
        : ` (got ${truncate(JSON.stringify(i.input), 40)})`;
    return `${pathOf(i.path)}: ${i.message}${got}`;
  });
  throw new InvalidArgumentError(
    `invalid ${what}: ${issues.slice(0, 3).join('; ')}${issues.length > 3 ? `; and ${issues.length - 3} more` : ''}`,
    {
      details: { reason: 'invalid', issues },
    },
  );
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
  return validate<State>(loadSchemas().stateSchema, input, 'container state');
}

/** Parses a runtime's features document (`runc features`) from bytes, a string or a JSON value. */
export function parseFeatures(input: unknown): Features {
  return validate<Features>(loadSchemas().featuresSchema, input, 'runtime features');
}
