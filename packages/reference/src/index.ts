export { NAME_TOTAL_LENGTH_MAX, ReferenceGrammar } from './lib/grammar.ts';
export type { ReferenceErrorReason } from './lib/reference.ts';
export {
  familiarMatch,
  parseAnyReference,
  parseCanonicalReference,
  parseNormalizedReference,
  parseReference,
  parseStrictReference,
  Reference,
  referenceFromName,
} from './lib/reference.ts';
