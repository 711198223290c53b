// The engine contract against a real dockerd (Debian's docker.io, API 1.41) through the docker driver.
import { dockerDriver as driver, Engine } from '@ocikit/engine';
import { describeEngineContract } from './contract-suite.ts';
import { startDockerd } from './dockerd.ts';

describeEngineContract('docker driver, dockerd', async ({ registryHost }) => {
  const dockerd = await startDockerd({ insecureRegistries: [registryHost] });
  const engine = await Engine.connect(driver, dockerd.host).catch(async (e: unknown) => {
    await dockerd.stop();
    throw e;
  });
  return {
    engine,
    driver,
    deadAddress: `unix://${dockerd.dir}/nothing-listens.sock`,
    close: async () => {
      await engine.close();
      await dockerd.stop();
    },
  };
});
