// The engine contract against podman's libpod API (`podman system service`) through the podman driver.
import { Engine } from '@ocikit/engine';
import { describeEngineContract } from './contract-suite.ts';
import { driverFrom } from './drivers.ts';
import { startPodmanService } from './podman.ts';

describeEngineContract('podman driver, libpod API', async ({ registryHost }) => {
  const driver = await driverFrom('@ocikit/engine', 'podmanDriver');
  const podman = await startPodmanService({ insecureRegistries: [registryHost] });
  const engine = await Engine.connect(driver, podman.host).catch(async (e: unknown) => {
    await podman.stop();
    throw e;
  });
  return {
    engine,
    driver,
    deadAddress: `unix://${podman.dir}/nothing-listens.sock`,
    close: async () => {
      await engine.close();
      await podman.stop();
    },
  };
});
