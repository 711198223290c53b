import { digestOfSync } from '@ocikit/digest';
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import cases from '../../test/fixtures/image-spec.json' with { type: 'json' };
import { MediaType } from './media-types.ts';
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

interface CompatCase extends Case {
  originalRaw: string;
  originalRawSha256Digest: string;
}

describe('Docker v2.2 originals of the compat-* vectors', () => {
  const compat = (cases as Case[]).filter((c): c is CompatCase => 'originalRaw' in c);

  it('has the four compat cases', () => {
    expect(compat.map((c) => c.name.split(':')[0])).toEqual([
      'index/compat-00',
      'manifest/compat-00',
      'config/compat-00',
      'config/compat-01',
    ]);
  });

  it.each(compat.map((c) => [c.name, c] as const))('%s parses with its Docker media types', (_n, c) => {
    const bytes = new TextEncoder().encode(c.originalRaw);
    expect(digestOfSync(bytes)).toBe(c.originalRawSha256Digest);
    const parsed = parsers[c.schema](bytes) as { mediaType?: string };
    if (c.schema === 'manifest') {
      expect(parsed.mediaType).toBe(MediaType.DockerManifest);
    } else if (c.schema === 'index') {
      expect(parsed.mediaType).toBe(MediaType.DockerManifestList);
    }
  });
});

describe('where we differ from upstream', () => {
  // Upstream's Go validator checks upper-case hex only for a bare descriptor (descriptor/15); inside a
  // manifest the JSON schema alone runs and accepts it. We reject it everywhere: such a digest can never
  // match content (decision 020).
  it('rejects upper-case sha256 hex inside a manifest, which upstream accepts', () => {
    const manifest = (cases as Case[]).find((c) => c.name.startsWith('manifest/04'));
    const input = structuredClone(manifest?.input) as { config: { digest: string } };
    input.config.digest = input.config.digest.toUpperCase().replace('SHA256', 'sha256');
    expect(() => parseManifest(input)).toThrow(/config\.digest/);
  });
});
