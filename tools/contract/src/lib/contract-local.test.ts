// The engine contract against ocikit's own daemonless engine (@ocikit/local) over a temp state root.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '@ocikit/engine';
import { localDriver } from '@ocikit/local';
import { describeEngineContract } from './contract-suite.ts';

describeEngineContract('local driver', async () => {
  const driver = localDriver();
  const root = mkdtempSync(join(tmpdir(), 'ocikit-contract-local-'));
  const engine = await Engine.connect(driver, `local:${root}`);
  return {
    engine,
    driver,
    // a state root that cannot exist: under a file
    deadAddress: 'local:/dev/null/ocikit-contract',
    close: async () => {
      await engine.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
});
