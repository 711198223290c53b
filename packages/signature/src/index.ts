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
