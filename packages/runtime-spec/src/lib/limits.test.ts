import { describe, expect, it } from 'vitest';
import { rlimitType, sysctlRefusal } from './limits.ts';

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
