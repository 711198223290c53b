// `ocikit commit` and `ocikit history` on the local engine, through the real entry point: a container
// that wrote a file and removed one is committed with changes; the new image runs and sees both;
// history shows docker's columns, -q, --no-trunc, --human=false and --json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, storeBusybox } from '../lib/test-cli.ts';

let root: string;
const cli = (args: string[]) => runCli(['--root', root, ...args]);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ocikit-cli-commit-'));
  await storeBusybox(root);
}, 60_000);

afterAll(async () => {
  await cli(['rm', '-f', 'to-commit']);
  rmSync(root, { recursive: true, force: true });
});

describe('ocikit commit and ocikit history', () => {
  it('commits a written file and a whiteout with --change, -m, -a; the image runs; history lists the step', async () => {
    const ran = await cli([
      ...['run', '--name', 'to-commit', 'busybox'],
      ...['sh', '-c', 'echo made > /made && rm /etc/group && true'],
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    const committed = await cli([
      ...['commit', '-c', 'CMD ["cat", "/made"]', '--change', 'ENV A=1'],
      ...['-m', 'by the test', '-a', 'ocikit', 'to-commit', 'committed:1'],
    ]);
    expect(committed.code, committed.stderr).toBe(0);
    const id = committed.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);

    const out = await cli(['run', '--rm', 'committed:1']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe('made\n');
    const gone = await cli(['run', '--rm', 'committed:1', 'sh', '-c', 'test -e /etc/group || echo gone']);
    expect(gone.stdout).toBe('gone\n');

    const table = await cli(['history', 'committed:1']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${id.slice(7, 19)}\\s+(?:Less than a second|\\d+ seconds?|About a minute) ago\\s+sh -c 'echo made > /made && rm /etc/group &&…\\s+\\d+(?:\\.\\d+)?[kM]?B\\s+by the test$`,
      ),
    );
    // the base image's step: its id, since the store holds it; its layer's size uncompressed
    expect(lines[2]).toMatch(/^[0-9a-f]{12}\s+\d+ years ago\s+@ocikit\/test-images\s+2MB$/);

    const quiet = await cli(['-q', 'history', 'committed:1']);
    expect(quiet.stdout.split('\n')[0]).toBe(id.slice(7, 19));
    const whole = await cli(['history', '--no-trunc', '--human=false', 'committed:1']);
    expect(whole.stdout).toContain(id);
    expect(whole.stdout).toContain("sh -c 'echo made > /made && rm /etc/group && true'");
    expect(whole.stdout).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    const json = await cli(['--json', 'history', 'committed:1']);
    const entries = JSON.parse(json.stdout) as { id?: string; comment?: string; emptyLayer: boolean }[];
    expect(entries[0]).toMatchObject({ id, comment: 'by the test', emptyLayer: false });
  }, 60_000);

  it('refuses a bad --format, a bad change and a missing image name with one clear line', async () => {
    const format = await cli(['commit', '--format', 'zip', 'to-commit', 'x:1']);
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('give oci or docker');
    const change = await cli(['commit', '-c', 'RUN make', 'to-commit', 'x:1']);
    expect(change.code).toBe(1);
    expect(change.stderr).toContain('bad change');
    const unnamed = await cli(['commit', 'to-commit']);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toContain('by name');
    const missing = await cli(['history', 'no-such-image:1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no-such-image');
  }, 60_000);
});
