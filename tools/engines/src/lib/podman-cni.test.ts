// The network sandbox and podman's CNI backend inside it: what podman makes (bridge, veths, rules,
// leases) is in the sandbox only, containers reach the outside namespace, and stopping both leaves
// no process, namespace or directory behind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildBusyboxImage } from '@ocikit/test-images';
import { afterAll, describe, expect, it } from 'vitest';
import { startPodmanCni } from './podman-cni.ts';
import { startNetSandbox } from './sandbox.ts';

// lower case: podman names an image pulled from oci:DIR after the path
const layoutDir = `/var/tmp/ocikit-podman-cni-layout-${process.pid}`;
mkdirSync(layoutDir, { recursive: true });
afterAll(() => rmSync(layoutDir, { recursive: true, force: true }));

const hostLinks = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
const hostRules = () => execFileSync('iptables-save', [], { encoding: 'utf8' });
const hostLeases = () =>
  execFileSync('sh', ['-c', 'ls -R /var/lib/cni 2>/dev/null || true'], { encoding: 'utf8' });

describe('podman with CNI in a network sandbox', () => {
  it('keeps bridge, veth, rules and leases in the sandbox; containers reach the outside namespace; stop leaves nothing', async () => {
    const sandbox = await startNetSandbox();
    const inner = `/proc/${sandbox.pid}/ns/net`;
    const podman = await startPodmanCni(sandbox);
    const dir = podman.dir;
    try {
      const layout = join(layoutDir, 'layout');
      buildBusyboxImage(layout, 'busybox');
      const image = await podman.loadImage(layout, 'busybox');
      // busybox ping opens a raw socket: Debian's default capabilities leave NET_RAW out
      const started = await podman.cli([
        'run',
        '-d',
        ...podman.runFlags,
        '--cap-add',
        'NET_RAW',
        '--network',
        'bridge',
        image,
        'sleep',
        '60',
      ]);
      expect(started.code, started.stderr).toBe(0);
      const id = started.stdout.trim();
      const ping = await podman.cli(['exec', id, 'busybox', 'ping', '-c1', '-W2', sandbox.outsideAddress]);
      expect(ping.stdout + ping.stderr).toMatch(/1 packets received/);
      expect(ping.code).toBe(0);
      // the distribution's default sysctls apply (CONTAINERS_CONF alone would drop them)
      const range = await podman.cli(['exec', id, 'cat', '/proc/sys/net/ipv4/ping_group_range']);
      expect(range.stdout).toBe('0\t0\n');
      const links = await sandbox.run('ip', ['-o', 'link', 'show', 'cni-podman0']);
      const mac = /link\/ether ([0-9a-f:]+)/.exec(links.stdout)?.[1];
      expect(mac, links.stderr).toBeTruthy();
      const rules = await sandbox.run('iptables-save', []);
      expect(rules.stdout).toMatch(/10\.188\.0\.0\/16/);
      const leases = await sandbox.run('ls', ['/var/lib/cni/networks/podman']);
      expect(leases.stdout).toMatch(/last_reserved_ip/);
      // nothing of it on the test's own host (others may add links and rules there meanwhile)
      expect(hostLinks()).not.toContain(mac);
      expect(hostRules()).not.toMatch(/10\.188\./);
      expect(hostLeases()).not.toMatch(/10\.188\./);
      // and gone from the sandbox when the container is
      expect((await podman.cli(['rm', '-f', '-t', '0', id])).code).toBe(0);
      expect((await sandbox.run('iptables-save', [])).stdout).not.toMatch(/10\.188\.0\.0\/16/);
      expect((await sandbox.run('ip', ['-o', 'link', 'show', 'type', 'veth'])).stdout).toBe(
        (await sandbox.run('ip', ['-o', 'link', 'show', 'out0'])).stdout,
      );
      expect((await sandbox.run('ls', ['/var/lib/cni/networks/podman'])).stdout).not.toMatch(/10\.188\./);
    } finally {
      await podman.stop();
      await sandbox.stop();
    }
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(inner)).toBe(false);
    const left = readdirSync('/proc').filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });
    expect(left).toEqual([]);
  }, 120_000);
});
