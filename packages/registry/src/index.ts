export type { CertsLookup, RegistryTls } from './lib/certs-d.ts';
export { certsFor, defaultCertsDirs } from './lib/certs-d.ts';
export type { Credential, CredentialStoreOptions } from './lib/credentials.ts';
export { loadCredentials, removeCredentials, saveCredentials } from './lib/credentials.ts';
export type { RegistryErrorEntry } from './lib/errors.ts';
export type { ResponseBody } from './lib/http.ts';
export type { ListOptions } from './lib/listing.ts';
export { listCatalog } from './lib/listing.ts';
export type { ProxySettings } from './lib/proxy.ts';
export { ProxyResolver, proxySettingsFromEnv } from './lib/proxy.ts';
export type { FindPullSourceOptions, FoundPullSource } from './lib/pull-source.ts';
export { findPullSource } from './lib/pull-source.ts';
export type { ReferrersOptions } from './lib/referrers.ts';
export type {
  PullFromMirror,
  PullSource,
  RegistriesConfFile,
  RegistriesConfLookup,
  RegistryEntry,
  RegistryMirror,
  ShortNameMode,
  ShortNameResolution,
} from './lib/registries-conf.ts';
export {
  loadRegistriesConf,
  parseRegistriesConf,
  RegistriesConf,
} from './lib/registries-conf.ts';
export type { FetchedManifest, RepositoryOptions } from './lib/repository.ts';
export { MANIFEST_ACCEPT, openRepository, Repository } from './lib/repository.ts';
export type {
  CredentialSource,
  RegistryRequest,
  RegistryResponse,
  RequestBody,
  RequestEvent,
  TransportOptions,
} from './lib/transport.ts';
export { Transport } from './lib/transport.ts';
