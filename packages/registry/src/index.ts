export type { CertsLookup, RegistryTls } from './lib/certs-d.ts';
export { certsFor, defaultCertsDirs, readCertsDir } from './lib/certs-d.ts';
export type { Credential, CredentialStoreOptions } from './lib/credentials.ts';
export { loadCredentials, removeCredentials, saveCredentials } from './lib/credentials.ts';
export type { RegistryErrorEntry, RequestContext } from './lib/errors.ts';
export { parseErrorBody, registryErrors, responseError } from './lib/errors.ts';
export type { ResponseBody } from './lib/http.ts';
export type { ProxySettings } from './lib/proxy.ts';
export { ProxyResolver, proxySettingsFromEnv } from './lib/proxy.ts';
export type {
  PullFromMirror,
  PullSource,
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
  refMatchingPrefix,
} from './lib/registries-conf.ts';
export type { FetchedManifest, ListOptions, RepositoryOptions } from './lib/repository.ts';
export {
  listCatalog,
  MANIFEST_ACCEPT,
  nextLink,
  openRepository,
  Repository,
  referrersTag,
} from './lib/repository.ts';
export type {
  CredentialSource,
  RegistryRequest,
  RegistryResponse,
  RequestBody,
  RequestEvent,
  TransportOptions,
} from './lib/transport.ts';
export { isLoopback, retryAfterMs, Transport } from './lib/transport.ts';
export type { AuthChallenge } from './lib/www-authenticate.ts';
export { parseWwwAuthenticate } from './lib/www-authenticate.ts';
