// A local container record as the contract shows it: ContainerSummary (`ps`) and ContainerDetails (`inspect`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ContainerDetails,
  type ContainerState,
  type ContainerSummary,
  commandLine,
  containerStatus,
} from '@ocikit/engine';
import type { Linux, Process } from '@ocikit/runtime-spec';
import type { ContainerRecord } from '@ocikit/shim';
import { inspectNetworks, type NetworkState } from './network.ts';

/** The contract's state of a record: a container still being configured counts as `created`. */
export function stateOf(record: ContainerRecord): ContainerState {
  return record.status === 'configured' ? 'created' : record.status;
}

/**
 * A record as `containers.list` gives it, its status worded as Docker's at `now`; with its network
 * record (bridge and user networks), its published ports and networks.
 */
export function toSummary(
  record: ContainerRecord,
  now: number = Date.now(),
  network?: NetworkState | undefined,
): ContainerSummary {
  const state = stateOf(record);
  return {
    id: record.id,
    name: record.name,
    image: record.image,
    command: commandLine(record.command),
    created: record.createdAt,
    state,
    status:
      record.status === 'configured'
        ? 'Configuring'
        : containerStatus(
            {
              state,
              created: record.createdAt,
              startedAt: record.startedAt,
              finishedAt: record.finishedAt,
              exitCode: record.exitCode,
            },
            now,
          ),
    labels: record.labels ?? {},
    ...(record.pid !== undefined && (state === 'running' || state === 'paused') ? { pid: record.pid } : {}),
    ...(record.exitCode !== undefined ? { exitCode: record.exitCode } : {}),
    ...(record.startedAt !== undefined ? { startedAt: record.startedAt } : {}),
    ...(record.finishedAt !== undefined ? { finishedAt: record.finishedAt } : {}),
    autoRemove: record.autoRemove,
    ...(network ? { ports: network.ports, networks: network.networks.map((a) => a.network) } : {}),
  };
}

/** The process and host name of a container's config.json, when it has one yet. */
function configOf(record: ContainerRecord): { process?: Process; hostname?: string; linux?: Linux } {
  try {
    return JSON.parse(readFileSync(join(record.bundle, 'config.json'), 'utf8')) as {
      process?: Process;
      hostname?: string;
      linux?: Linux;
    };
  } catch {
    return {};
  }
}

/**
 * A record as `containers.inspect` gives it, `raw` the record itself; `network` from its network
 * record, else `none` or `host` as its config.json says (a network namespace of its own, or not).
 */
export function toDetails(record: ContainerRecord, network?: NetworkState | undefined): ContainerDetails {
  const state = stateOf(record);
  const { process: proc, hostname, linux } = configOf(record);
  const ownNetns = (linux?.namespaces ?? []).some((n) => n.type === 'network');
  const user = proc?.user;
  return {
    id: record.id,
    name: record.name,
    image: record.image,
    created: record.createdAt,
    state: {
      status: state,
      running: state === 'running' || state === 'paused',
      paused: state === 'paused',
      ...(record.pid !== undefined && (state === 'running' || state === 'paused') ? { pid: record.pid } : {}),
      ...(record.exitCode !== undefined ? { exitCode: record.exitCode } : {}),
      ...(record.startedAt !== undefined ? { startedAt: record.startedAt } : {}),
      ...(record.finishedAt !== undefined ? { finishedAt: record.finishedAt } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
    },
    config: {
      args: proc?.args ?? record.command,
      env: proc?.env ?? [],
      ...(proc?.cwd !== undefined ? { workingDir: proc.cwd } : {}),
      ...(user ? { user: `${user.uid}:${user.gid}` } : {}),
      tty: record.tty,
      openStdin: record.interactive,
      ...(hostname !== undefined ? { hostname } : {}),
      labels: record.labels ?? {},
      stopSignal: record.stopSignal,
      stopTimeout: record.stopTimeout ?? 10,
    },
    autoRemove: record.autoRemove,
    network: network
      ? {
          mode: network.mode,
          networks: inspectNetworks(network),
          ports: network.ports,
          hostname: network.hostname,
        }
      : {
          mode: ownNetns || !linux ? 'none' : 'host',
          networks: [],
          ports: [],
          ...(hostname !== undefined ? { hostname } : {}),
        },
    runtime: record.runtime,
    logPath: record.logPath,
    raw: record,
  };
}
