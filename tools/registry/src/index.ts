// @ocikit/test-registry: the real registry (Debian's docker-registry, CNCF distribution 2.8) on
// loopback ports in three auth modes (anonymous, htpasswd Basic, Bearer token with our own token
// issuer), plus a fault-injecting HTTP proxy for client retry/verification tests.

export type { Fault, FaultMatch, FaultProxy, FaultProxyOptions, ProxiedRequest } from './lib/fault-proxy.ts';
export { startFaultProxy } from './lib/fault-proxy.ts';
export type { ClientCertificate, TestPki } from './lib/pki.ts';
export { makeClientCertificate, makeTestPki } from './lib/pki.ts';
export { freePort } from './lib/ports.ts';
export type { AuthMode, RegistryTlsOptions, RunningRegistry, StartRegistryOptions } from './lib/registry.ts';
export { startRegistry } from './lib/registry.ts';
export type { ServiceProcess } from './lib/service.ts';
export { startService } from './lib/service.ts';
export type { RunningTinyproxy, TinyproxyOptions } from './lib/tinyproxy.ts';
export { startTinyproxy } from './lib/tinyproxy.ts';
export type {
  AccessEntry,
  Credentials,
  TokenIssuer,
  TokenIssuerOptions,
  TokenRequest,
} from './lib/token-issuer.ts';
export { parseScope, startTokenIssuer } from './lib/token-issuer.ts';
