import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import cases from '../../test/fixtures/runtime-spec.json' with { type: 'json' };
import { parseFeatures, parseSpec, parseState } from './parse.ts';

interface Case {
  name: string;
  schema: 'config' | 'state' | 'features';
  input: unknown;
  valid: boolean;
}
const parsers = { config: parseSpec, state: parseState, features: parseFeatures } as const;

describe('runtime-spec conformance vectors, through parseSpec / parseState / parseFeatures', () => {
  it.each((cases as Case[]).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const parse = parsers[c.schema];
    if (c.valid) expect(() => parse(c.input)).not.toThrow();
    else {
      let caught: unknown;
      try {
        parse(c.input);
      } catch (e) {
        caught = e;
      }
      expect(isInvalidArgument(caught), `${c.name} must be rejected`).toBe(true);
    }
  });
});
