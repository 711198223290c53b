// The reference grammar of github.com/distribution/reference (regexp.go), as JavaScript regexps.

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainName}|${ipv6address})`;
const port = '[0-9]+';
const domainAndPort = `${host}(?::${port})?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

/** The anchored regular expressions of the reference grammar. */
export const ReferenceGrammar = {
  /** `domain[:port]`. */
  domainAndPort: new RegExp(`^${domainAndPort}$`),
  /** A name: captures (domain, path). */
  anchoredName: new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`),
  /** A whole reference: captures (name, tag, digest). */
  reference: new RegExp(`^(${namePat})(?::(${tag}))?(?:@(${digest}))?$`),
  /** A 64-hex image identifier. */
  identifier: /^([a-f0-9]{64})$/,
  /** A tag. */
  tag: new RegExp(`^${tag}$`),
  /** A digest as the reference grammar sees it (no per-algorithm check). */
  digest: new RegExp(`^${digest}$`),
} as const;

/** The longest a repository path may be (the domain is not counted, as upstream). */
export const NAME_TOTAL_LENGTH_MAX = 255;
