// Detached containers under conmon (decision 100): create, the sync pipe, undoing an aborted create.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError, throwIfAborted, truncate } from '@ocikit/errors';
import { attachDirFor, ensureOwnDirectory } from './attach-dir.ts';
import {
  type ContainerRecord,
  isAlive,
  type Records,
  readPid,
  runtimeOf,
  sleep,
  writeExitFile,
} from './records.ts';
import { commandFailure, hasHybridCgroups, lastLogError, START_FAILURE_CODES } from './runtime.ts';

/** What {@link createUnderConmon} needs besides the record. */
export interface MonitorOptions {
  /** The state root (for the attach directory and the crun wrapper). */
  root: string;
  /** The conmon binary (default: found on PATH or in the usual places). */
  conmon?: string | undefined;
  /** The most bytes the container's log file keeps (default 10 MiB). */
  logSizeMax?: number | undefined;
  /** Run when the container exits (e.g. `ocikit rm` for `--rm`). */
  exitCommand?: string[] | undefined;
  /** Stops the create: what was made is removed and an AbortedError thrown. */
  signal?: AbortSignal | undefined;
}

function findConmon(explicit?: string): string | undefined {
  const candidates = explicit
    ? [explicit]
    : [
        ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'conmon')),
        '/usr/bin/conmon',
        '/usr/libexec/podman/conmon',
        '/usr/local/libexec/podman/conmon',
      ];
  return candidates.find((c) => c && existsSync(c));
}

/** SIGKILL to a process group (and its leader), if there is one. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 1) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone, or not a group leader
    }
  }
}

/**
 * Creates a configured container in the runtime under conmon, which stays as its monitor: it outlives
 * this process, reaps the container, keeps its logs and writes its exit code.
 * `exitCommand` runs when the container exits (e.g. `ocikit rm` for `--rm`). When `signal` fires
 * first, the monitor and the runtime are killed, what they made is removed, the record stays
 * `configured`, and an AbortedError is thrown.
 */
export async function createUnderConmon(
  records: Records,
  record: ContainerRecord,
  options: MonitorOptions,
): Promise<ContainerRecord> {
  const { signal } = options;
  const conmon = findConmon(options.conmon);
  if (!conmon) {
    throw new FailedPreconditionError('conmon is not installed; detached containers need it', {
      details: { reason: 'conmon-not-installed' },
      hint: 'apt-get install conmon',
    });
  }
  const dir = records.recordDir(record.id);
  const attachDir = attachDirFor(options.root);
  ensureOwnDirectory(attachDir);
  await mkdir(join(dir, 'exits'), { recursive: true });
  await mkdir(record.runtimeRoot, { recursive: true });
  const runtimeBinary = await runtimeForMonitor(options.root, record);
  const args = [
    '--api-version',
    '1',
    '-c',
    record.id,
    '-u',
    record.id.slice(0, 12),
    '-n',
    record.name,
    '-r',
    runtimeBinary,
    '-b',
    record.bundle,
    '-p',
    join(dir, 'pid'),
    '-l',
    `k8s-file:${record.logPath}`,
    '--log-size-max',
    String(options.logSizeMax ?? 10 << 20),
    '--exit-dir',
    join(dir, 'exits'),
    '--socket-dir-path',
    attachDir,
    '--conmon-pidfile',
    join(dir, 'conmon.pid'),
    '--runtime-arg',
    `--root=${record.runtimeRoot}`,
    '--log-level',
    'error',
  ];
  if (record.tty) args.push('-t');
  if (record.interactive) args.push('-i');
  if (options.exitCommand && options.exitCommand.length > 0) {
    const [cmd, ...rest] = options.exitCommand;
    args.push('--exit-command', cmd as string);
    for (const a of rest) args.push('--exit-command-arg', a);
  }
  const runtimeLog = join(dir, 'runtime.log');
  args.push('--runtime-arg', `--log=${runtimeLog}`, '--runtime-arg', '--log-format=json');
  // conmon reports on the sync pipe (fd 3) once the runtime has created the container:
  // {"data": PID}, or {"data": -1, "message": ...}; nothing at all when it failed early.
  throwIfAborted(signal);
  const synced = await new Promise<{ pid?: number; message?: string; aborted?: true }>((resolve, reject) => {
    const child = spawn(conmon, args, {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
    const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    let text = '';
    const timer = setTimeout(() => finish({ message: 'conmon did not report within 60 s' }), 60_000);
    const finish = (r: { pid?: number; message?: string; aborted?: true }) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      pipe.destroy();
      child.unref();
      resolve(r);
    };
    // Aborted: kill conmon and what it started (the runtime, its hooks). conmon puts itself in the
    // background: its group may be the one it was started in or one of its own.
    const onAbort = () => {
      const monitor = readPid(join(dir, 'conmon.pid'));
      for (const group of [child.pid, monitor]) killGroup(group);
      finish({ aborted: true });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => {
      text += d;
      const line = text.split('\n')[0];
      if (!text.includes('\n') || line === undefined) return;
      try {
        const msg = JSON.parse(line) as { data?: number; message?: string };
        if (typeof msg.data === 'number' && msg.data > 0) finish({ pid: msg.data });
        else finish({ message: msg.message ?? 'the runtime failed' });
      } catch {
        finish({ message: truncate(line, 200) });
      }
    });
    pipe.on('end', () => finish({}));
  });
  if (synced.aborted) {
    await undoCreate(record, dir, attachDir);
    throwIfAborted(signal);
  }
  if (synced.pid === undefined) {
    const said = (await lastLogError(runtimeLog)) ?? synced.message ?? 'the runtime failed to create it';
    await runtimeOf(record)
      .delete(record.id, { force: true })
      .catch(() => {});
    // an exited container with the reason (and 127/126 when its command could not be started),
    // as podman keeps one: not one left being configured for ever
    const reason = /exec/i.test(said) ? commandFailure(said) : undefined;
    const exitCode = reason ? START_FAILURE_CODES[reason] : undefined;
    if (exitCode !== undefined) writeExitFile(join(dir, 'exits'), record.id, exitCode);
    await records.save({
      ...record,
      status: 'exited',
      finishedAt: new Date().toISOString(),
      error: truncate(said, 1000),
      ...(exitCode !== undefined ? { exitCode } : {}),
    });
    throw new FailedPreconditionError(`cannot create container ${record.name}: ${truncate(said, 400)}`, {
      details: { id: record.id, runtimeMessage: truncate(said, 1000), ...(reason ? { reason } : {}) },
    });
  }
  const pidText = String(synced.pid);
  const monitor = Number((await readFile(join(dir, 'conmon.pid'), 'utf8').catch(() => '')).trim());
  const next: ContainerRecord = {
    ...record,
    status: 'created',
    pid: Number(pidText.trim()),
    attachDir,
    ...(monitor > 0 ? { monitorPid: monitor } : {}),
  };
  await records.save(next);
  return next;
}

/** Removes what an interrupted create left: the monitor, the runtime's container, the monitor's files. */
async function undoCreate(record: ContainerRecord, dir: string, attachDir: string): Promise<void> {
  const monitor = readPid(join(dir, 'conmon.pid'));
  killGroup(monitor);
  for (let i = 0; i < 40 && isAlive(monitor); i++) await sleep(25);
  await runtimeOf(record)
    .delete(record.id, { force: true })
    .catch(() => {});
  // a create killed before it wrote its state leaves a directory `delete` does not know
  rmSync(join(record.runtimeRoot, record.id), { recursive: true, force: true });
  rmSync(join(attachDir, record.id.slice(0, 12)), { force: true });
  for (const name of ['exits', 'pid', 'conmon.pid', 'runtime.log'])
    rmSync(join(dir, name), { recursive: true, force: true });
}

/** For crun on hybrid-cgroup hosts, conmon gets a wrapper that runs crun without the v2 hierarchy. */
async function runtimeForMonitor(root: string, record: ContainerRecord): Promise<string> {
  if (!record.runtime.endsWith('/crun') || !hasHybridCgroups()) return record.runtime;
  const wrapper = join(root, 'runtime', 'crun-hybrid');
  const script = `#!/bin/sh\n# crun refuses hybrid cgroups: run it in a mount namespace without the v2 hierarchy (decision 101)\nexec unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' ${record.runtime} "$@"\n`;
  if ((await readFile(wrapper, 'utf8').catch(() => '')) !== script) {
    await mkdir(join(root, 'runtime'), { recursive: true });
    await writeFile(`${wrapper}.tmp`, script, { mode: 0o755 });
    await rename(`${wrapper}.tmp`, wrapper);
  }
  return wrapper;
}
