// @ocikit/test-engines: real container engines for tests, each on a unix socket and in a temp dir of
// its own, torn down after — dockerd from Debian's docker.io (with the containerd it starts) and
// `podman system service` — plus plain requests over their sockets.

export type { SocketResponse } from './lib/api.ts';
export { pingOk, socketRequest } from './lib/api.ts';
export type { StartDockerdOptions } from './lib/dockerd.ts';
export { startDockerd } from './lib/dockerd.ts';
export type { RunInNewNamespacesOptions } from './lib/netns-child.ts';
export { prepareNamespaces, reportResult, runInNewNamespaces } from './lib/netns-child.ts';
export type { StartPodmanServiceOptions } from './lib/podman.ts';
export { startPodmanService } from './lib/podman.ts';
export type { PodmanCni } from './lib/podman-cni.ts';
export { PODMAN_CNI_DEFAULT_SUBNET, PODMAN_CNI_SUBNET_POOL, startPodmanCni } from './lib/podman-cni.ts';
export type { RunningEngine } from './lib/process.ts';
export { mountsUnder } from './lib/process.ts';
export type { NetSandbox, SandboxResult, SandboxRunOptions } from './lib/sandbox.ts';
export { startNetSandbox } from './lib/sandbox.ts';
