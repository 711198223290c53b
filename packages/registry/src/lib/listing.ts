// Listing: tags of a repository and the registry's catalog, following `Link` pagination
// (as go-containerregistry's remote.List and remote.Catalog).
import type { SignalOptions } from '@ocikit/content';
import { InvalidArgumentError } from '@ocikit/errors';
import { MAX_DOCUMENT_SIZE } from '@ocikit/image-spec';
import { type RegistryResponse, readBody } from './request.ts';
import { Transport, type TransportOptions } from './transport.ts';

/** Options of {@link Repository.tags} and {@link listCatalog}. */
export interface ListOptions extends SignalOptions {
  /** Page size asked of the registry (`n`); pages are followed through `Link` headers. */
  pageSize?: number;
  /** Start after this entry (`last`). */
  last?: string;
  /** Stop after this many entries. */
  limit?: number;
}

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(link: string | string[] | undefined): string | undefined {
  const values = Array.isArray(link) ? link : link === undefined ? [] : [link];
  for (const value of values) {
    for (const part of value.split(',')) {
      const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
      if (m?.[1] !== undefined && /rel\s*=\s*"?next"?/i.test(m[2] ?? '')) return m[1];
    }
  }
  return undefined;
}

/** Follows `Link` pagination of a tags or catalog listing. */
export async function paginate(
  transport: Transport,
  registry: string,
  base: string,
  key: 'tags' | 'repositories',
  scopes: string[],
  what: string,
  options: ListOptions,
): Promise<string[]> {
  const out: string[] = [];
  const query = new URLSearchParams();
  if (options.pageSize !== undefined) query.set('n', String(options.pageSize));
  if (options.last !== undefined) query.set('last', options.last);
  let path: string | undefined = query.size > 0 ? `${base}?${query}` : base;
  for (let pages = 0; path !== undefined; pages++) {
    if (pages > 100_000) throw new InvalidArgumentError(`${what}: the registry's pages do not end`);
    const res: RegistryResponse = await transport.send({
      registry,
      method: 'GET',
      path,
      scopes,
      what,
      signal: options.signal,
    });
    const body = await readBody(res.body, MAX_DOCUMENT_SIZE, what);
    let list: unknown;
    try {
      list = (JSON.parse(body.toString('utf8')) as Record<string, unknown>)[key];
    } catch (cause) {
      throw new InvalidArgumentError(`${what}: the registry answered with something that is not JSON`, {
        cause,
      });
    }
    if (
      list !== null &&
      list !== undefined &&
      !(Array.isArray(list) && list.every((t) => typeof t === 'string'))
    ) {
      throw new InvalidArgumentError(`${what}: "${key}" is not a list of strings`);
    }
    for (const item of (list as string[] | null | undefined) ?? []) {
      out.push(item);
      if (options.limit !== undefined && out.length >= options.limit) return out;
    }
    const next = nextLink(res.headers.link);
    if (next === undefined) break;
    const url = new URL(next, 'http://registry.invalid');
    path = `${url.pathname}${url.search}`;
  }
  return out;
}

/**
 * Lists a registry's repositories (`/v2/_catalog`, following `Link` pagination), through
 * `options.transport` when given (its pools and tokens), else a transport of its own.
 *
 * @example
 * ```ts
 * const names = await listCatalog('localhost:5000');
 * ```
 */
export async function listCatalog(
  registry: string,
  options: ListOptions & TransportOptions & { transport?: Transport } = {},
): Promise<string[]> {
  const transport = options.transport ?? new Transport(options);
  try {
    return await paginate(
      transport,
      registry,
      '/v2/_catalog',
      'repositories',
      ['registry:catalog:*'],
      `catalog of ${registry}`,
      options,
    );
  } finally {
    if (options.transport === undefined) await transport.close();
  }
}
