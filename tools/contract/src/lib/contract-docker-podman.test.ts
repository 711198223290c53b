// The engine contract against podman's Docker-compatible API (`podman system service`) through the
// docker driver.
import { dockerDriver } from '@ocikit/engine';
import { startPodmanService } from '@ocikit/test-engines';
import { describeEngineContract, engineTarget } from './contract-suite.ts';

describeEngineContract("docker driver, podman's Docker API", async ({ insecureRegistries }) =>
  engineTarget(dockerDriver, await startPodmanService({ insecureRegistries })),
);
