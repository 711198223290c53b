// Published ports of podman's containers from libpod's list: podman keeps consecutive ports of one
// `-p` as a range, and its Docker-compatible list gives only a range's first port (podman 4.3);
// libpod's list gives the range whole.
import type { Handlers, PublishedPort } from '../contract.ts';
import type { EngineHttp } from '../docker/http.ts';
import { obj, str } from '../docker/json.ts';
import { protocolOf, sortPorts } from '../docker/networks.ts';

/** libpod's `Ports` of a list entry (`[{host_ip, container_port, host_port, range, protocol}]`), expanded. */
export function libpodPorts(v: unknown): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const x of Array.isArray(v) ? v : []) {
    const p = obj(x);
    const containerPort = p['container_port'];
    const hostPort = p['host_port'];
    if (typeof containerPort !== 'number' || typeof hostPort !== 'number' || hostPort <= 0) continue;
    const range = typeof p['range'] === 'number' && p['range'] > 1 ? p['range'] : 1;
    const protocol = protocolOf(str(p, 'protocol'));
    for (let i = 0; i < range; i++)
      out.push({
        containerPort: containerPort + i,
        protocol,
        hostPort: hostPort + i,
        hostIp: str(p, 'host_ip') || '0.0.0.0',
      });
  }
  return sortPorts(out);
}

/**
 * `containers.list` over the compatible API (`list`), with each container's `ports` from libpod's
 * list under `prefix` (asked at the same time).
 */
export function listWithLibpodPorts(
  http: EngineHttp,
  prefix: string,
  list: Handlers['containers.list'],
): Handlers['containers.list'] {
  return async (options) => {
    const [containers, libpod] = await Promise.all([
      list(options),
      http.json({
        method: 'GET',
        path: `${prefix}/containers/json`,
        query: { all: options.all ? 'true' : undefined },
        signal: options.signal,
        operation: 'containers.list',
      }),
    ]);
    const ports = new Map<string, PublishedPort[]>();
    for (const c of Array.isArray(libpod) ? libpod : []) {
      const id = str(obj(c), 'Id');
      if (id) ports.set(id, libpodPorts(obj(c)['Ports']));
    }
    return containers.map((c) => ({ ...c, ports: ports.get(c.id) ?? c.ports }));
  };
}
