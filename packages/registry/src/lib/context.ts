// What the parts of a repository (blob reading, uploads, referrers, listing) share: its name,
// its paths and scopes, and requests sent through its transport.
import type { RegistryRequest, RegistryResponse } from './request.ts';

/** A request of one repository: the registry is the repository's own. */
export type RepositoryRequest = Omit<RegistryRequest, 'registry'>;

/** One repository as its parts see it. */
export interface RepositoryContext {
  /** `registry/repository`, for messages. */
  readonly name: string;
  readonly location: { readonly registry: string; readonly repository: string };
  /** Sends a request to the repository's registry. */
  send(req: RepositoryRequest): Promise<RegistryResponse>;
  /** Sends a request whose body is not needed and drains it, keeping the connection reusable. */
  call(req: RepositoryRequest): Promise<RegistryResponse>;
  /** `/v2/<repository>/<kind>/<rest>`. */
  path(kind: 'manifests' | 'blobs' | 'tags' | 'referrers', rest?: string): string;
  /** The token scopes of reading the repository. */
  pullScopes(): string[];
  /** The token scopes of writing the repository. */
  pushScopes(): string[];
}
