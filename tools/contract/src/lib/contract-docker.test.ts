// The engine contract against a real dockerd (Debian's docker.io, API 1.41) through the docker driver.
import { dockerDriver } from '@ocikit/engine';
import { describeEngineContract, engineTarget } from './contract-suite.ts';
import { startDockerd } from '@ocikit/test-engines';

describeEngineContract('docker driver, dockerd', async ({ registryHost }) =>
  engineTarget(dockerDriver, await startDockerd({ insecureRegistries: [registryHost] })),
);
