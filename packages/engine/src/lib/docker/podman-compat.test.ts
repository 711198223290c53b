// The docker driver against podman's Docker-compatible endpoint (`podman system service`, 4.3).
import { startPodmanService } from '@ocikit/test-engines';
import { describeDockerDriver } from './test-suite.ts';

describeDockerDriver('podman (Docker API)', (insecureRegistries) =>
  startPodmanService({ insecureRegistries }),
);
