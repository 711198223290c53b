import { isFailedPrecondition, isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import {
  bigIntToIpv6,
  formatSubnet6,
  ipv6ToBigInt,
  parseSubnet,
  parseSubnet6,
  pickUlaSubnet,
  subnet6HasHost,
  subnets6Overlap,
} from './ip.ts';

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('IPv6 addresses and subnets', () => {
  it('parses and formats addresses canonically (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['fd00::1', 'fd00::1'],
      ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['fdf8:c0e4:b881:edd7::', 'fdf8:c0e4:b881:edd7::'],
    ];
    for (const [text, canonical] of cases) {
      const n = ipv6ToBigInt(text);
      expect(n, text).toBeTypeOf('bigint');
      expect(bigIntToIpv6(n as bigint)).toBe(canonical);
    }
    for (const bad of [
      '1.2.3.4',
      'fd00',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      'fd00::g',
      'fe80::1%eth0',
      '12345::',
    ]) {
      expect(ipv6ToBigInt(bad), bad).toBeUndefined();
    }
  });

  it('parses subnets: host bits, too small, not IPv6', () => {
    expect(formatSubnet6(parseSubnet6('FD00:1::/64'))).toBe('fd00:1::/64');
    expect(formatSubnet6(parseSubnet6('fd00:1::/126'))).toBe('fd00:1::/126');
    expect(thrown(() => parseSubnet6('fd00:1::1/64')).message).toBe(
      'subnet fd00:1::1/64 has host bits set; did you mean fd00:1::/64?',
    );
    const small = thrown(() => parseSubnet6('fd00:1::/127', 'subnet6'));
    expect(isInvalidArgument(small)).toBe(true);
    expect(small.message).toMatch(/too small: a \/127/);
    for (const bad of ['10.0.0.0/8', 'fd00::/129', 'fd00::', 'fd00::/64/1', 'fd00::/x']) {
      expect(isInvalidArgument(thrown(() => parseSubnet6(bad))), bad).toBe(true);
    }
    // and an IPv6 CIDR where IPv4 is wanted says so
    expect(thrown(() => parseSubnet('fd00::/64')).message).toMatch(/is not an IPv4 CIDR/);
  });

  it('overlap and host membership', () => {
    const a = parseSubnet6('fd00:1::/64');
    expect(subnets6Overlap(a, parseSubnet6('fd00:1::/80'))).toBe(true);
    expect(subnets6Overlap(a, parseSubnet6('fd00::/16'))).toBe(true);
    expect(subnets6Overlap(a, parseSubnet6('fd00:2::/64'))).toBe(false);
    expect(subnet6HasHost(a, ipv6ToBigInt('fd00:1::5') as bigint)).toBe(true);
    expect(subnet6HasHost(a, ipv6ToBigInt('fd00:1::') as bigint)).toBe(false);
    expect(subnet6HasHost(a, ipv6ToBigInt('fd00:2::5') as bigint)).toBe(false);
  });

  it('picks a free unique local /64: fd + 40 random bits, past taken ones', () => {
    const picks = [Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x9a), Uint8Array.of(0xab, 0xcd, 0xef, 0x01, 0x23)];
    let i = 0;
    const next = () => picks[i++] as Uint8Array;
    const taken = [parseSubnet6('fd12:3456:789a::/48')];
    expect(formatSubnet6(pickUlaSubnet(taken, next))).toBe('fdab:cdef:123::/64');
    const random = pickUlaSubnet([]);
    expect(formatSubnet6(random)).toMatch(/^fd[0-9a-f]{2}:[0-9a-f:]+::\/64$/);
    const full = thrown(() => pickUlaSubnet([parseSubnet6('fd00::/8')]));
    expect(isFailedPrecondition(full)).toBe(true);
  });
});
