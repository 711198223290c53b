// containers.prune and images.prune of the docker driver against a real dockerd (Debian's docker.io).
import { startDockerd } from '@ocikit/test-engines';
import { dockerDriver } from './driver.ts';
import { describePrune } from './test-prune.ts';

describePrune('dockerd', dockerDriver, () => startDockerd());
