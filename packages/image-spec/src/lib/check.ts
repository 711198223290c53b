// A small structural validator for the image-spec documents: a handful of combinators that walk a
// JSON value once, collecting every problem with its path. It replaces zod here because importing zod
// costs 40-80 ms of start-up on every CLI command (decision 021); runtime-spec keeps zod, loaded lazily.

/** One problem found in a document: where (a JSON path) and what. */
export interface Issue {
  path: readonly (string | number)[];
  message: string;
}

/** Checks a value at a path, appending what is wrong to `issues`. */
export type Check = (value: unknown, path: readonly (string | number)[], issues: Issue[]) => void;

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function expected(type: string, value: unknown): string {
  return value === undefined ? 'is required' : `expected ${type}, received ${kind(value)}`;
}

/** A string, then each refinement in turn: a predicate and the message when it fails, or a function that returns a message. */
export function string(...refinements: ((s: string) => string | undefined)[]): Check {
  return (value, path, issues) => {
    if (typeof value !== 'string') {
      issues.push({ path, message: expected('string', value) });
      return;
    }
    for (const refine of refinements) {
      const message = refine(value);
      if (message !== undefined) {
        issues.push({ path, message });
        return;
      }
    }
  };
}

/** A refinement for {@link string}: `message` unless `pattern` matches. */
export const matches =
  (pattern: RegExp, message: string) =>
  (s: string): string | undefined =>
    pattern.test(s) ? undefined : message;

/** A refinement for {@link string}: `message` unless `ok` holds. */
export const holds =
  (ok: (s: string) => boolean, message: string) =>
  (s: string): string | undefined =>
    ok(s) ? undefined : message;

/** A boolean. */
export const boolean: Check = (value, path, issues) => {
  if (typeof value !== 'boolean') issues.push({ path, message: expected('boolean', value) });
};

/** A non-negative integer (a size). */
export const size: Check = (value, path, issues) => {
  if (typeof value !== 'number') issues.push({ path, message: expected('number', value) });
  else if (!Number.isInteger(value)) issues.push({ path, message: 'must be an integer' });
  else if (value < 0) issues.push({ path, message: 'must not be negative' });
};

/** Exactly `literal`, else `message`. */
export function literal(literal: string | number, message: string): Check {
  return (value, path, issues) => {
    if (value !== literal) issues.push({ path, message: value === undefined ? 'is required' : message });
  };
}

/** `check`, or absent (undefined). */
export function optional(check: Check): Check {
  return (value, path, issues) => {
    if (value !== undefined) check(value, path, issues);
  };
}

/** `check`, or null, or absent — as Docker's Go structs write empty fields. */
export function nullish(check: Check): Check {
  return (value, path, issues) => {
    if (value !== undefined && value !== null) check(value, path, issues);
  };
}

/** An array whose every item passes `item`; with `min`, at least that many (else `minMessage`). */
export function array(item: Check, min?: { length: number; message: string }): Check {
  return (value, path, issues) => {
    if (!Array.isArray(value)) {
      issues.push({ path, message: expected('array', value) });
      return;
    }
    if (min && value.length < min.length) issues.push({ path, message: min.message });
    for (let i = 0; i < value.length; i++) item(value[i], [...path, i], issues);
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object whose named fields pass their checks; other fields are kept as they are. */
export function object(shape: Readonly<Record<string, Check>>): Check {
  const fields = Object.entries(shape);
  return (value, path, issues) => {
    if (!isObject(value)) {
      issues.push({ path, message: expected('object', value) });
      return;
    }
    for (const [key, check] of fields) check(value[key], [...path, key], issues);
  };
}

/** A JSON object whose every value passes `item` (a map). */
export function record(item: Check): Check {
  return (value, path, issues) => {
    if (!isObject(value)) {
      issues.push({ path, message: expected('object', value) });
      return;
    }
    for (const [key, v] of Object.entries(value)) item(v, [...path, key], issues);
  };
}

/** Any JSON object (a set entry such as `ExposedPorts["80/tcp"]: {}`). */
export const anyObject: Check = record(() => {});

/** Runs `check` over `value` and returns every issue found (none when it is valid). */
export function issuesOf(check: Check, value: unknown): Issue[] {
  const issues: Issue[] = [];
  check(value, [], issues);
  return issues;
}
