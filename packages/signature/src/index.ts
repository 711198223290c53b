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
