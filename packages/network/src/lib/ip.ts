import { InvalidArgumentError, truncate } from '@ocikit/errors';

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
    const v6 = text.includes(':');
    throw new InvalidArgumentError(
      v6
        ? `${what} ${JSON.stringify(truncate(text))}: IPv6 subnets are not supported yet`
        : `${what} ${JSON.stringify(truncate(text))} is not an IPv4 CIDR (A.B.C.D/N)`,
      { details: { [what]: truncate(text) } },
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
