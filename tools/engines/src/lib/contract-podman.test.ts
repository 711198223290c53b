// The engine contract against podman's libpod API (`podman system service`) through the podman driver.
import { describeEngineContract, engineTarget } from './contract-suite.ts';
import { driverFrom } from './drivers.ts';
import { startPodmanService } from './podman.ts';

describeEngineContract('podman driver, libpod API', async ({ registryHost }) => {
  const driver = await driverFrom('@ocikit/engine', 'podmanDriver');
  return engineTarget(driver, await startPodmanService({ insecureRegistries: [registryHost] }));
});
