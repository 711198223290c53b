// The engine contract against podman's libpod API (`podman system service`) through the podman driver.
import { podmanDriver } from '@ocikit/engine';
import { startPodmanService } from '@ocikit/test-engines';
import { describeEngineContract, engineTarget } from './contract-suite.ts';

describeEngineContract('podman driver, libpod API', async ({ insecureRegistries }) =>
  engineTarget(podmanDriver, await startPodmanService({ insecureRegistries })),
);
