import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { type Check, issuesOf } from './check.ts';
import { configSchema, descriptorSchema, indexSchema, layoutSchema, manifestSchema } from './schema.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageLayout, ImageManifest } from './types.ts';

/** The largest JSON document the parse functions accept: 4 MiB, as registries cap manifests. */
export const MAX_DOCUMENT_SIZE = 4 * 1024 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a document given as bytes or a string into a JSON value (anything else passes through),
 * rejecting oversized and malformed input with an InvalidArgumentError.
 */
export function decodeJson(input: unknown, what: string): unknown {
  if (!(input instanceof Uint8Array) && typeof input !== 'string') return input;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > MAX_DOCUMENT_SIZE) {
    throw new InvalidArgumentError(
      `${what}: document of ${size} bytes is larger than the ${MAX_DOCUMENT_SIZE} limit`,
      {
        details: { reason: 'too-large', size, limit: MAX_DOCUMENT_SIZE },
      },
    );
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : decoder.decode(input);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: not valid UTF-8`, {
      cause: e,
      details: { reason: 'malformed' },
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(
      `${what}: malformed JSON (${(e as Error).message}) in "${truncate(text, 60)}"`,
      {
        cause: e,
        details: { reason: 'malformed' },
      },
    );
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(document)';
}

/** Validates `input` with a check, turning every problem into one line of an InvalidArgumentError. */
function validateWith<T>(check: Check, input: unknown, what: string): T {
  const value = decodeJson(input, what);
  const found = issuesOf(check, value);
  if (found.length === 0) return value as T;
  const issues = found.map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new InvalidArgumentError(
    `invalid ${what}: ${issues.slice(0, 3).join('; ')}${issues.length > 3 ? '; …' : ''}`,
    {
      details: { reason: 'invalid', issues },
    },
  );
}

/**
 * Parses an image manifest (OCI or Docker schema2) from bytes, a string or a JSON value.
 *
 * @example
 * ```ts
 * const manifest = parseManifest(await readFile('manifest.json'));
 * ```
 */
export function parseManifest(input: unknown): ImageManifest {
  return validateWith<ImageManifest>(manifestSchema, input, 'manifest');
}

/** Parses an image index (OCI, or a Docker manifest list) from bytes, a string or a JSON value. */
export function parseIndex(input: unknown): ImageIndex {
  return validateWith<ImageIndex>(indexSchema, input, 'index');
}

/** Parses an image configuration from bytes, a string or a JSON value. */
export function parseImageConfig(input: unknown): ImageConfig {
  return validateWith<ImageConfig>(configSchema, input, 'image config');
}

/** Parses a content descriptor from bytes, a string or a JSON value. */
export function parseDescriptor(input: unknown): Descriptor {
  return validateWith<Descriptor>(descriptorSchema, input, 'descriptor');
}

/** Parses an image layout's `oci-layout` file from bytes, a string or a JSON value. */
export function parseImageLayout(input: unknown): ImageLayout {
  return validateWith<ImageLayout>(layoutSchema, input, 'oci-layout');
}
