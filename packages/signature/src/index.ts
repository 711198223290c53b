export type { FulcioIdentity, SigstoreTrust } from './lib/bundle.ts';
export { parseCertificates, verifyRekorBundle } from './lib/bundle.ts';
export type { CosignOptions, CosignSignatureToAttach } from './lib/cosign.ts';
export {
  attachCosignSignature,
  COSIGN_BUNDLE_ANNOTATION,
  COSIGN_CERTIFICATE_ANNOTATION,
  COSIGN_CHAIN_ANNOTATION,
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIGNATURE_ARTIFACT_TYPE,
  cosignSignatureTag,
  MAX_SIGNATURES,
  readCosignSignatures,
  signPayload,
} from './lib/cosign.ts';
export type { GpgOptions } from './lib/gpg.ts';
export { exportGpgSecretKey, signSimpleSigningWithGpg } from './lib/gpg.ts';
export { assertSignedIdentity, matchesSignedIdentity, signedIdentityProblem } from './lib/identity.ts';
export type {
  GenerateKeyPairOptions,
  Passphrase,
  ReadPrivateKeyOptions,
  SigstoreKeyPair,
} from './lib/keys.ts';
export {
  COSIGN_PRIVATE_KEY_PEM_TYPE,
  generateKeyPair,
  parsePublicKey,
  passphraseFromFile,
  readPrivateKey,
  SIGSTORE_PRIVATE_KEY_PEM_TYPE,
} from './lib/keys.ts';
export type { LookasideOptions } from './lib/lookaside.ts';
export {
  lookasideSignatureUrl,
  MAX_LOOKASIDE_SIGNATURES,
  readLookasideSignatures,
  writeLookasideSignatures,
} from './lib/lookaside.ts';
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
export type { LoadRegistriesDOptions, RegistriesD, RegistryNamespace } from './lib/registries-d.ts';
export {
  defaultLookaside,
  loadRegistriesD,
  lookasideFor,
  parseRegistriesDFile,
  SYSTEM_REGISTRIES_D,
  useSigstoreAttachments,
} from './lib/registries-d.ts';
export type { CosignAcceptance, VerifySigstoreSignedOptions } from './lib/sigstore-verify.ts';
export {
  acceptPayload,
  requirementPublicKeys,
  verifyCosignSignature,
  verifySigstoreSigned,
} from './lib/sigstore-verify.ts';
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
export type { TargetSignatureSourceOptions } from './lib/sources.ts';
export { targetSignatureSource } from './lib/sources.ts';
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
