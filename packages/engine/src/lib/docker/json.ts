// Tolerant readers of the engine's JSON: a field of the wrong type reads as absent, so one odd
// field never fails a whole answer; an answer that is not an object at all is `bad-response`.

/** A JSON object, or an empty one for anything else. */
export type Json = Record<string, unknown>;

/** `v` as an object (empty when it is not one). */
export function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

/** True when `v` is a JSON object. */
export function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string field, or undefined. */
export function str(o: Json, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

/** A non-empty string field, or undefined. */
export function nonEmpty(o: Json, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A number field, or undefined. */
export function num(o: Json, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A boolean field (false when absent). */
export function bool(o: Json, key: string): boolean {
  return o[key] === true;
}

/** A string-array field (empty when absent). */
export function strings(o: Json, key: string): string[] {
  const v = o[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A string-array field, or undefined when absent or null. */
export function maybeStrings(o: Json, key: string): string[] | undefined {
  const v = o[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** A string-to-string map field (empty when absent). */
export function labels(o: Json, key: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(o[key]))) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The keys of an object field (Docker's `ExposedPorts`, `Volumes`). */
export function keys(o: Json, key: string): string[] {
  return Object.keys(obj(o[key]));
}

/** Unix seconds as RFC 3339. */
export function fromUnix(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** An RFC 3339 time, or undefined for Go's zero time and empty strings. */
export function time(o: Json, key: string): string | undefined {
  const v = nonEmpty(o, key);
  return v === undefined || v.startsWith('0001-01-01') ? undefined : v;
}
