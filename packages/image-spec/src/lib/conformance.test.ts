import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import cases from '../../test/fixtures/image-spec.json' with { type: 'json' };
import { parseDescriptor, parseImageConfig, parseImageLayout, parseIndex, parseManifest } from './parse.ts';

interface Case {
  name: string;
  schema: 'manifest' | 'index' | 'config' | 'descriptor' | 'layout';
  input: unknown;
  inputIsRawString?: boolean;
  valid: boolean;
}

const parsers = {
  manifest: parseManifest,
  index: parseIndex,
  config: parseImageConfig,
  descriptor: parseDescriptor,
  layout: parseImageLayout,
} as const;

describe('image-spec conformance vectors, through the public parse functions', () => {
  it.each((cases as Case[]).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const parse = parsers[c.schema];
    // Raw-string cases are documents that are not valid JSON; objects go in as JSON values and as bytes.
    const inputs = c.inputIsRawString
      ? [c.input]
      : [c.input, new TextEncoder().encode(JSON.stringify(c.input))];
    for (const input of inputs) {
      if (c.valid) {
        expect(() => parse(input)).not.toThrow();
      } else {
        let caught: unknown;
        try {
          parse(input);
        } catch (e) {
          caught = e;
        }
        expect(isInvalidArgument(caught), `${c.name} must be rejected`).toBe(true);
      }
    }
  });
});
