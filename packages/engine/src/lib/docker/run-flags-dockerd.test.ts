// The `run` flags' ContainerSpec fields (labels, stopSignal, stopTimeout, ulimits, sysctls, shmSize, groupAdd, devices, securityOpt) through the
// docker driver against a real dockerd (Debian's docker.io): inspect shows them and the container sees
// them, as the local engine's run-flags-parity test checks beside podman.
import { startDockerd } from '@ocikit/test-engines';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine.ts';
import { dockerDriver } from './driver.ts';
import { useBusyboxEngine } from './test-busybox-engine.ts';

describe('run flags through the docker driver on dockerd', () => {
  const image = 'docker.io/library/rf-busybox:1';
  const use = useBusyboxEngine(dockerDriver, () => startDockerd(), image);
  let engine: Engine;
  beforeAll(() => {
    engine = use.engine();
  });

  it('labels and stopSignal in inspect; ulimits, sysctls, shmSize, groupAdd, devices and securityOpt inside the container', async () => {
    const script = [
      'ulimit -Sn; ulimit -Hn; ulimit -c',
      'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax',
      "df -k /dev/shm | tail -1 | awk '{print $2}'",
      "id -G | tr ' ' '\\n' | grep -x 1234",
      'head -c 2 /dev/z0 | od -An -tx1',
      "grep NoNewPrivs /proc/self/status | awk '{print $2}'",
    ].join('; ');
    let out = '';
    // a first attempt's container goes first: a retry (decision 209) must not meet "name in use"
    await engine.containers.remove('rf-flags', { force: true }).catch(() => {});
    const ran = await engine.containers.run(
      {
        image,
        name: 'rf-flags',
        cmd: ['sh', '-c', script],
        network: 'none',
        labels: { a: '1', b: '' },
        stopSignal: 'SIGINT',
        stopTimeout: 3,
        ulimits: [
          { name: 'nofile', soft: 512, hard: 768 },
          { name: 'core', soft: 0, hard: 0 },
        ],
        sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096' },
        shmSize: 3 * 1024 * 1024,
        groupAdd: ['1234'],
        securityOpt: ['no-new-privileges:true'],
        devices: [{ pathOnHost: '/dev/zero', pathInContainer: '/dev/z0', cgroupPermissions: 'rwm' }],
      },
      { onOutput: (c) => (out += new TextDecoder().decode(c.data)) },
    );
    expect(ran.exitCode).toBe(0);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual(['512', '768', '0', '1', '4096', '3072', '1234', '00 00', '1']);
    const details = await engine.containers.inspect(ran.id);
    expect(details.config.labels).toEqual({ a: '1', b: '' });
    expect(details.config.stopSignal).toBe('SIGINT');
    expect(details.config.stopTimeout).toBe(3);
    await engine.containers.remove(ran.id);
  }, 120_000);

  // (privileged is not run here: dockerd 20.10 asks runc for every capability, CAP_SYS_RESOURCE too,
  // which this host's bounding set lacks — "unable to apply caps")
  it('init: an init as PID 1, the command its child', async () => {
    let out = '';
    const ran = await engine.containers.run(
      {
        image,
        cmd: ['sh', '-c', '[ $$ -ne 1 ] && echo child'],
        network: 'none',
        init: true,
        autoRemove: true,
      },
      { onOutput: (c) => (out += new TextDecoder().decode(c.data)) },
    );
    expect(ran.exitCode).toBe(0);
    expect(out.trim().split('\n')).toEqual(['child']);
  }, 120_000);
});
