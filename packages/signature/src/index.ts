export { assertSignedIdentity, matchesSignedIdentity, signedIdentityProblem } from './lib/identity.ts';
export type { MakePayloadOptions, SigningPayload } from './lib/payload.ts';
export {
  MAX_PAYLOAD_SIZE,
  makePayload,
  PayloadType,
  parsePayload,
  SIGSTORE_PAYLOAD_MEDIA_TYPE,
} from './lib/payload.ts';
export type {
  ApplicableRequirements,
  EvaluatePolicyOptions,
  LoadPolicyOptions,
  PolicyAcceptance,
  PolicyIdentity,
  RequirementVerifier,
} from './lib/policy.ts';
export {
  dockerNamespaces,
  evaluatePolicy,
  loadPolicy,
  policyIdentity,
  requirementsFor,
  resolvePolicyPath,
  SYSTEM_POLICY_PATH,
} from './lib/policy.ts';
export type { ParsePolicyOptions } from './lib/policy-parse.ts';
export { parsePolicy } from './lib/policy-parse.ts';
export type {
  Keyring,
  SignSimpleSigningOptions,
  SimpleSigningRules,
  VerifiedSimpleSignature,
} from './lib/simple-signing.ts';
export {
  loadSignedByKeyring,
  MAX_KEYRING_SIZE,
  MAX_SIGNATURE_SIZE,
  readKeyring,
  signSimpleSigning,
  verifySignedBy,
  verifySimpleSignature,
} from './lib/simple-signing.ts';
export type {
  ImageToVerify,
  InsecureAcceptAnything,
  Policy,
  PolicyRequirement,
  PolicyTransport,
  RejectRequirement,
  SignatureSource,
  SignedByRequirement,
  SignedIdentity,
  SigstoreSignature,
  SigstoreSignedRequirement,
  VerifyCallOptions,
} from './lib/types.ts';
