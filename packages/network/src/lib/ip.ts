import { randomBytes } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, truncate } from '@ocikit/errors';

/** An IPv4 subnet: its network address as a 32-bit number and its prefix length. */
export interface Ipv4Subnet {
  /** The network address (host bits zero) as an unsigned 32-bit number. */
  readonly base: number;
  /** The prefix length, 0–32. */
  readonly prefix: number;
}

const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Re = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);

/** Parses dotted-quad IPv4 text into an unsigned 32-bit number, or undefined when it is not one. */
export function ipv4ToNumber(text: string): number | undefined {
  const m = ipv4Re.exec(text);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/** Formats an unsigned 32-bit number as dotted-quad IPv4 text. */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `A.B.C.D/N` (host bits must be zero), throwing InvalidArgumentError naming `what`. */
export function parseSubnet(text: string, what = 'subnet'): Ipv4Subnet {
  const [addr, len, extra] = text.split('/');
  const base = addr === undefined ? undefined : ipv4ToNumber(addr);
  const prefix = len !== undefined && /^\d{1,2}$/.test(len) ? Number(len) : Number.NaN;
  if (extra !== undefined || base === undefined || !(prefix >= 0 && prefix <= 32)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(truncate(text))} is not an IPv4 CIDR (A.B.C.D/N)`,
      {
        details: { [what]: truncate(text) },
      },
    );
  }
  if (prefix > 30) {
    throw new InvalidArgumentError(
      `${what} ${text} is too small: a /${prefix} leaves no room for containers`,
      {
        details: { [what]: text },
      },
    );
  }
  if ((base & mask(prefix)) >>> 0 !== base) {
    const net = numberToIpv4((base & mask(prefix)) >>> 0);
    throw new InvalidArgumentError(`${what} ${text} has host bits set; did you mean ${net}/${prefix}?`, {
      details: { [what]: text },
    });
  }
  return { base, prefix };
}

/** Formats a subnet as `A.B.C.D/N`. */
export function formatSubnet(s: Ipv4Subnet): string {
  return `${numberToIpv4(s.base)}/${s.prefix}`;
}

/** True when the two subnets share any address. */
export function subnetsOverlap(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

/** True when `ip` (a 32-bit number) is a usable host address of `s` (not the network or broadcast). */
export function subnetHasHost(s: Ipv4Subnet, ip: number): boolean {
  const size = 2 ** (32 - s.prefix);
  return (ip & mask(s.prefix)) >>> 0 === s.base && ip !== s.base && ip !== s.base + size - 1;
}

/** An IPv6 subnet: its network address as a 128-bit bigint and its prefix length. */
export interface Ipv6Subnet {
  /** The network address (host bits zero) as an unsigned 128-bit bigint. */
  readonly base: bigint;
  /** The prefix length, 0–128. */
  readonly prefix: number;
}

const all128 = (1n << 128n) - 1n;
const hextet = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses IPv6 text (`::` compression and a trailing dotted quad allowed, no zone) into a 128-bit
 * bigint, or undefined when it is not one.
 */
export function ipv6ToBigInt(text: string): bigint | undefined {
  if (!text.includes(':') || text.includes('%')) return undefined;
  let t = text;
  // a trailing IPv4 part (::ffff:1.2.3.4) is two hextets
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4?.[1]) {
    const n = ipv4ToNumber(v4[1]);
    if (n === undefined) return undefined;
    t = `${t.slice(0, -v4[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(':'));
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const groups =
    halves.length === 2
      ? [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail]
      : head;
  if (groups.length !== 8 || head.length + tail.length > (halves.length === 2 ? 7 : 8)) return undefined;
  let n = 0n;
  for (const g of groups) {
    if (!hextet.test(g)) return undefined;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

/** Formats a 128-bit bigint as canonical IPv6 text (RFC 5952: lower case, longest zero run as `::`). */
export function bigIntToIpv6(n: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // the longest run of two or more zero groups, the first of equal ones
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best.at < 0) return hex(groups);
  return `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.len))}`;
}

function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : (all128 << BigInt(128 - prefix)) & all128;
}

/**
 * Parses `ADDR/N` IPv6 CIDR text (host bits must be zero; at most a /126, which leaves room for a
 * gateway and a container), throwing InvalidArgumentError naming `what`.
 */
export function parseSubnet6(text: string, what = 'subnet'): Ipv6Subnet {
  const [addr, len, extra] = text.split('/');
  const base = addr === undefined ? undefined : ipv6ToBigInt(addr);
  const prefix = len !== undefined && /^\d{1,3}$/.test(len) ? Number(len) : Number.NaN;
  if (extra !== undefined || base === undefined || !(prefix >= 0 && prefix <= 128)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(truncate(text))} is not an IPv6 CIDR (ADDR/N)`, {
      details: { [what]: truncate(text) },
    });
  }
  if (prefix > 126) {
    throw new InvalidArgumentError(
      `${what} ${text} is too small: a /${prefix} leaves no room for containers`,
      { details: { [what]: text } },
    );
  }
  if ((base & mask6(prefix)) !== base) {
    throw new InvalidArgumentError(
      `${what} ${text} has host bits set; did you mean ${bigIntToIpv6(base & mask6(prefix))}/${prefix}?`,
      { details: { [what]: text } },
    );
  }
  return { base, prefix };
}

/** Formats an IPv6 subnet as canonical `ADDR/N`. */
export function formatSubnet6(s: Ipv6Subnet): string {
  return `${bigIntToIpv6(s.base)}/${s.prefix}`;
}

/** True when the two IPv6 subnets share any address. */
export function subnets6Overlap(a: Ipv6Subnet, b: Ipv6Subnet): boolean {
  const m = mask6(Math.min(a.prefix, b.prefix));
  return (a.base & m) === (b.base & m);
}

/** True when `ip` is an address of `s` other than its network (subnet-router anycast) address. */
export function subnet6HasHost(s: Ipv6Subnet, ip: bigint): boolean {
  return (ip & mask6(s.prefix)) === s.base && ip !== s.base;
}

/** True when the text is an IPv6 address or CIDR rather than an IPv4 one (it has a colon). */
export const isIpv6Text = (text: string): boolean => text.includes(':');

/**
 * Picks a unique local /64 (RFC 4193: `fd` and a random 40-bit global ID, subnet ID 0) that
 * overlaps none of `taken`, as podman does for `network create --ipv6` without an IPv6 subnet.
 * `random` (40 bits' worth of bytes) is for tests.
 *
 * @throws FailedPreconditionError when 32 random picks all overlap (only when `taken` covers fd00::/8).
 */
export function pickUlaSubnet(
  taken: readonly Ipv6Subnet[],
  random: () => Uint8Array = () => randomBytes(5),
): Ipv6Subnet {
  for (let i = 0; i < 32; i++) {
    const id = random().reduce((n, b) => (n << 8n) | BigInt(b), 0n) & 0xffffffffffn;
    const cand = { base: ((0xfdn << 120n) | (id << 80n)) & all128, prefix: 64 };
    if (!taken.some((t) => subnets6Overlap(t, cand))) return cand;
  }
  throw new FailedPreconditionError('no free IPv6 unique local /64 found: give an IPv6 subnet', {
    details: {},
  });
}

/**
 * True when `address` is a usable host address of `subnet` (CIDR text, IPv4 or IPv6; the network
 * and IPv4 broadcast addresses are not): what an engine checks a fixed `--ip`/`--ip6` against.
 * False for text that is not an address of the subnet's family; throws only for a bad subnet.
 *
 * @example
 * ```ts
 * subnetHasAddress('fd00:1::/64', 'fd00:1::5'); // true
 * ```
 */
export function subnetHasAddress(subnet: string, address: string): boolean {
  if (isIpv6Text(subnet)) {
    const ip = ipv6ToBigInt(address);
    return ip !== undefined && subnet6HasHost(parseSubnet6(subnet), ip);
  }
  const ip = ipv4ToNumber(address);
  return ip !== undefined && subnetHasHost(parseSubnet(subnet), ip);
}
