import { InvalidArgumentError, isInvalidArgument } from '@ocikit/errors';
import {
  parseDescriptor,
  parseImageConfig,
  parseImageLayout,
  parseIndex,
  parseManifest,
} from '@ocikit/image-spec';
import { parseSpec, parseState } from '@ocikit/runtime-spec';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { readInput } from '../lib/input.ts';
import { printJson, println } from '../lib/output.ts';

const parsers: Readonly<Record<string, (input: Uint8Array) => unknown>> = {
  manifest: parseManifest,
  index: parseIndex,
  config: parseImageConfig,
  descriptor: parseDescriptor,
  layout: parseImageLayout,
  'runtime-config': parseSpec,
  state: parseState,
};

/** `ocikit validate --kind KIND FILE|-`: exit 0 when the document is valid, 1 with the reasons when not. */
export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'Validate an OCI document (manifest, index, config, runtime config, …)',
  usage: 'ocikit validate --kind KIND FILE|-',
  description: `KIND is one of: ${Object.keys(parsers).join(', ')}. "layout" is an oci-layout file.`,
  options: { kind: { type: 'string', short: 'k' } },
  help: { kind: `what the document is: ${Object.keys(parsers).join('|')}` },
  async run(ctx, { values, positionals }) {
    expectPositionals(validateCommand, positionals, 1);
    const kind = values.kind;
    const parse = kind === undefined ? undefined : parsers[kind];
    if (!parse) {
      throw new InvalidArgumentError(
        kind === undefined
          ? 'ocikit validate: --kind is required'
          : `ocikit validate: unknown kind "${kind}"`,
        { hint: `--kind is one of ${Object.keys(parsers).join(', ')}` },
      );
    }
    const file = positionals[0] ?? '-';
    const bytes = await readInput(ctx, file, 16 << 20);
    try {
      parse(bytes);
    } catch (e) {
      if (!isInvalidArgument(e)) throw e;
      const issues = Array.isArray(e.details['issues'])
        ? (e.details['issues'] as unknown[]).map(String)
        : [e.message];
      if (ctx.json) printJson(ctx, { valid: false, kind, file, reasons: issues });
      else {
        ctx.stderr.write(`${file}: not a valid ${kind}\n`);
        for (const reason of issues) ctx.stderr.write(`  ${reason}\n`);
      }
      return 1;
    }
    if (ctx.json) printJson(ctx, { valid: true, kind, file });
    else if (!ctx.quiet) println(ctx, `${file}: valid ${kind}`);
    return 0;
  },
});
