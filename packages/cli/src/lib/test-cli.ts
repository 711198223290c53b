// Test helper: runs the real `ocikit` entry point from source in a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage } from '@ocikit/test-images';

const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));

/** What one run of the CLI printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ocikit ARGS…` from source and collects its output. */
export function runCli(
  args: readonly string[],
  options: { stdin?: string | Uint8Array; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return runProcess(process.execPath, ['--conditions=@ocikit/source', bin, ...args], {
    ...options,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
}

/** Runs a program with `stdin` (default: none) and collects its output and exit code. */
export function runProcess(
  file: string,
  args: readonly string[],
  options: { stdin?: string | Uint8Array; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

/** Builds the busybox test image and copies it into the local store of `root` as `busybox`. */
export async function storeBusybox(root: string): Promise<void> {
  const layout = join(mkdtempSync(join(tmpdir(), 'ocikit-busybox-')), 'layout');
  buildBusyboxImage(layout, 'busybox');
  const copied = await runCli(['--root', root, 'copy', `oci:${layout}:busybox`, 'local:busybox']);
  if (copied.code !== 0) throw new Error(`cannot store the busybox test image: ${copied.stderr}`);
}
