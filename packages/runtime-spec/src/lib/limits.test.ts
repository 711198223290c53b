import { describe, expect, it } from 'vitest';
import { RLIM_INFINITY, rlimitType, stringifySpec, sysctlRefusal } from './limits.ts';
import { parseSpec } from './parse.ts';

describe('rlimitType', () => {
  it("maps Docker's ulimit names (and RLIMIT_ ones) to runtime-spec types; others are unknown", () => {
    expect(rlimitType('nofile')).toBe('RLIMIT_NOFILE');
    expect(rlimitType('RLIMIT_CORE')).toBe('RLIMIT_CORE');
    expect(rlimitType('bogus')).toBeUndefined();
  });
});

describe('sysctlRefusal', () => {
  it('takes IPC and network namespaced keys, refuses the rest and net.* with the host network', () => {
    for (const ok of ['kernel.msgmax', 'kernel.shm_rmid_forced', 'fs.mqueue.msg_max', 'net.ipv4.ip_forward'])
      expect(sysctlRefusal(ok)).toBeUndefined();
    expect(sysctlRefusal('vm.swappiness')).toMatch(/not a namespaced/);
    expect(sysctlRefusal('kernel.pid_max')).toMatch(/not a namespaced/);
    expect(sysctlRefusal('net.ipv4.ip_forward', { hostNetwork: true })).toMatch(/host's network/);
  });
});

describe('stringifySpec', () => {
  it('writes RLIM_INFINITY as 18446744073709551615 (JSON.stringify would overflow a uint64), the rest as JSON.stringify', () => {
    const proc = {
      cwd: '/',
      rlimits: [
        { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 },
      ],
    };
    expect(JSON.stringify(RLIM_INFINITY)).toBe('18446744073709552000');
    const text = stringifySpec(proc);
    expect(text).toBe(
      '{"cwd":"/","rlimits":[{"type":"RLIMIT_CORE","soft":18446744073709551615,"hard":18446744073709551615},' +
        '{"type":"RLIMIT_NOFILE","soft":1024,"hard":2048}]}',
    );
    // read back, it is RLIM_INFINITY again, and written again the same
    expect(JSON.parse(text)).toEqual(proc);
    expect(stringifySpec(JSON.parse(text))).toBe(text);
    expect(stringifySpec(proc, 2)).toContain('"soft": 18446744073709551615');
  });

  it('a spec holding RLIM_INFINITY passes the schema (a uint64)', () => {
    const spec = {
      ociVersion: '1.0.2',
      process: { cwd: '/', rlimits: [{ type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY }] },
    };
    expect(parseSpec(stringifySpec(spec)).process?.rlimits?.[0]?.hard).toBe(RLIM_INFINITY);
  });
});
