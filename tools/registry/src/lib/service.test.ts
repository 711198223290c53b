// startService keeps a service's output without the service ever waiting on us: a test that blocks
// its event loop (execFileSync of a client, e.g. skopeo pushing to the registry) must not stall a
// service that writes more than a pipe holds (the registry's debug log did, and the push hung).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startService } from './service.ts';

it('a service writing 1 MB runs on while the test blocks synchronously, and its output is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocikit-service-test-'));
  const done = join(dir, 'done');
  const service = startService('sh', [
    '-c',
    `head -c 1000000 /dev/zero | tr '\\0' x; echo; echo end; touch ${done}; sleep 30`,
  ]);
  try {
    // blocks this process's event loop for up to 20 s (5 s were tight on a loaded machine), as
    // execFileSync of a client does; a service that waited on us would stay stuck for all of them
    const waited = execFileSync(
      'sh',
      ['-c', `for i in $(seq 200); do [ -e ${done} ] && echo ok && exit 0; sleep 0.1; done; echo stuck`],
      {
        encoding: 'utf8',
      },
    );
    expect(waited.trim()).toBe('ok');
    expect(service.output()).toMatch(/^x{1000000}\nend\n$/);
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // the output outlives the process
  expect(service.exit()).toBeDefined();
  expect(service.output()).toMatch(/\nend\n$/);
});
