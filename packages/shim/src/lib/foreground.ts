// Containers run in the foreground by this process (`runtime run`), their record kept up to date.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ContainerRecord, type Records, runtimeOf, writeExitFile } from './records.ts';
import type { Stdio } from './runtime.ts';

/**
 * Runs a configured container in the foreground with `runtime run`: stdio as given (inherited:
 * a terminal works as with `runc run`), the record kept up to date; resolves to its exit code.
 * With `proxySignals`, signals sent to this process go to the container (see `RunOptions.proxySignals`).
 */
export async function runInForeground(
  records: Records,
  record: ContainerRecord,
  options: { stdio?: Stdio; proxySignals?: boolean },
): Promise<number> {
  const dir = records.recordDir(record.id);
  mkdirSync(record.runtimeRoot, { recursive: true });
  const runtime = runtimeOf(record);
  const running: ContainerRecord = {
    ...record,
    status: 'running',
    startedAt: new Date().toISOString(),
    ownerPid: process.pid,
  };
  await records.save(running);
  const pidFile = join(dir, 'pid');
  // Record the pid as soon as the runtime writes it, so a crash of this process leaves a record the
  // next command can check; once the runtime has returned there is nothing left to watch for.
  let finished = false;
  let wake = () => {};
  const watcher = (async () => {
    for (let i = 0; i < 200 && !finished; i++) {
      let text: string | undefined;
      try {
        text = readFileSync(pidFile, 'utf8');
      } catch {
        // not written yet
      }
      if (text?.trim()) {
        const current = await records.read(record.id);
        if (current?.status === 'running') await records.save({ ...current, pid: Number(text.trim()) });
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 25);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  const stopWatching = () => {
    finished = true;
    wake();
    return watcher;
  };
  let code: number;
  try {
    code = await runtime.run(record.id, {
      bundle: record.bundle,
      pidFile,
      stdio: options.stdio ?? 'inherit',
      proxySignals: options.proxySignals === true,
    });
  } catch (e) {
    await stopWatching();
    await records.save({
      ...((await records.read(record.id)) ?? running),
      status: 'exited',
      finishedAt: new Date().toISOString(),
    });
    throw e;
  }
  await stopWatching();
  writeExitFile(join(dir, 'exits'), record.id, code);
  const done: ContainerRecord = {
    ...((await records.read(record.id)) ?? running),
    status: 'exited',
    exitCode: code,
    finishedAt: new Date().toISOString(),
  };
  await records.save(done);
  return code;
}
