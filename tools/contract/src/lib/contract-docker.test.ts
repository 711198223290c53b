// The engine contract against a real dockerd (Debian's docker.io, API 1.41) through the docker driver.
import { dockerDriver } from '@ocikit/engine';
import { startDockerd } from '@ocikit/test-engines';
import { describeEngineContract, engineTarget } from './contract-suite.ts';

describeEngineContract('docker driver, dockerd', async ({ insecureRegistries }) =>
  engineTarget(dockerDriver, await startDockerd({ insecureRegistries })),
);
