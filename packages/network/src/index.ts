export type {
  AddNetworkOptions,
  CniCallOptions,
  CniDns,
  CniInterface,
  CniIp,
  CniPluginErrorDetails,
  CniResult,
  CniRoute,
  DelNetworkOptions,
  PortMapping,
} from './lib/cni.ts';
export {
  addNetwork,
  cachedResult,
  checkNetwork,
  DEFAULT_CNI_PATH,
  delNetwork,
  parseCniResult,
} from './lib/cni.ts';
export type {
  Attachment,
  CreateNetworkOptions,
  Network,
  NetworkConfigList,
  NetworkStoreOptions,
  PluginConfig,
} from './lib/config.ts';
export {
  attachedContainers,
  CNI_VERSION,
  createNetwork,
  DEFAULT_NETWORK,
  DEFAULT_SUBNET,
  ensureDefaultNetwork,
  inspectNetwork,
  listAttachments,
  listNetworks,
  networksDir,
  pruneNetworks,
  removeNetwork,
  validateNetworkName,
} from './lib/config.ts';
export type { HostEntry, HostsFileOptions, ResolvConfOptions } from './lib/files.ts';
export { containerAddresses, hostnameFile, hostsFile, parseAddHost, resolvConf } from './lib/files.ts';
export { subnetHasAddress } from './lib/ip.ts';
export type { NetnsOptions } from './lib/netns.ts';
export { createNetns, removeNetns } from './lib/netns.ts';
export type { RulesNetwork } from './lib/rules.ts';
export { ensureNetworkRules, networkChain, removeNetworkRules } from './lib/rules.ts';
