// containers.prune and images.prune of the podman driver (the docker driver's handlers over podman's
// compatible API) against a real `podman system service`.
import { startPodmanService } from '@ocikit/test-engines';
import { podmanDriver } from '../podman/driver.ts';
import { describePrune } from './test-prune.ts';

describePrune('podman', podmanDriver, () => startPodmanService());
