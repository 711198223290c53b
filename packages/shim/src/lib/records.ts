// Container records under ROOT/containers: ids, container.json, exit files.
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkId, Runtime } from './runtime.ts';

/**
 * A container id: 32 random bytes as hex, as Docker's. Read from /dev/urandom rather than through
 * node:crypto, which costs `run` ~8 ms to load (decision 105).
 */
export function newId(): string {
  const buf = Buffer.alloc(32);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < buf.length; ) got += readSync(fd, buf, got, buf.length - got, null);
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}

/** Where a container is in its life. `configured`: its bundle is being prepared, not yet created. */
export type ContainerStatus = 'configured' | 'created' | 'running' | 'paused' | 'exited';

/** What ocikit keeps about a container, in `ROOT/containers/<id>/container.json`. */
export interface ContainerRecord {
  id: string;
  name: string;
  /** The image reference it was made from. */
  image: string;
  /** The command it runs (entrypoint and arguments). */
  command: string[];
  /** Its OCI bundle directory (`config.json`, `rootfs/`). */
  bundle: string;
  /** The runtime binary. */
  runtime: string;
  /** The runtime's state directory (`--root`). */
  runtimeRoot: string;
  tty: boolean;
  interactive: boolean;
  status: ContainerStatus;
  /** Host pid of the container's process, once created. */
  pid?: number;
  /** Pid of its monitor (conmon) for detached containers. */
  monitorPid?: number;
  /** Pid of the ocikit process running it in the foreground. */
  ownerPid?: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Exit code (128+N when killed by signal N); absent while it runs, or when it could not be known. */
  exitCode?: number;
  /**
   * Why its command could not be started (the runtime's message), when it could not: it then
   * exited with 127 (not found) or 126 (not executable), as podman's `State.Error`.
   */
  error?: string;
  /**
   * Its log file (stdout and stderr with timestamps, conmon's k8s-file format, at most the
   * `logSizeMax` of its {@link Containers}): kept for detached and foreground containers alike,
   * except one run in the foreground with a terminal, or one removed as it exits (`autoRemove`).
   */
  logPath: string;
  /** The directory holding the link to its attach socket (detached containers; this user's alone). */
  attachDir?: string;
  /** Remove the container when it exits. */
  autoRemove: boolean;
  /** The signal `stop` sends first (default SIGTERM). */
  stopSignal: string;
  /** Seconds `stop` waits before SIGKILL when it is given no timeout (10 when absent). */
  stopTimeout?: number;
  /** Free-form labels. */
  labels: Record<string, string>;
}

/** What a container name may be: as Docker's. */
export const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** The runtime a record uses. */
export function runtimeOf(record: Pick<ContainerRecord, 'runtime' | 'runtimeRoot'>): Runtime {
  return new Runtime({ binary: record.runtime, root: record.runtimeRoot });
}

/** Whether a process is alive (or a zombie not yet reaped). */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a pid file, or undefined. */
export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes a container's exit code where conmon would (`DIR/<id>`), atomically. */
export function writeExitFile(dir: string, id: string, code: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${id}.tmp`), String(code));
  renameSync(join(dir, `${id}.tmp`), join(dir, id));
}

/**
 * The records of containers under `ROOT/containers`: one directory per container, holding
 * `container.json`, the bundle, the log and the monitor's exit file.
 */
export class Records {
  /** `ROOT/containers`. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The directory of container `id`. */
  recordDir(id: string): string {
    return join(this.dir, checkId(id));
  }

  /**
   * Writes a record atomically. Records are small files read and written many times per command:
   * synchronous calls cost a fraction of the thread-pool round trips (decision 103).
   */
  async save(record: ContainerRecord): Promise<void> {
    const file = join(this.recordDir(record.id), 'container.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmp, file);
  }

  /** The record of `id`, or undefined (none, or torn by a crash mid-write). */
  async read(id: string): Promise<ContainerRecord | undefined> {
    try {
      return JSON.parse(readFileSync(join(this.recordDir(id), 'container.json'), 'utf8')) as ContainerRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (e instanceof SyntaxError) return undefined; // a record torn by a crash mid-write: ignored
      throw e;
    }
  }

  /**
   * Deletes container `id`'s directory. It is moved aside first (`ID.removing-…`, one rename), so
   * that writers still busy in it — conmon's last writes, the exit command it starts as it ends —
   * find no directory to write into instead of refilling it while it is deleted (ENOTEMPTY under
   * load). A moved-aside directory a killed process left is deleted by {@link readAll}.
   */
  removeDir(id: string): void {
    const dir = this.recordDir(id);
    const aside = `${dir}.removing-${process.pid}-${Date.now()}`;
    try {
      renameSync(dir, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    rmSync(aside, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }

  /** Every readable record (and, on the way, the moved-aside directories a killed removal left). */
  async readAll(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const id of await readdir(this.dir).catch(() => [] as string[])) {
      if (/^[0-9a-f]{64}\.removing-\d+-\d+$/.test(id) && !isAlive(Number(id.split('-')[1]))) {
        rmSync(join(this.dir, id), { recursive: true, force: true });
        continue;
      }
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      const record = await this.read(id);
      if (record) out.push(record);
    }
    return out;
  }

  /** The exit code the monitor (or a foreground runner) wrote, with when. */
  async exitFile(record: ContainerRecord): Promise<{ code: number; at: string } | undefined> {
    const file = join(this.recordDir(record.id), 'exits', record.id);
    try {
      const text = readFileSync(file, 'utf8');
      const st = statSync(file);
      const code = Number(text.trim());
      return Number.isInteger(code) ? { code, at: st.mtime.toISOString() } : undefined;
    } catch {
      return undefined;
    }
  }
}
