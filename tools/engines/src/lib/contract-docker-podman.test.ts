// The engine contract against podman's Docker-compatible API (`podman system service`) through the
// docker driver.
import { dockerDriver as driver, Engine } from '@ocikit/engine';
import { describeEngineContract } from './contract-suite.ts';
import { startPodmanService } from './podman.ts';

describeEngineContract("docker driver, podman's Docker API", async ({ registryHost }) => {
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
